"""Offline verification of a ledger: does it still hold exactly what the hub wrote and signed?

Needs only the entries, the checkpoints and the hub's public key, so an auditor can run it on
an export without trusting the hub. Entries are read as a stream, once, in seq order: memory
use does not grow with the ledger. The first fault found stops verification, and faults are
reported in chain order, so `first_bad_seq` is the earliest point from which the ledger cannot
be trusted.

The rules, in the order they are checked:

0. the key history (`keychain`): each change of the signing key is signed by the key before it
   and the key after it, and the key given is one of them;
1. every checkpoint is signed by the key of its seq, and checkpoints are in increasing order;
2. entries are numbered 1, 2, 3 … with no gap, each `prev_hash` is the hash of the entry before
   it, and each hash matches its content;
3. each checkpoint's hash is the hash of the entry it names, and none names an entry beyond the
   end (the end was cut off);
4. each anchor (an entry's hash as a receipt or the witness file saw it) matches the entry at
   its seq, and none is beyond the end (the ledger was rolled back);
5. a witness checkpoint the database no longer holds means checkpoints were deleted;
6. a ledger with entries has at least one checkpoint: the hub signs its first entry at once;
7. the store's head names the last entry, its hash, the newest checkpoint and the current key;
9. each key change is recorded by an entry at its seq whose digest is the change's, and no
   other entry claims to record one;
8. with `max_unsigned_tail`, at most that many entries follow the newest checkpoint.

What a passing result proves: entries 1..`last_checkpoint_seq` are exactly those the key holder
signed, and the ledger is no shorter than any anchor it was given. The `unsigned_tail` after
the newest checkpoint is protected only by the chain and the head, which anyone with write
access to the database can recompute; and without anchors, deleting the newest entries and
checkpoints together with moving the head back leaves nothing to detect. docs/operations.md
(the threat model) says what each anchor adds.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.anchors import Anchor, Head
from goodthings.core.ledger.chain import (
    GENESIS_HASH,
    Checkpoint,
    Entry,
    checkpoint_statement,
    entry_hash,
    key_id,
)
from goodthings.core.ledger.keychain import (
    ROTATE_SIGNING,
    KeyChange,
    KeyHistory,
    key_change_digest,
    key_history,
)


@dataclass(frozen=True)
class VerifyResult:
    """The verdict, with enough detail to tell an operator where to look and what it means.

    On failure, `entries` and `checkpoints` count what was verified before the fault, and
    `first_bad_seq` is None only when the fault is in the checkpoint list itself rather than
    at a place in the chain.
    """

    ok: bool
    entries: int
    checkpoints: int
    first_bad_seq: int | None
    reason: str | None
    last_checkpoint_seq: int | None
    unsigned_tail: int


def _signature_problem(checkpoint: Checkpoint, history: KeyHistory) -> str | None:
    """Why this checkpoint's signature cannot be trusted, or None if it can."""
    where = f"checkpoint at entry {checkpoint.seq}"
    public_key = history.key_at(checkpoint.seq)
    ours = key_id(public_key)
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public_key.verify(
            signature, checkpoint_statement(checkpoint.seq, checkpoint.hash, checkpoint.time)
        )
    except (binascii.Error, ValueError, TypeError):
        return f"{where}: its signature is not valid base64 (the checkpoint was changed)"
    except InvalidSignature:
        if checkpoint.key_id != ours:
            return (
                f"{where}: it was signed by another key (key id {checkpoint.key_id!r}, "
                f"but the ledger's key is {ours!r})"
            )
        return (
            f"{where}: its signature does not verify with the ledger's public key "
            "(the checkpoint was forged or changed after it was signed)"
        )
    if checkpoint.key_id != ours:
        return (
            f"{where}: its signature is valid but its key id was changed "
            f"to {checkpoint.key_id!r} (expected {ours!r})"
        )
    return None


def checkpoint_problem(checkpoint: Checkpoint, history: KeyHistory) -> str | None:
    """Why the key of its seq in `history` does not vouch for this checkpoint, or None."""
    return _signature_problem(checkpoint, history)


def _sequence_problem(expected: int, seq: object) -> str:
    if not isinstance(seq, int) or isinstance(seq, bool):
        return f"entry {expected}: its sequence number {seq!r} is not a whole number (changed)"
    if expected == 1:
        return (
            f"the ledger does not start at entry 1: the first entry is numbered {seq} "
            "(entries were deleted from the start)"
        )
    if seq > expected:
        return (
            f"entry {expected} is missing: the entry after {expected - 1} is numbered {seq} "
            "(entries were deleted or reordered)"
        )
    return (
        f"entry {expected}: an entry numbered {seq} appears where entry {expected} should be "
        "(entries were duplicated, inserted or reordered)"
    )


def verify(
    entries: Iterable[Entry],
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey,
    *,
    max_unsigned_tail: int | None = None,
    head: Head | None = None,
    anchors: Sequence[Anchor] = (),
    witness: Sequence[Checkpoint] = (),
    key_changes: Sequence[KeyChange] = (),
) -> VerifyResult:
    """Check the chain, every checkpoint, the head and every anchor (see the module docstring).

    `entries` may be any iterable (a database cursor, a file reader) and is consumed once.
    Checkpoints are few, so they are all judged up front, but each fault is only reported when
    the stream reaches its seq, so the earliest fault wins whichever list it is in. `witness`
    holds the checkpoints of a witness file: each must be signed, and the ledger must still
    hold it. `public_key` may be any key of the history `key_changes` describes.
    """
    try:
        history = key_history(public_key, key_changes)
    except LedgerError as exc:
        return _refused(str(exc))
    changes = {change.seq: change for change in key_changes}
    # seq -> (the checkpoint whose hash the entry must match, the first fault at that seq)
    pending: dict[int, tuple[Checkpoint, str | None]] = {}
    highest = 0
    for index, checkpoint in enumerate(checkpoints):
        seq = checkpoint.seq
        if not _is_seq(seq):
            return _refused(
                f"checkpoint {index + 1} in the list names entry {seq!r}, which cannot "
                "exist (the checkpoint was changed)"
            )
        problem = _signature_problem(checkpoint, history)
        if problem is None and seq <= highest:
            problem = (
                f"checkpoint at entry {seq} is listed after the checkpoint at entry {highest} "
                "(checkpoints must be in increasing order; one was moved or duplicated)"
            )
        highest = max(highest, seq)
        first, earlier_problem = pending.get(seq, (checkpoint, None))
        pending[seq] = (first, earlier_problem or problem)
    expected_anchors, witness_problem = _anchors(anchors, witness, history)
    if witness_problem is not None:
        return _refused(witness_problem)
    stored_checkpoints = {checkpoint.seq for checkpoint in checkpoints}

    count = 0
    verified_checkpoints = 0
    last_checkpoint: int | None = None
    prev_hash = GENESIS_HASH

    def result(first_bad_seq: int | None = None, reason: str | None = None) -> VerifyResult:
        return VerifyResult(
            ok=reason is None,
            entries=count,
            checkpoints=verified_checkpoints,
            first_bad_seq=first_bad_seq,
            reason=reason,
            last_checkpoint_seq=last_checkpoint,
            unsigned_tail=count - (last_checkpoint or 0),
        )

    for entry in entries:
        expected = count + 1
        problem = _entry_problem(entry, expected, prev_hash)
        if problem is not None:
            return result(expected, problem)
        problem = _key_change_problem(entry, changes.get(expected))
        if problem is not None:
            return result(expected, problem)
        count = expected
        prev_hash = entry.hash
        if expected in pending:
            checkpoint, problem = pending.pop(expected)
            if problem is not None:
                return result(expected, problem)
            if checkpoint.hash != entry.hash:
                return result(
                    expected,
                    f"checkpoint at entry {expected}: the signed hash does not match entry "
                    f"{expected} (entries up to {expected} were rewritten after being signed)",
                )
            # Exactly one checkpoint names this seq: a duplicate would have been a problem above.
            verified_checkpoints += 1
            last_checkpoint = expected
        for anchor in expected_anchors.pop(expected, ()):
            if anchor.hash != entry.hash:
                return result(
                    expected,
                    f"{anchor.source} saw entry {expected} with hash {anchor.hash[:16]}…, but "
                    f"the ledger's entry {expected} now has hash {entry.hash[:16]}… (the ledger "
                    f"was rewritten at or before entry {expected})",
                )

    if pending:
        # A checkpoint beyond the end: either it is forged, or the end was cut off.
        seq = min(pending)
        _, problem = pending[seq]
        if problem is not None:
            return result(seq, problem)
        return result(
            count + 1,
            f"the ledger ends at entry {count}, but a signed checkpoint covers entry {seq}: "
            f"entries {count + 1} to {seq} at least were removed from the end",
        )
    beyond = [seq for seq in changes if seq > count]
    if beyond:
        return result(
            count + 1,
            f"the ledger ends at entry {count}, but the signing key was changed at entry "
            f"{min(beyond)}: entries {count + 1} to {min(beyond)} at least were removed",
        )
    if expected_anchors:
        seq = max(expected_anchors)
        return result(
            count + 1,
            f"the ledger ends at entry {count}, but {expected_anchors[seq][0].source} saw entry "
            f"{seq}: the ledger was rolled back (entries {count + 1} to {seq} at least were "
            "removed)",
        )
    lost = sorted(c.seq for c in witness if c.seq not in stored_checkpoints)
    if lost:
        return result(
            lost[0],
            f"the witness holds a signed checkpoint at entry {lost[0]} that the database no "
            "longer has (checkpoints were deleted)",
        )
    if count and last_checkpoint is None:
        return result(
            1,
            f"the ledger has {count} entr{'y' if count == 1 else 'ies'} but no signed checkpoint: the hub signs its first "
            "entry at once, so the checkpoints were deleted (and entries may have been "
            "rewritten)",
        )
    if head is not None:
        current = key_id(history.current) if key_changes else None
        problem = _head_problem(head, count, prev_hash, last_checkpoint or 0, current)
        if problem is not None:
            return result(min(head.seq, count) + 1, problem)
    if max_unsigned_tail is not None and count - (last_checkpoint or 0) > max_unsigned_tail:
        start = (last_checkpoint or 0) + 1
        return result(
            start,
            f"entries {start} to {count} are not covered by any signed checkpoint, but at most "
            f"{max_unsigned_tail} may be (checkpoints were removed, or the hub stopped signing)",
        )
    return result()


def _is_seq(seq: object) -> bool:
    return isinstance(seq, int) and not isinstance(seq, bool) and seq >= 1


def _refused(reason: str) -> VerifyResult:
    """A fault in the lists given, before any entry was read."""
    return VerifyResult(
        ok=False,
        entries=0,
        checkpoints=0,
        first_bad_seq=None,
        reason=reason,
        last_checkpoint_seq=None,
        unsigned_tail=0,
    )


def _entry_problem(entry: Entry, expected: int, prev_hash: str) -> str | None:
    """Why `entry` cannot be entry `expected` of the chain whose last hash is `prev_hash`."""
    if entry.seq != expected:
        return _sequence_problem(expected, entry.seq)
    if entry.prev_hash != prev_hash:
        if expected == 1:
            return "entry 1: its prev_hash is not the genesis value of 64 zeros (changed)"
        return (
            f"entry {expected}: its prev_hash does not match the hash of entry "
            f"{expected - 1} (an entry before it was replaced, inserted or removed, "
            "or its prev_hash was changed)"
        )
    try:
        actual = entry_hash(entry)
    except LedgerError as exc:
        return f"entry {expected}: its content cannot be encoded ({exc})"
    if actual != entry.hash:
        return (
            f"entry {expected}: its hash does not match its content (changed after it was written)"
        )
    return None


def _key_change_problem(entry: Entry, change: KeyChange | None) -> str | None:
    """Why `entry` and the key history disagree, or None when they do not."""
    if change is None:
        if entry.action == ROTATE_SIGNING:
            return (
                f"entry {entry.seq} records a change of the signing key that the key history "
                "does not hold (the change was deleted)"
            )
        return None
    if entry.action != ROTATE_SIGNING or entry.digest != key_change_digest(change):
        return (
            f"entry {entry.seq} does not record the signing-key change the key history puts "
            "there (the entry or the history was changed)"
        )
    return None


def _anchors(
    anchors: Sequence[Anchor],
    witness: Sequence[Checkpoint],
    history: KeyHistory,
) -> tuple[dict[int, list[Anchor]], str | None]:
    """Every anchor by seq, the witness's checkpoints among them once their signatures hold."""
    by_seq: dict[int, list[Anchor]] = {}
    for checkpoint in witness:
        if not _is_seq(checkpoint.seq):
            return {}, f"the witness names entry {checkpoint.seq!r}, which cannot exist"
        problem = _signature_problem(checkpoint, history)
        if problem is not None:
            return {}, f"the witness's {problem} (the witness file was changed)"
        source = "the witness file"
        by_seq.setdefault(checkpoint.seq, []).append(
            Anchor(checkpoint.seq, checkpoint.hash, source)
        )
    for anchor in anchors:
        if not _is_seq(anchor.seq):
            return {}, f"{anchor.source} names entry {anchor.seq!r}, which cannot exist"
        by_seq.setdefault(anchor.seq, []).append(anchor)
    return by_seq, None


def _head_problem(
    head: Head, count: int, last_hash: str, last_checkpoint: int, current_key: str | None
) -> str | None:
    """Why the store's head row does not describe this chain, or None when it does."""
    if head.seq > count:
        if count == 0:
            return (
                f"the ledger is empty, but its head says it holds {head.seq} entries "
                "(every entry was deleted)"
            )
        return (
            f"the ledger ends at entry {count}, but its head says entry {head.seq} is the "
            f"newest: entries {count + 1} to {head.seq} were removed from the end"
        )
    if head.seq < count:
        return (
            f"the head says entry {head.seq} is the newest, but the ledger holds {count} "
            "entries (the head was moved back, or entries were added around it)"
        )
    if count and head.hash != last_hash:
        return f"the head's hash does not match entry {count} (the head or the entry was changed)"
    if head.checkpoint_seq != last_checkpoint:
        return (
            f"the head says the newest checkpoint is at entry {head.checkpoint_seq}, but the "
            f"newest one in the ledger is at entry {last_checkpoint} (checkpoints were "
            "deleted or added)"
        )
    if head.key_id != current_key:
        return (
            f"the head says the signing key is {head.key_id!r}, but the key history ends with "
            f"{current_key!r} (the head or the key history was changed)"
        )
    return None
