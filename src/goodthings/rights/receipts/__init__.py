"""Signed receipts for people: one per consent change, one per erasure, verifiable offline, so a
person can prove what the hub recorded without trusting it. Each carries the ledger's position
at issue, so the receipts people keep also prove the ledger was not rolled back. Consent
receipts are JSON-LD in DPV after ISO/IEC TS 27560 (`record.py`); those of version 1 still
verify (`contents.py`)."""

from goodthings.rights.receipts.against_hub import disagreements
from goodthings.rights.receipts.contents import Summary, summary
from goodthings.rights.receipts.ledger_position import ReceiptAnchors, position, read_anchors
from goodthings.rights.receipts.signing import ReceiptError, Verified, sign, verify

__all__ = [
    "ReceiptAnchors",
    "ReceiptError",
    "Summary",
    "Verified",
    "disagreements",
    "position",
    "read_anchors",
    "sign",
    "summary",
    "verify",
]
