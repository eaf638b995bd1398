"""Erasure: crypto-shredding first (unreadable at once), then purging, then a signed receipt."""

from goodthings.erasure.service import (
    ErasureError,
    ErasureOutcome,
    erase_subject,
    make_unreadable,
    pending_requests,
    purge,
    request_erasure,
)

__all__ = [
    "ErasureError",
    "ErasureOutcome",
    "erase_subject",
    "make_unreadable",
    "pending_requests",
    "purge",
    "request_erasure",
]
