"""Opt out as a passer-by, and ask what is held about a device address: one path for the web."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, select

from goodthings.core import ledger
from goodthings.core.keys import Keyring, ReadingOpener
from goodthings.core.ledger import content_digest
from goodthings.core.store import Selection, delete_by_id, select_readings
from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.policy import IdentifierKey, changes, identifier_streams, normalise


@dataclass(frozen=True)
class Held:
    readings: int
    places: tuple[str, ...]


def _matching(
    connection: Connection, keyring: Keyring, key: IdentifierKey, digest: str
) -> list[tuple[int, str]]:
    """(reading id, device id) of stored readings whose value is the address with `digest`."""
    streams = identifier_streams(connection)
    if not streams:
        return []
    rows = select_readings(connection, Selection(stream_ids=tuple(streams)))
    opener = ReadingOpener(keyring, connection)
    return [
        (row.id, row.device_id)
        for row, value in opener.readable(rows)
        if key.of_value(value) == digest
    ]


def held(
    engine: Engine, keyring: Keyring, key: IdentifierKey, signer: Ed25519PrivateKey, address: str
) -> Held:
    """How many readings carry the address now, and at which places; the request is ledgered."""
    digest = key.digest(normalise(address))
    with engine.begin() as connection:
        matching = _matching(connection, keyring, key, digest)
        devices = {device for _, device in matching}
        places = tuple(
            sorted(
                connection.execute(
                    select(t.devices.c.place_id).where(t.devices.c.id.in_(devices)).distinct()
                ).scalars()
            )
        )
        ledger.append(
            connection,
            signer,
            actor="passer-by",
            action="passerby.access",
            target="readings",
            counts={"held": len(matching)},
        )
    return Held(len(matching), places)


def opt_out(
    engine: Engine,
    keyring: Keyring,
    key: IdentifierKey,
    signer: Ed25519PrivateKey,
    address: str,
    place_id: str | None = None,
) -> int:
    """Record the opt-out (keyed hash only) and erase what is held; returns readings erased."""
    digest = key.digest(normalise(address))
    with engine.begin() as connection:
        known = connection.execute(
            select(tt.passerby_optouts.c.id).where(tt.passerby_optouts.c.digest == digest)
        ).first()
        if known is None:
            connection.execute(
                insert(tt.passerby_optouts).values(
                    digest=digest, place_id=place_id, created_at=datetime.now(UTC)
                )
            )
        ids = [reading_id for reading_id, _ in _matching(connection, keyring, key, digest)]
        delete_by_id(connection, ids)
        ledger.append(
            connection,
            signer,
            actor="passer-by",
            action="passerby.opt-out",
            target=f"place:{place_id}" if place_id else "deployment",
            counts={"opted_out": 1, "erased": len(ids)},
            digest=content_digest([json.dumps({"erased": len(ids)}).encode()]),
        )
    changes.announce(engine)
    return len(ids)
