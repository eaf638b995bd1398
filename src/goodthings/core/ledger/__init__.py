"""The tamper-evident ledger: hash-chained entries, signed checkpoints, offline verification.

Callers append inside their own transaction (`ledger.append`) so a decision and its record
commit together; auditors read it back (`entries`, `checkpoints`, `head`) and `verify` it
offline, or `check` the stored ledger against its head, receipts' `Anchor`s and the witness
file (`attach_witness`, `read_witness`). The signing key can change (`change_key`): the key
history (`key_changes`, `key_history`) says which key signs from which entry on, and a
`FollowingSigner` follows it in every process.
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
    change_key,
    check,
    checkpoints,
    entries,
    head,
    key_changes,
    record_key_changes,
    sign_head,
    stored_history,
)
from goodthings.core.ledger.keychain import KeyChange, KeyHistory, key_history
from goodthings.core.ledger.signer import FollowingSigner
from goodthings.core.ledger.verify import VerifyResult, checkpoint_problem, verify
from goodthings.core.ledger.witness import attach_witness, read_witness
from goodthings.core.ledger.witnessing import (
    Witnessed,
    accept,
    accept_key_change,
    read_key_changes,
)

__all__ = [
    "Anchor",
    "Checkpoint",
    "CheckpointPolicy",
    "Entry",
    "FollowingSigner",
    "Head",
    "KeyChange",
    "KeyHistory",
    "VerifyResult",
    "Witnessed",
    "accept",
    "accept_key_change",
    "append",
    "attach_witness",
    "change_key",
    "check",
    "checkpoint_problem",
    "checkpoints",
    "content_digest",
    "entries",
    "head",
    "key_changes",
    "key_history",
    "key_id",
    "read_key_changes",
    "read_witness",
    "record_key_changes",
    "sign_checkpoint",
    "sign_head",
    "stored_history",
    "utc_timestamp",
    "verify",
]
