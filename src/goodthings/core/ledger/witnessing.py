"""Acting as another hub's witness: accept its signed checkpoints over HTTP and keep them.

A second goodthings instance, configured with the first hub's public key, takes each checkpoint
the hub pushes (`POST /witness/checkpoints`) only if it is signed by that key and continues what
it holds: a seq beyond its newest, or the newest again with the same hash (a retry). A seq
below its newest, or the newest with another hash, is refused and kept nowhere: the hub was
rolled back or forked, and what the witness holds is the evidence. Accepted checkpoints are
appended to the witness's own file in the witness-file format (`witness.py`), under a file lock,
so several workers of the witness append one after another.

The hub's signing key can change (`goodthings keys rotate-signing`): the hub pushes each key
change too (`POST /witness/keys`), and the witness keeps it only if the key history it then
holds is intact from the key it was configured with (each change signed by the key before and
the key after, `keychain.py`). Checkpoints are then checked with the key of their seq.

What it adds to the witness file: the copy is on another instance, written at once rather than
shipped by hand, and a rollback is refused when it happens. What it does not: a hash chain
gives no consistency proof between two checkpoints (see docs/operations.md on Merkle trees), so
the witness checks order and signatures, not that the entries in between are unchanged; that is
`goodthings ledger verify --witness-url` against the hub's database.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.chain import Checkpoint
from goodthings.core.ledger.keychain import KeyChange, key_history
from goodthings.core.ledger.verify import checkpoint_problem
from goodthings.core.ledger.witness import Witness, read_witness


@dataclass(frozen=True)
class Witnessed:
    """What the witness made of a checkpoint pushed to it."""

    accepted: bool
    reason: str | None
    newest_seq: int
    """The newest seq the witness holds afterwards."""
    unsigned: bool = False
    """Refused because the peer's key does not vouch for it (rather than for its place)."""


def accept(
    path: Path,
    peer: Ed25519PublicKey,
    checkpoint: Checkpoint,
    changes: Sequence[KeyChange] = (),
) -> Witnessed:
    """Keep `checkpoint` in the witness file at `path` if it continues what it holds."""
    if not isinstance(checkpoint.seq, int) or checkpoint.seq < 1:
        return Witnessed(
            False, f"seq {checkpoint.seq!r} cannot be a checkpoint's", 0, unsigned=True
        )
    try:
        problem = checkpoint_problem(checkpoint, key_history(peer, changes))
    except LedgerError as exc:
        problem = str(exc)
    path.touch(mode=0o600, exist_ok=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held = _held(path)
        newest = held[-1] if held else None
        newest_seq = newest.seq if newest else 0
        if problem is not None:
            return Witnessed(False, problem, newest_seq, unsigned=True)
        if newest is not None and checkpoint.seq == newest.seq:
            if checkpoint.hash == newest.hash:
                return Witnessed(True, None, newest_seq)
            return Witnessed(
                False,
                f"the witness holds another hash for entry {newest.seq}: the ledger was forked "
                "or rewritten",
                newest_seq,
            )
        if checkpoint.seq < newest_seq:
            return Witnessed(
                False,
                f"the witness holds a checkpoint at entry {newest_seq}, beyond entry "
                f"{checkpoint.seq}: the ledger was rolled back",
                newest_seq,
            )
        Witness(path).append([checkpoint])
        return Witnessed(True, None, checkpoint.seq)
    finally:
        os.close(fd)


def _held(path: Path) -> list[Checkpoint]:
    return read_witness(path) if path.stat().st_size else []


def read_key_changes(path: Path) -> list[KeyChange]:
    """The key changes a witness keeps (`accept_key_change`), oldest first."""
    if not path.exists():
        return []
    try:
        return [
            KeyChange(**json.loads(line))
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except (ValueError, TypeError):
        raise LedgerError(f"{path} is not a file of key changes") from None


def accept_key_change(path: Path, peer: Ed25519PublicKey, change: KeyChange) -> str | None:
    """Keep `change` in the file at `path` if the history stays intact from `peer`; returns why
    not, or None when it is kept (or was already)."""
    path.touch(mode=0o600, exist_ok=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held = read_key_changes(path)
        if any(kept.new_key_id == change.new_key_id for kept in held):
            return None
        try:
            key_history(peer, [*held, change])
        except LedgerError as exc:
            return str(exc)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(change), sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return None
    finally:
        os.close(fd)
