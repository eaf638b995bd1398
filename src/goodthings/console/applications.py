"""Applications and recipients: each application's client, the purposes it may read for (its
scopes), when it last read and how much per purpose (from the ledger's `read` entries), and the
webhook deliveries to recipients with the dead letters an operator may replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.rights.sharing import DEAD, Delivery, listing

SHOWN_DELIVERIES = 30


@dataclass(frozen=True)
class PurposeReads:
    purpose: str
    reads: int
    readings: int
    """Readings returned over all those reads."""
    last: datetime | None


@dataclass(frozen=True)
class ApplicationSummary:
    id: str
    name: str
    operated_by: str
    streams: tuple[str, ...]
    purposes: tuple[PurposeReads, ...]
    client_since: datetime | None
    """When its OAuth2 client secret was issued; None while it has none."""


@dataclass(frozen=True)
class Sharing:
    applications: tuple[ApplicationSummary, ...]
    deliveries: tuple[Delivery, ...]
    """The newest `SHOWN_DELIVERIES`."""
    dead: tuple[Delivery, ...]


def _reads(connection: Connection) -> dict[tuple[str, str], PurposeReads]:
    e = t.ledger_entries.c
    found: dict[tuple[str, str], PurposeReads] = {}
    rows = connection.execute(
        select(e.actor, e.purpose, e.counts, e.time).where(e.action == "read").order_by(e.seq)
    )
    for actor, purpose, counts, time in rows:
        key = (actor.removeprefix("application:"), purpose or "")
        before = found.get(key, PurposeReads(purpose or "", 0, 0, None))
        found[key] = PurposeReads(
            before.purpose,
            before.reads + 1,
            before.readings + int(counts.get("returned", 0)),
            datetime.fromisoformat(time.replace("Z", "+00:00")),
        )
    return found


def sharing(connection: Connection) -> Sharing:
    reads = _reads(connection)
    secrets = dict(
        connection.execute(
            select(tt.application_secrets.c.application_id, tt.application_secrets.c.created_at)
        ).all()
    )
    a = t.applications.c
    applications = tuple(
        ApplicationSummary(
            id=app_id,
            name=name,
            operated_by=operated_by,
            streams=tuple(str(stream) for stream in spec.get("streams", [])),
            purposes=tuple(
                reads.get((app_id, purpose), PurposeReads(purpose, 0, 0, None))
                for purpose in purposes
            ),
            client_since=secrets.get(app_id),
        )
        for app_id, name, operated_by, purposes, spec in connection.execute(
            select(a.id, a.name, a.operated_by, a.purposes, a.spec)
            .where(a.retired_at.is_(None))
            .order_by(a.id)
        )
    )
    return Sharing(
        applications,
        tuple(listing(connection)[:SHOWN_DELIVERIES]),
        tuple(listing(connection, DEAD)),
    )
