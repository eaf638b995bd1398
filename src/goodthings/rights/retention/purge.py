"""Retention: readings older than their stream's retention period are purged, each purge ledgered.

Retired streams keep their retention: their readings stay until it ends, then go like the rest.
One transaction per stream, so a purge and its ledger entry commit together.
"""

from __future__ import annotations

import json
import time as clock
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from goodthings.core import ledger
from goodthings.core.ledger import content_digest
from goodthings.core.store import Selection, delete_readings
from goodthings.core.store import tables as t


@dataclass(frozen=True)
class Purge:
    stream: str
    """`model-id/stream-name`."""
    deleted: int
    cutoff: float
    """Readings timed before this (Unix seconds) were deleted."""
    ledger_seq: int | None


def purge_expired(
    engine: Engine, signer: Ed25519PrivateKey, now: float | None = None
) -> list[Purge]:
    """Delete every reading past its stream's retention; one ledger entry per stream purged."""
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
    purges: list[Purge] = []
    for stream_id, model_id, name, seconds in streams:
        cutoff = moment - float(seconds)
        ref = f"{model_id}/{name}"
        with engine.begin() as connection:
            deleted = delete_readings(connection, Selection(stream_ids=(stream_id,), end=cutoff))
            if not deleted:
                continue
            statement = {"stream": ref, "cutoff": cutoff, "deleted": deleted}
            entry = ledger.append(
                connection,
                signer,
                actor="hub:retention",
                action="purge",
                target=f"stream:{ref}",
                counts={"deleted": int(deleted)},
                digest=content_digest([json.dumps(statement, sort_keys=True).encode()]),
            )
        purges.append(Purge(ref, int(deleted), cutoff, entry.seq))
    return purges
