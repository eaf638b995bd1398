"""Signed receipts for people: one per consent change, one per erasure, verifiable offline, so a
person can prove what the hub recorded without trusting it. Each carries the ledger's position
at issue, so the receipts people keep also prove the ledger was not rolled back."""

from goodthings.rights.receipts.ledger_position import ReceiptAnchors, position, read_anchors
from goodthings.rights.receipts.signing import ReceiptError, Verified, sign, verify

__all__ = [
    "ReceiptAnchors",
    "ReceiptError",
    "Verified",
    "position",
    "read_anchors",
    "sign",
    "verify",
]
