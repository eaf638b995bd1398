"""Offline verification of a ledger: does it still hold exactly what the hub wrote and signed?

Needs only the entries, the checkpoints and the hub's public key, so an auditor can run it on
an export without trusting the hub. Entries are read as a stream, once, in seq order: memory
use does not grow with the ledger. The first fault found stops verification, and faults are
reported in chain order, so `first_bad_seq` is the earliest point from which the ledger cannot
be trusted.

What a passing result proves: entries 1..`last_checkpoint_seq` are exactly those the key holder
signed. The `unsigned_tail` after that is protected only by the chain, which anyone can
recompute: until the next checkpoint signs them, those entries can be rewritten or cut off the
end without trace (and if every checkpoint is removed, so can the whole ledger). Callers that
know the checkpoint policy can pass `max_unsigned_tail` to turn a tail longer than the policy
allows into a failure.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.chain import (
    GENESIS_HASH,
    Checkpoint,
    Entry,
    checkpoint_statement,
    entry_hash,
    key_id,
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


def _signature_problem(
    checkpoint: Checkpoint, public_key: Ed25519PublicKey, ours: str
) -> str | None:
    """Why this checkpoint's signature cannot be trusted, or None if it can."""
    where = f"checkpoint at entry {checkpoint.seq}"
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
) -> VerifyResult:
    """Check the chain and every checkpoint; see the module docstring for what a pass proves.

    `entries` may be any iterable (a database cursor, a file reader) and is consumed once.
    Checkpoints are few, so they are all judged up front, but each fault is only reported when
    the stream reaches its seq, so the earliest fault wins whichever list it is in.
    """
    ours = key_id(public_key)
    # seq -> (the checkpoint whose hash the entry must match, the first fault at that seq)
    pending: dict[int, tuple[Checkpoint, str | None]] = {}
    highest = 0
    for index, checkpoint in enumerate(checkpoints):
        seq = checkpoint.seq
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            return VerifyResult(
                ok=False,
                entries=0,
                checkpoints=0,
                first_bad_seq=None,
                reason=f"checkpoint {index + 1} in the list names entry {seq!r}, which cannot "
                "exist (the checkpoint was changed)",
                last_checkpoint_seq=None,
                unsigned_tail=0,
            )
        problem = _signature_problem(checkpoint, public_key, ours)
        if problem is None and seq <= highest:
            problem = (
                f"checkpoint at entry {seq} is listed after the checkpoint at entry {highest} "
                "(checkpoints must be in increasing order; one was moved or duplicated)"
            )
        highest = max(highest, seq)
        first, earlier_problem = pending.get(seq, (checkpoint, None))
        pending[seq] = (first, earlier_problem or problem)

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
        if entry.seq != expected:
            return result(expected, _sequence_problem(expected, entry.seq))
        if entry.prev_hash != prev_hash:
            if expected == 1:
                why = "entry 1: its prev_hash is not the genesis value of 64 zeros (changed)"
            else:
                why = (
                    f"entry {expected}: its prev_hash does not match the hash of entry "
                    f"{expected - 1} (an entry before it was replaced, inserted or removed, "
                    "or its prev_hash was changed)"
                )
            return result(expected, why)
        try:
            actual = entry_hash(entry)
        except LedgerError as exc:
            return result(expected, f"entry {expected}: its content cannot be encoded ({exc})")
        if actual != entry.hash:
            return result(
                expected,
                f"entry {expected}: its hash does not match its content "
                "(changed after it was written)",
            )
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
    if max_unsigned_tail is not None and count - (last_checkpoint or 0) > max_unsigned_tail:
        start = (last_checkpoint or 0) + 1
        return result(
            start,
            f"entries {start} to {count} are not covered by any signed checkpoint, but at most "
            f"{max_unsigned_tail} may be (checkpoints were removed, or the hub stopped signing)",
        )
    return result()
