"""Whether a kept report was signed by this deployment and not changed since.

The deployment's signing keys are the one in `keys/signing.pub` and every key before it in
the kept key history (`keys/signing-history.jsonl`, each change signed by the old key and the
new), so a report signed before a `goodthings keys rotate-signing` still verifies after it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from goodthings.assessment.report import SIGNATURE_BROKEN, signature_holds
from goodthings.core.errors import DeploymentError, GoodthingsError
from goodthings.core.keys import SIGNING_PUBLIC_KEY
from goodthings.core.keys.files import parse_public_key
from goodthings.core.keys.signing import SIGNING_HISTORY, parse_history
from goodthings.core.ledger import key_history, key_id


def signature_problems(kept: bytes, keys_dir: Path) -> list[str]:
    """What does not hold about the signature of a kept report (`kept`, the file's bytes), in
    words; empty when it verifies with one of the deployment's signing keys.

    Only the signature is checked, not each evidence hash again (`report_problems` does, for
    an auditor): the signature covers them. The notices ask on every request, so the answer is
    kept for the exact bytes of the report and of the key files, and found from those bytes
    (never from the files read again, which may have changed since)."""
    return list(
        _problems(
            kept,
            _bytes(keys_dir / SIGNING_PUBLIC_KEY),
            _bytes(keys_dir / SIGNING_HISTORY) or b"",
            keys_dir,
        )
    )


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


@lru_cache(maxsize=16)
def _problems(
    kept: bytes, public: bytes | None, history_bytes: bytes, keys_dir: Path
) -> tuple[str, ...]:
    public_path = keys_dir / SIGNING_PUBLIC_KEY
    try:
        if public is None:
            raise DeploymentError(f"{public_path} is missing")
        history = key_history(
            parse_public_key(public, public_path),
            parse_history(history_bytes, keys_dir / SIGNING_HISTORY),
        )
    except GoodthingsError as error:
        return (f"the report cannot be checked: {error}",)
    try:
        signed = json.loads(kept)
    except ValueError:
        return ("the report is not JSON any more: it was changed",)
    signature = signed.get("signature") if isinstance(signed, dict) else None
    named = signature.get("key_id") if isinstance(signature, dict) else None
    key = next((key for key in history.keys if key_id(key) == named), None)
    if key is None:
        return (
            f"the report is signed with key {named!r}, which is none of this deployment's "
            "signing keys",
        )
    return () if signature_holds(signed, key) else (SIGNATURE_BROKEN,)
