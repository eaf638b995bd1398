"""The tamper-evident ledger: hash-chained entries, signed checkpoints, offline verification.

Callers append inside their own transaction (`ledger.append`) so a decision and its record
commit together; auditors read it back (`entries`, `checkpoints`, `head`) and `verify` it
offline, or `check` the stored ledger against its head, receipts' `Anchor`s and the witness
file (`attach_witness`, `read_witness`).
"""

from goodthings.core.ledger.anchors import Anchor, Head
from goodthings.core.ledger.chain import (
    Checkpoint,
    Entry,
    content_digest,
    key_id,
    sign_checkpoint,
    utc_timestamp,
)
from goodthings.core.ledger.journal import (
    CheckpointPolicy,
    append,
    check,
    checkpoints,
    entries,
    head,
    sign_head,
)
from goodthings.core.ledger.verify import VerifyResult, checkpoint_problem, verify
from goodthings.core.ledger.witness import attach_witness, read_witness

__all__ = [
    "Anchor",
    "Checkpoint",
    "CheckpointPolicy",
    "Entry",
    "Head",
    "VerifyResult",
    "append",
    "attach_witness",
    "check",
    "checkpoint_problem",
    "checkpoints",
    "content_digest",
    "entries",
    "head",
    "key_id",
    "read_witness",
    "sign_checkpoint",
    "sign_head",
    "utc_timestamp",
    "verify",
]
