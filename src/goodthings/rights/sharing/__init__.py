"""Sharing with recipients: signed webhook deliveries through the gate, retries, dead letters,
and webhook secrets rotated with an overlap."""

from goodthings.rights.sharing.rotation import (
    DEFAULT_OVERLAP,
    RotatedSecret,
    UnknownRecipient,
    current_secret,
    rotate_secret,
)
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
    "DEFAULT_OVERLAP",
    "HEADER",
    "Delivery",
    "RetryPolicy",
    "RotatedSecret",
    "UnknownDelivery",
    "UnknownRecipient",
    "WebhookSecrets",
    "current_secret",
    "deliver_due",
    "listing",
    "replay",
    "rotate_secret",
    "schedule",
    "signature",
    "verify",
]
