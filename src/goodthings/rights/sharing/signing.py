"""Webhook signatures: each recipient has its own secret; each delivery is signed with HMAC.

The secret is derived from the deployment's master key, the recipient's id and the secret's
generation (HKDF), so the hub stores nothing secret and can show it again (`goodthings share
secret`). Generation 0 is the secret every recipient starts with; `goodthings share
rotate-secret` moves to the next (rights/sharing/rotation.py).

The header follows the common `t=<unix time>,v1=<hex>` form (Stripe's): HMAC-SHA256 over
`<t>.<body>`, so a receiver can reject replays older than a few minutes. While a rotation's
overlap lasts, the header carries one `v1=` per secret, the new one first
(`t=…,v1=<new>,v1=<old>`), as Stripe does when a secret is rolled; Standard Webhooks says the
same with a space-separated list in its own header format. A receiver accepts the delivery when
any `v1` matches a secret it knows, so it may switch to the new secret at any time during the
overlap.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from goodthings.core.keys import SecretRoot

HEADER = "X-Goodthings-Signature"


class WebhookSecrets:
    def __init__(self, root: SecretRoot) -> None:
        self._root = root

    def secret(self, recipient_id: str, generation: int = 0) -> str:
        if generation == 0:
            info = b"goodthings-webhook:v1:" + recipient_id.encode()
        else:
            # The generation ends at the colon: no id can make two pairs give one info.
            info = f"goodthings-webhook:v2:{generation}:{recipient_id}".encode()
        return "whs_" + self._root.derive(info).hex()

    def sign(
        self, recipient_id: str, body: bytes, timestamp: int, generations: Sequence[int] = (0,)
    ) -> str:
        """The header for a delivery, with one signature per generation given."""
        return signature(
            [self.secret(recipient_id, generation) for generation in generations], body, timestamp
        )


def signature(secrets: str | Sequence[str], body: bytes, timestamp: int) -> str:
    """The header value a receiver recomputes to check a delivery: one `v1` per secret."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    macs = ",".join(f"v1={_mac(secret, body, timestamp)}" for secret in keys)
    return f"t={timestamp},{macs}"


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute, and compare with each `v1` in constant time."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for name, value in parts if name == "t"]
    try:
        if len(stamps) != 1:
            return False
        expected = _mac(secret, body, int(stamps[0]))
    except ValueError:
        return False
    found = False
    for name, value in parts:
        if name == "v1":
            found |= hmac.compare_digest(expected, value)
    return found
