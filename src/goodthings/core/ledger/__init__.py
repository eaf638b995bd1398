"""The tamper-evident ledger: hash-chained entries, signed checkpoints, offline verification.

Callers append inside their own transaction (`ledger.append`) so a decision and its record
commit together; auditors read it back (`entries`, `checkpoints`) and `verify` it offline.
"""

from goodthings.core.ledger.chain import Checkpoint, Entry, content_digest, key_id
from goodthings.core.ledger.journal import CheckpointPolicy, append, checkpoints, entries
from goodthings.core.ledger.verify import VerifyResult, verify

__all__ = [
    "Checkpoint",
    "CheckpointPolicy",
    "Entry",
    "VerifyResult",
    "append",
    "checkpoints",
    "content_digest",
    "entries",
    "key_id",
    "verify",
]
