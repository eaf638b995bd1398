"""Keeping one pack's faults to itself: which failures of a batch are a pack's, and the record
kept of the packs refused.

A batch the store refuses because of what a pack holds (PostgreSQL takes no NUL character in
text, a constraint refuses a row) is the pack's fault, and storing the other packs alone works.
Anything else (a locked or unreachable database, a missing table) is the store's, and trying
each pack again would only fail as many times, or refuse good packs that MQTT should redeliver.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import exc

from goodthings.core.store import RefusedPack
from goodthings.ingest.batch import Incoming, PackResult

_DATA_FAULTS = (exc.DataError, exc.IntegrityError, sqlite3.DataError, sqlite3.IntegrityError)
"""DB-API 2 (PEP 249) errors "due to problems with the processed data", raised by the drivers
themselves (the readings insert runs on the raw cursor) or wrapped by SQLAlchemy; psycopg's
own are added when psycopg is loaded (`_data_faults`)."""


def _data_faults() -> tuple[type[BaseException], ...]:
    """psycopg's data errors too once psycopg is loaded: a hub on SQLite never loads it (~9 MiB),
    and a psycopg error cannot be raised in a process that has not imported psycopg."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return _DATA_FAULTS
    return (*_DATA_FAULTS, psycopg.DataError, psycopg.IntegrityError)


def caused_by_data(error: BaseException) -> bool:
    """Whether the store refused a batch for what it holds rather than for its own state."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return False
    return isinstance(error, _data_faults())


class Settled(Protocol):
    """What the pipeline knows of a pack once it was prepared."""

    @property
    def result(self) -> PackResult: ...

    @property
    def recorded(self) -> str | None: ...


def refusals(batch: Sequence[Incoming], settled: Sequence[Settled]) -> list[RefusedPack]:
    """The record of each refused pack of a batch: no payload, no value."""
    return [
        RefusedPack(
            device_id=item.device_id,
            received_at=item.received_at,
            refusal=pack.result.refusal.value,
            message=pack.recorded or pack.result.error or pack.result.refusal.value,
            content_type=item.content_type,
            size=len(item.payload),
            sha256=hashlib.sha256(item.payload).hexdigest(),
        )
        for item, pack in zip(batch, settled, strict=True)
        if pack.result.refusal is not None
    ]
