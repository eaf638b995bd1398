"""The opt-out check on the ingest path: readings that carry an opted-out identifier are dropped.

Each hub process keeps the set of opted-out hashes and the ids of identifier streams, and reloads
them when the opt-out table changes (checked with one cheap query per gate refresh), so an
opt-out takes effect in every worker within the gate's refresh interval.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, TypeVar

from sqlalchemy import Connection, func, select

from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.policy.identifiers import IDENTIFIER_CATEGORIES, IdentifierKey


class _HasValue(Protocol):
    @property
    def value(self) -> float | str | bool | bytes | None: ...


R = TypeVar("R", bound=_HasValue)


def identifier_streams(connection: Connection) -> frozenset[int]:
    """Ids of personal streams whose values are device identifiers (DPV MACAddress)."""
    rows = connection.execute(select(t.streams.c.id, t.streams.c.spec).where(t.streams.c.personal))
    return frozenset(
        stream_id for stream_id, spec in rows if spec.get("data_category") in IDENTIFIER_CATEGORIES
    )


class OptOutGate:
    def __init__(self, key: IdentifierKey) -> None:
        self.key = key
        self._lock = threading.Lock()
        self._version: tuple[int, int, int] | None = None
        self._hashes: frozenset[str] = frozenset()
        self._streams: frozenset[int] = frozenset()

    def refresh(self, connection: Connection) -> None:
        """Reload when an opt-out was recorded or a manifest applied (in any process)."""
        count, newest = connection.execute(
            select(func.count(), func.max(tt.passerby_optouts.c.id))
        ).one()
        manifests = connection.execute(select(func.max(t.manifest_versions.c.id))).scalar()
        version = (int(count), int(newest or 0), int(manifests or 0))
        if version == self._version:
            return
        hashes = frozenset(connection.execute(select(tt.passerby_optouts.c.digest)).scalars())
        streams = identifier_streams(connection)
        with self._lock:
            self._hashes, self._streams, self._version = hashes, streams, version

    def keep(self, stream_id: int, records: Sequence[R]) -> tuple[list[R], int]:
        """The records to go on with, and how many were dropped as opted out."""
        hashes = self._hashes
        if stream_id not in self._streams or not hashes:
            return list(records), 0
        of_value = self.key.of_value
        kept = [record for record in records if of_value(record.value) not in hashes]
        return kept, len(records) - len(kept)
