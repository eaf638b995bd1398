"""Whether a kept report was signed by this deployment and not changed since.

The deployment's signing keys are the one in `keys/signing.pub` and every key before it in
the kept key history (`keys/signing-history.jsonl`, each change signed by the old key and the
new), so a report signed before a `goodthings keys rotate-signing` still verifies after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from goodthings.assessment.report import report_problems
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.core.keys.signing import read_history
from goodthings.core.ledger import key_history, key_id


def signature_problems(signed: Mapping[str, Any], keys_dir: Path) -> list[str]:
    """Everything that does not hold about a kept report's signature, in words; empty when it
    verifies with one of the deployment's signing keys."""
    try:
        history = key_history(
            load_public_key(keys_dir / SIGNING_PUBLIC_KEY), read_history(keys_dir)
        )
    except GoodthingsError as error:
        return [f"the report cannot be checked: {error}"]
    signature = signed.get("signature")
    named = signature.get("key_id") if isinstance(signature, dict) else None
    key = next((key for key in history.keys if key_id(key) == named), None)
    if key is None:
        return [
            f"the report is signed with key {named!r}, which is none of this deployment's "
            "signing keys"
        ]
    return report_problems(signed, key)
