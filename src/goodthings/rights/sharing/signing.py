"""Webhook signatures: each recipient has its own secret; each delivery is signed with HMAC.

The secret is derived from the deployment's master key and the recipient's id (HKDF), so the
hub stores nothing new and can show it again (`goodthings share secret`). The signature header
follows the common `t=<unix time>,v1=<hex>` form: HMAC-SHA256 over `<t>.<body>`, so a receiver
can reject replays older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac

from goodthings.core.keys import SecretRoot

HEADER = "X-Goodthings-Signature"


class WebhookSecrets:
    def __init__(self, root: SecretRoot) -> None:
        self._root = root

    def secret(self, recipient_id: str) -> str:
        raw = self._root.derive(b"goodthings-webhook:v1:" + recipient_id.encode())
        return "whs_" + raw.hex()

    def sign(self, recipient_id: str, body: bytes, timestamp: int) -> str:
        return signature(self.secret(recipient_id), body, timestamp)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a receiver recomputes to check a delivery."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        expected = signature(secret, body, int(parts.get("t", "")))
    except ValueError:
        return False
    return hmac.compare_digest(expected, header)
