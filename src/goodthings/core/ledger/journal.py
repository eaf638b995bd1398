"""The ledger in the database: append inside the caller's transaction, read back for checks.

Appending goes through the single `ledger_head` row, updated first: that takes the write lock
(SQLite) or the row lock (PostgreSQL), so concurrent hub workers append one after another and
the chain never forks. The entry commits or rolls back with the data it records. The head
also names the current signing key once it was rotated (`change_key`), and every append reads it
under that lock, so each process signs with the key the ledger says is current (core/ledger/signer.py).
"""

from __future__ import annotations

import time as clock
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, RowMapping, insert, select, update

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.anchors import Anchor, Head
from goodthings.core.ledger.chain import (
    Checkpoint,
    Entry,
    checkpoint_due,
    key_id,
    make_entry,
    sign_checkpoint,
    utc_timestamp,
)
from goodthings.core.ledger.keychain import (
    ROTATE_SIGNING,
    KeyChange,
    KeyHistory,
    key_change_digest,
    key_history,
    sign_key_change,
)
from goodthings.core.ledger.signer import signer_for
from goodthings.core.ledger.verify import VerifyResult, verify
from goodthings.core.ledger.witness import note_checkpoint
from goodthings.core.store import tables as t


@dataclass(frozen=True)
class CheckpointPolicy:
    """Sign at least every `every_entries` entries or `every_seconds` seconds.

    `every_entries` is also the longest unsigned tail `goodthings ledger verify` accepts. A
    signature costs some hundredths of a millisecond (`goodthings bench`: `ledger_sign_ms`),
    so signing this often costs nothing measurable, and keeps the part of the ledger that only
    the chain protects to at most 100 entries or one second of work.
    """

    every_entries: int = 100
    every_seconds: float = 1.0


def append(
    connection: Connection,
    signer: Ed25519PrivateKey,
    *,
    actor: str,
    action: str,
    target: str,
    purpose: str | None = None,
    counts: Mapping[str, int] | None = None,
    digest: str = "",
    policy: CheckpointPolicy = CheckpointPolicy(),
) -> Entry:
    """Add one entry (and a signed checkpoint when one is due) in `connection`'s transaction.

    `target` is what was acted on: the entry's `object` field.
    """
    row = _take_head(connection)
    previous = _previous(connection, row["seq"] - 1, row["hash"])
    signer = signer_for(signer, row["key_id"])
    entry = make_entry(
        previous,
        time=utc_timestamp(),
        actor=actor,
        action=action,
        object=target,
        purpose=purpose,
        counts=counts or {},
        digest=digest,
    )
    connection.execute(_INSERT_ENTRY, _entry_row(entry))
    values: dict[str, object] = {"hash": entry.hash}
    now = clock.time()
    if checkpoint_due(
        row["checkpoint_seq"],
        row["checkpoint_at"],
        entry.seq,
        now,
        policy.every_entries,
        policy.every_seconds,
    ):
        checkpoint = sign_checkpoint(entry, signer, entry.time)
        connection.execute(_INSERT_CHECKPOINT, _checkpoint_row(checkpoint))
        note_checkpoint(connection, checkpoint)
        values.update(checkpoint_seq=entry.seq, checkpoint_at=now)
    connection.execute(_MOVE_HEAD, values)
    return entry


def sign_head(engine: Engine, signer: Ed25519PrivateKey) -> Checkpoint | None:
    """Sign the newest entry if no checkpoint covers it yet; returns the checkpoint, if any.

    `goodthings serve` calls this every second, so entries appended just before a quiet spell
    do not stay unsigned until the next append.
    """
    with engine.connect() as connection:
        current = head(connection)
    if current.seq == current.checkpoint_seq:
        return None
    with engine.begin() as connection:
        connection.execute(_LOCK_HEAD)
        current = head(connection)
        if current.seq == current.checkpoint_seq:
            return None
        newest = _previous(connection, current.seq, current.hash)
        assert newest is not None  # seq > checkpoint_seq >= 0
        checkpoint = sign_checkpoint(newest, signer_for(signer, current.key_id), utc_timestamp())
        connection.execute(_INSERT_CHECKPOINT, _checkpoint_row(checkpoint))
        note_checkpoint(connection, checkpoint)
        connection.execute(
            _MOVE_HEAD, {"checkpoint_seq": current.seq, "checkpoint_at": clock.time()}
        )
    return checkpoint


def change_key(
    engine: Engine, old: Ed25519PrivateKey, new: Ed25519PrivateKey, *, actor: str = "operator"
) -> KeyChange | None:
    """Record in the ledger that `new` signs from now on, signed by both keys, and sign the
    recording entry with `new` at once; None when the ledger already names `new` (a resumed
    rotation). Refused unless `old` is the ledger's current key."""
    old_id, new_id = key_id(old.public_key()), key_id(new.public_key())
    with engine.connect() as connection:
        current = head(connection).key_id
    if current == new_id:
        return None
    if (current or old_id) != old_id:
        raise LedgerError(
            f"the ledger's signing key is {current!r}, not {old_id!r}: only the current key can "
            "hand over to a new one"
        )
    return record_key_changes(
        engine, [sign_key_change(0, utc_timestamp(), old, new)], new, actor=actor
    )[0]


def record_key_changes(
    engine: Engine, changes: Sequence[KeyChange], signer: Ed25519PrivateKey, *, actor: str
) -> list[KeyChange]:
    """Append one entry per key change, in one transaction, and sign the last with `signer`,
    the newest key. Also how a database restored from before a change takes it over again:
    the changes are signed already, and their seqs become those of the new entries."""
    recorded: list[KeyChange] = []
    with engine.begin() as connection:
        for change in changes:
            row = _take_head(connection)
            if (row["key_id"] or change.old_key_id) != change.old_key_id:
                raise LedgerError(
                    f"the ledger's signing key is {row['key_id']!r}, but the key change hands "
                    f"over from {change.old_key_id!r}"
                )
            placed = replace(change, seq=row["seq"])
            entry = make_entry(
                _previous(connection, row["seq"] - 1, row["hash"]),
                time=utc_timestamp(),
                actor=actor,
                action=ROTATE_SIGNING,
                object=f"signing-key:{change.old_key_id}->{change.new_key_id}",
                purpose=None,
                counts={},
                digest=key_change_digest(placed),
            )
            connection.execute(_INSERT_ENTRY, _entry_row(entry))
            connection.execute(insert(t.ledger_keys), asdict(placed))
            values: dict[str, object] = {"hash": entry.hash, "key_id": change.new_key_id}
            if change is changes[-1]:
                if key_id(signer.public_key()) != change.new_key_id:
                    raise LedgerError("the newest key change must be signed by its new key")
                checkpoint = sign_checkpoint(entry, signer, entry.time)
                connection.execute(_INSERT_CHECKPOINT, _checkpoint_row(checkpoint))
                note_checkpoint(connection, checkpoint)
                values.update(checkpoint_seq=entry.seq, checkpoint_at=clock.time())
            connection.execute(_MOVE_HEAD, values)
            recorded.append(placed)
    return recorded


def key_changes(connection: Connection) -> list[KeyChange]:
    """The ledger's key history, oldest change first (empty until the key is first rotated)."""
    rows = connection.execute(select(t.ledger_keys).order_by(t.ledger_keys.c.seq))
    return [KeyChange(**row) for row in rows.mappings()]


def stored_history(engine: Engine, trusted: Ed25519PublicKey) -> KeyHistory:
    """The stored key history, checked from `trusted` (any key of it); refused if it fails."""
    with engine.connect() as connection:
        return key_history(trusted, key_changes(connection))


# Built once: append runs for every ingest batch, and building a statement costs more in
# SQLAlchemy than executing a cached one (a quarter of an HTTP worker's time, when built per call).
_HEAD = t.ledger_head
_TAKE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1)
_READ_HEAD = select(_HEAD).where(_HEAD.c.id == 1)
_TAKE_AND_READ_HEAD = _TAKE_HEAD.returning(*_HEAD.c)


def _take_head(connection: Connection) -> RowMapping:
    """Move the head on by one, taking its lock, and read it: one statement where the database
    returns what an UPDATE wrote (PostgreSQL; SQLite from 3.35), two elsewhere. An append is
    then three statements instead of four (the ledger's share of a group commit)."""
    if connection.dialect.update_returning:
        return connection.execute(_TAKE_AND_READ_HEAD).mappings().one()
    connection.execute(_TAKE_HEAD)
    return connection.execute(_READ_HEAD).mappings().one()


# A write that changes nothing: it takes the same lock as an append, on SQLite and PostgreSQL.
_LOCK_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(checkpoint_seq=_HEAD.c.checkpoint_seq)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)
_INSERT_ENTRY = insert(t.ledger_entries)
_INSERT_CHECKPOINT = insert(t.ledger_checkpoints)


def _previous(connection: Connection, seq: int, hash: str) -> Entry | None:
    """The entry `make_entry` chains from; only its seq and hash matter."""
    if seq == 0:
        return None
    return Entry(
        seq=seq,
        time="",
        actor="",
        action="",
        object="",
        purpose=None,
        counts={},
        digest="",
        prev_hash="",
        hash=hash,
    )


def _entry_row(entry: Entry) -> dict[str, object]:
    return {
        "seq": entry.seq,
        "time": entry.time,
        "actor": entry.actor,
        "action": entry.action,
        "object": entry.object,
        "purpose": entry.purpose,
        "counts": dict(entry.counts),
        "digest": entry.digest,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _checkpoint_row(checkpoint: Checkpoint) -> dict[str, object]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "time": checkpoint.time,
        "signature": checkpoint.signature,
        "key_id": checkpoint.key_id,
    }


def entries(connection: Connection, *, batch: int = 5000) -> Iterator[Entry]:
    """Every entry in order, read in pages so millions of entries fit in constant memory."""
    last = 0
    while True:
        rows = (
            connection.execute(
                select(t.ledger_entries)
                .where(t.ledger_entries.c.seq > last)
                .order_by(t.ledger_entries.c.seq)
                .limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield Entry(**{key: row[key] for key in _ENTRY_FIELDS})
        last = rows[-1]["seq"]


_ENTRY_FIELDS = (
    "seq",
    "time",
    "actor",
    "action",
    "object",
    "purpose",
    "counts",
    "digest",
    "prev_hash",
    "hash",
)


def checkpoints(connection: Connection) -> list[Checkpoint]:
    rows = connection.execute(select(t.ledger_checkpoints).order_by(t.ledger_checkpoints.c.seq))
    return [Checkpoint(**row) for row in rows.mappings()]


def head(connection: Connection) -> Head:
    """The store's head row: the newest entry (seq 0 before the first) and newest checkpoint."""
    row = connection.execute(_READ_HEAD).mappings().one()
    return Head(
        seq=row["seq"],
        hash=row["hash"],
        checkpoint_seq=row["checkpoint_seq"],
        key_id=row["key_id"],
    )


def check(
    engine: Engine,
    public_key: Ed25519PublicKey,
    *,
    max_unsigned_tail: int | None = None,
    anchors: Sequence[Anchor] = (),
    witness: Sequence[Checkpoint] = (),
) -> VerifyResult:
    """Verify the stored ledger against its head and the anchors, from one consistent snapshot:
    entries a running hub appends meanwhile are neither counted nor mistaken for tampering."""
    with _snapshot(engine) as connection:
        return verify(
            entries(connection),
            checkpoints(connection),
            public_key,
            max_unsigned_tail=max_unsigned_tail,
            head=head(connection),
            anchors=anchors,
            witness=witness,
            key_changes=key_changes(connection),
        )


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            # pysqlite starts no transaction for reads; in WAL mode an explicit one is a snapshot.
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.rollback()
        return
    repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with repeatable as connection, connection.begin():
        yield connection
