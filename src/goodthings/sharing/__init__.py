"""Sharing with recipients: signed webhook deliveries through the gate, retries, dead letters."""

from goodthings.sharing.service import (
    DEAD,
    Delivery,
    RetryPolicy,
    UnknownDelivery,
    deliver_due,
    listing,
    replay,
    schedule,
)
from goodthings.sharing.signing import HEADER, WebhookSecrets, signature, verify

__all__ = [
    "DEAD",
    "HEADER",
    "Delivery",
    "RetryPolicy",
    "UnknownDelivery",
    "WebhookSecrets",
    "deliver_due",
    "listing",
    "replay",
    "schedule",
    "signature",
    "verify",
]
