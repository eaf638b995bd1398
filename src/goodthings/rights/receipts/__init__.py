"""Signed receipts for people: one per consent change, one per erasure, verifiable offline, so a
person can prove what the hub recorded without trusting it."""

from goodthings.rights.receipts.signing import ReceiptError, Verified, sign, verify

__all__ = ["ReceiptError", "Verified", "sign", "verify"]
