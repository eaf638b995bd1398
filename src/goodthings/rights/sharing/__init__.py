"""Sharing with recipients: signed webhook deliveries through the gate, retries, dead letters."""

from goodthings.rights.sharing.signing import HEADER, WebhookSecrets, signature, verify
from goodthings.rights.sharing.webhooks import (
    DEAD,
    Delivery,
    RetryPolicy,
    UnknownDelivery,
    deliver_due,
    listing,
    replay,
    schedule,
)

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
