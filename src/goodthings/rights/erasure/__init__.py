"""Erasure: crypto-shredding first (unreadable at once), then purging, then a signed receipt;
an erasure a killed process left half-way is finished by the next hub to open."""

from goodthings.rights.erasure.resume import resume_interrupted
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
    "resume_interrupted",
]
