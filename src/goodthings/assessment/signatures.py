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
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.core.keys.signing import SIGNING_HISTORY, read_history
from goodthings.core.ledger import key_history, key_id


def signature_problems(kept: bytes, keys_dir: Path) -> list[str]:
    """What does not hold about the signature of a kept report (`kept`, the file's bytes), in
    words; empty when it verifies with one of the deployment's signing keys.

    Only the signature is checked, not each evidence hash again (`report_problems` does, for
    an auditor): the signature covers them. The notices ask on every request, so the answer is
    kept for the exact bytes of the report and of the key files it was found for."""
    return list(
        _problems(
            kept,
            _bytes(keys_dir / SIGNING_PUBLIC_KEY),
            _bytes(keys_dir / SIGNING_HISTORY),
            keys_dir,
        )
    )


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


@lru_cache(maxsize=16)
def _problems(kept: bytes, _public: bytes, _history: bytes, keys_dir: Path) -> tuple[str, ...]:
    try:
        history = key_history(
            load_public_key(keys_dir / SIGNING_PUBLIC_KEY), read_history(keys_dir)
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
