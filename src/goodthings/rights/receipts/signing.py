"""The receipt envelope: a JSON document and an Ed25519 signature over its canonical bytes.

Format (version 1), precise enough to verify in another language::

    {"receipt": {...}, "signature": {"alg": "Ed25519", "key_id": "<16 hex>",
                                     "public_key": "<base64 raw 32 bytes>",
                                     "value": "<base64 signature>"}}

The signature is over ``b"goodthings-receipt:v1\\n"`` followed by the receipt's canonical JSON
(keys sorted, no whitespace, UTF-8, as the ledger's entries). `public_key` is a convenience
only: a receipt proves something when it verifies with the hub's published key
(`keys/signing.pub`), which is what `goodthings receipt verify --public-key` checks.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from goodthings.core.errors import GoodthingsError
from goodthings.core.ledger import key_id
from goodthings.rights.receipts import contents

PREFIX = b"goodthings-receipt:v1\n"


class ReceiptError(GoodthingsError):
    """A receipt is malformed, or its signature does not hold."""


@dataclass(frozen=True)
class Verified:
    receipt: Mapping[str, Any]
    key_id: str
    with_published_key: bool
    """True when checked against a key the caller trusts, not only the key inside the receipt."""


def canonical(receipt: Mapping[str, Any]) -> bytes:
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(receipt: Mapping[str, Any], signer: Ed25519PrivateKey) -> str:
    """The signed envelope as JSON text, ready to store and to hand to the person."""
    public = signer.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    envelope = {
        "receipt": dict(receipt),
        "signature": {
            "alg": "Ed25519",
            "key_id": key_id(public),
            "public_key": base64.b64encode(raw).decode(),
            "value": base64.b64encode(signer.sign(PREFIX + canonical(receipt))).decode(),
        },
    }
    return json.dumps(envelope, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def verify(
    text: str | bytes,
    public_key: Ed25519PublicKey | None = None,
    *,
    history: Sequence[Ed25519PublicKey] = (),
) -> Verified:
    """Check a receipt's shape and signature; with no key, the key it carries is used.

    `history` holds the hub's other signing keys, as its ledger's key history vouches for
    them (`ledger.key_history`): a receipt signed before or after a rotation checks with the key
    of its day."""
    try:
        envelope = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReceiptError(f"the receipt is not JSON: {exc}") from None
    if not isinstance(envelope, dict) or not {"receipt", "signature"} <= envelope.keys():
        raise ReceiptError("a receipt is a JSON object with 'receipt' and 'signature'")
    receipt, signature = envelope["receipt"], envelope["signature"]
    if not isinstance(receipt, dict) or not isinstance(signature, dict):
        raise ReceiptError("'receipt' and 'signature' must be JSON objects")
    _check_content(receipt)
    if signature.get("alg") != "Ed25519":
        raise ReceiptError(
            f"unknown signature algorithm {signature.get('alg')!r}; expected Ed25519"
        )
    trusted = public_key is not None
    key = public_key or _embedded_key(signature)
    key = {key_id(known): known for known in history}.get(str(signature.get("key_id")), key)
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
        key.verify(value, PREFIX + canonical(receipt))
    except (InvalidSignature, binascii.Error, ValueError):
        hint = "" if trusted else " (checked with the key inside the receipt)"
        raise ReceiptError(
            f"the signature does not match the receipt{hint}: it was changed or not signed by this hub"
        ) from None
    return Verified(receipt, key_id(key), trusted)


def _embedded_key(signature: Mapping[str, Any]) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(str(signature.get("public_key", "")), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise ReceiptError("the receipt carries no valid public key; pass --public-key") from None


def _check_content(receipt: Mapping[str, Any]) -> None:
    found = contents.problem(receipt)
    if found is not None:
        raise ReceiptError(found)
