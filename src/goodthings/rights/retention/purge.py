"""Retention: readings older than their stream's retention period are purged, each purge ledgered.

Retired streams keep their retention: their readings stay until it ends, then go like the rest.
One transaction per stream, so a purge and its ledger entry commit together.

A reading dated further ahead of the purge than the deployment's clock-skew allowance is due at
once: ingest refuses such times now, so one can only come from before it did (or from direct
SQL), and a date that cannot be true cannot say when the retention ends; keeping it until then
would keep it for ever. These are counted apart as `future_dated`.

On a partitioned PostgreSQL table (`core.store.partitions`) a month whose every reading is past
its stream's retention is dropped whole first, one transaction per month with one ledger entry
per stream it held (the entry names the month); the rows left past retention are then deleted
as on SQLite. Each run also makes the coming months' partitions, so ingest never has to.
"""

from __future__ import annotations

import json
import math
import time as clock
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from goodthings.core import ledger
from goodthings.core.ledger import content_digest
from goodthings.core.store import Selection, declared, delete_readings, partitions
from goodthings.core.store import tables as t


@dataclass(frozen=True)
class Purge:
    stream: str
    """`model-id/stream-name`."""
    deleted: int
    cutoff: float
    """Readings timed before this (Unix seconds) were deleted."""
    ledger_seq: int | None
    future_dated: int = 0
    """How many of the deleted were dated beyond the clock-skew allowance after the purge time."""
    partition: str | None = None
    """The month partition dropped whole (PostgreSQL), or None for rows deleted one by one."""


def purge_expired(
    engine: Engine,
    signer: Ed25519PrivateKey,
    now: float | None = None,
    step: Callable[[int, int, str], None] = lambda _done, _total, _stream: None,
) -> list[Purge]:
    """Delete every reading past its stream's retention; one ledger entry per stream purged.

    `step(done, total, stream)` is called before each stream, so a command can show progress.
    """
    moment = clock.time() if now is None else now
    with engine.connect() as connection:
        streams = connection.execute(
            select(
                t.streams.c.id,
                t.streams.c.model_id,
                t.streams.c.name,
                t.streams.c.retention_seconds,
            )
            .where(t.streams.c.retention_seconds.is_not(None))
            .order_by(t.streams.c.id)
        ).all()
        skew = declared.clock_skew(connection) or 0.0
    beyond = math.nextafter(moment + skew, math.inf)
    refs = {stream_id: f"{model_id}/{name}" for stream_id, model_id, name, _ in streams}
    cutoffs = {stream_id: moment - float(seconds) for stream_id, _, _, seconds in streams}
    purges = _drop_months(engine, signer, moment, cutoffs, refs)
    for done, (stream_id, model_id, name, seconds) in enumerate(streams):
        cutoff = moment - float(seconds)
        ref = f"{model_id}/{name}"
        step(done, len(streams), ref)
        with engine.begin() as connection:
            expired = delete_readings(connection, Selection(stream_ids=(stream_id,), end=cutoff))
            future = delete_readings(connection, Selection(stream_ids=(stream_id,), start=beyond))
            deleted = expired + future
            if not deleted:
                continue
            statement = {"stream": ref, "cutoff": cutoff, "deleted": deleted}
            if future:
                statement["future_dated"] = future
            entry = ledger.append(
                connection,
                signer,
                actor="hub:retention",
                action="purge",
                target=f"stream:{ref}",
                counts={"deleted": int(deleted), **({"future_dated": future} if future else {})},
                digest=content_digest([json.dumps(statement, sort_keys=True).encode()]),
            )
        purges.append(Purge(ref, int(deleted), cutoff, entry.seq, future))
    return purges


def _drop_months(
    engine: Engine,
    signer: Ed25519PrivateKey,
    moment: float,
    cutoffs: dict[int, float],
    refs: dict[int, str],
) -> list[Purge]:
    """Make the coming months, then drop the months wholly past retention (PostgreSQL)."""
    with engine.begin() as connection:
        partitions.ensure_ahead(connection, moment)
        due = partitions.droppable(connection, cutoffs, max(cutoffs.values(), default=0.0))
    purges: list[Purge] = []
    for month, _ in due:
        with engine.begin() as connection:
            # Again, with the month locked: a late reading of a stream kept longer keeps it.
            partitions.lock(connection, month)
            counts = partitions.counts_in(connection, month)
            if not all(month.end <= cutoffs.get(stream, -math.inf) for stream in counts):
                continue
            partitions.drop(connection, month)
            for stream_id, deleted in sorted(counts.items()):
                ref = refs[stream_id]
                statement = {"stream": ref, "cutoff": cutoffs[stream_id], "deleted": deleted}
                entry = ledger.append(
                    connection,
                    signer,
                    actor="hub:retention",
                    action="purge",
                    target=f"stream:{ref}",
                    counts={"deleted": deleted},
                    digest=content_digest(
                        [
                            json.dumps(
                                {**statement, "partition": month.name}, sort_keys=True
                            ).encode()
                        ]
                    ),
                )
                purges.append(Purge(ref, deleted, cutoffs[stream_id], entry.seq, 0, month.name))
    return purges
