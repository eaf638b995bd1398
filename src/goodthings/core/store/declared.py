"""Read and write the rows a manifest declares (places, models, streams, devices…)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from goodthings.core.store import tables as t

# The natural key of each declared table, as the manifest names rows.
KEYS: Mapping[str, tuple[str, ...]] = {
    "places": ("id",),
    "subjects": ("id",),
    "recipients": ("id",),
    "device_models": ("id",),
    "streams": ("model_id", "name"),
    "devices": ("id",),
    "applications": ("id",),
}
_TABLES: Mapping[str, Table] = {name: t.metadata.tables[name] for name in KEYS}
OCCUPANTS = "occupants"
"""A place's occupants travel with the place row but live in the `place_occupants` table."""


def read_all(
    connection: Connection,
) -> dict[str, list[tuple[tuple[str, ...], dict[str, Any], bool]]]:
    """Every declared row: (key, other columns, retired?) per table."""
    occupants: dict[str, list[str]] = {}
    for place_id, subject_id in connection.execute(select(t.place_occupants)):
        occupants.setdefault(place_id, []).append(subject_id)
    result: dict[str, list[tuple[tuple[str, ...], dict[str, Any], bool]]] = {}
    for name, table in _TABLES.items():
        key_columns = KEYS[name]
        rows = []
        for record in connection.execute(select(table)).mappings():
            key = tuple(str(record[column]) for column in key_columns)
            values = {
                column: value
                for column, value in record.items()
                if column not in key_columns and column not in {"id", "retired_at"}
            }
            if name == "places":
                values[OCCUPANTS] = sorted(occupants.get(key[0], []))
            rows.append((key, values, record["retired_at"] is not None))
        result[name] = rows
    return result


def readings_per_stream(connection: Connection) -> dict[tuple[str, ...], int]:
    """How many readings each stream holds, keyed by (model id, stream name)."""
    query = (
        select(t.streams.c.model_id, t.streams.c.name, func.count(t.readings.c.id))
        .join(t.readings, t.readings.c.stream_id == t.streams.c.id)
        .group_by(t.streams.c.model_id, t.streams.c.name)
    )
    return {(model, name): count for model, name, count in connection.execute(query)}


def upsert(
    connection: Connection, table_name: str, key: tuple[str, ...], values: Mapping[str, Any]
) -> None:
    """Insert or update a declared row and mark it current (not retired)."""
    table = _TABLES[table_name]
    columns = dict(zip(KEYS[table_name], key, strict=True))
    row = {name: value for name, value in values.items() if name != OCCUPANTS}
    where = [table.c[name] == value for name, value in columns.items()]
    updated = connection.execute(update(table).where(*where).values(**row, retired_at=None))
    if updated.rowcount == 0:
        connection.execute(insert(table).values(**columns, **row))
    if table_name == "streams":
        _sync_purposes(connection, key, values)
    if table_name == "places":
        _sync_occupants(connection, key[0], values.get(OCCUPANTS, []))


def retire(connection: Connection, table_name: str, key: tuple[str, ...]) -> None:
    table = _TABLES[table_name]
    where = [table.c[name] == value for name, value in zip(KEYS[table_name], key, strict=True)]
    connection.execute(update(table).where(*where).values(retired_at=datetime.now(UTC)))


def _sync_purposes(connection: Connection, key: tuple[str, ...], values: Mapping[str, Any]) -> None:
    stream_id = connection.execute(
        select(t.streams.c.id).where(t.streams.c.model_id == key[0], t.streams.c.name == key[1])
    ).scalar_one()
    connection.execute(delete(t.purposes).where(t.purposes.c.stream_id == stream_id))
    uses = values["spec"]["purposes"]
    connection.execute(
        insert(t.purposes),
        [
            {
                "stream_id": stream_id,
                "purpose": use["purpose"],
                "legal_basis": use["legal_basis"],
                "how": stored_text(use["how"]),
            }
            for use in uses
        ],
    )


def _sync_occupants(connection: Connection, place_id: str, occupants: list[str]) -> None:
    connection.execute(delete(t.place_occupants).where(t.place_occupants.c.place_id == place_id))
    if occupants:
        connection.execute(
            insert(t.place_occupants),
            [{"place_id": place_id, "subject_id": subject} for subject in occupants],
        )


def is_current_subject(connection: Connection, subject_id: str) -> bool:
    """Whether the manifest declares this person now (a retired subject is kept, but gone)."""
    s = t.subjects
    found = connection.execute(
        select(s.c.id).where(s.c.id == subject_id, s.c.retired_at.is_(None))
    ).first()
    return found is not None


def write_operator(connection: Connection, values: Mapping[str, Any]) -> None:
    """Record the deployment and its operator (one row per database)."""
    connection.execute(delete(t.operator))
    connection.execute(insert(t.operator).values(**values))


def deployment_id(connection: Connection) -> str | None:
    return connection.execute(select(t.operator.c.deployment_id)).scalar_one_or_none()


def clock_skew(connection: Connection) -> float | None:
    """Seconds a reading may be dated ahead of the hub's clock, as the applied manifest says
    (None before any manifest is applied)."""
    found = connection.execute(select(t.operator.c.clock_skew_seconds)).scalar_one_or_none()
    return None if found is None else float(found)


def record_manifest(connection: Connection, *, sha256: str, source: str, content: str) -> bool:
    """Keep each applied manifest version; False when this exact version is already the latest."""
    latest = connection.execute(
        select(t.manifest_versions.c.sha256).order_by(t.manifest_versions.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    if latest == sha256:
        return False
    connection.execute(
        insert(t.manifest_versions).values(
            sha256=sha256, applied_at=datetime.now(UTC), source=source, content=content
        )
    )
    return True


def stored_text(text: Any) -> str:
    """An operator's text as a spec keeps it (words, or words by language with the default
    language first, see `core.manifest.texts`) in the default language, for a text column."""
    if isinstance(text, dict):
        return str(next(iter(text.values()), ""))
    return "" if text is None else str(text)
