"""Erasure: crypto-shredding first (unreadable at once), then purging, then a signed receipt."""

from goodthings.rights.erasure.shred import (
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
