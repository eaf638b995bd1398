"""Writing readings fast: one statement per batch on the database's own bulk path."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

ReadingRow = tuple[str, int, str | None, float, float | None, str | None, bytes | None]
"""(device_id, stream_id, subject_id, time, value, value_text, sealed)."""

_SQLITE = (
    "INSERT OR IGNORE INTO readings "
    "(device_id, stream_id, subject_id, time, value, value_text, sealed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_POSTGRES = (
    "INSERT INTO readings "
    "(device_id, stream_id, subject_id, time, value, value_text, sealed) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (stream_id, device_id, time) DO NOTHING"
)


def insert_readings(connection: Connection, rows: Sequence[ReadingRow]) -> int:
    """Insert `rows`, skipping any already stored (same stream, device, time); returns how many
    were new. Bypasses SQLAlchemy's per-row parameter processing: this is the hot path."""
    if not rows:
        return 0
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        if connection.dialect.name == "sqlite":
            cursor.executemany(_SQLITE, rows)
            return int(cursor.rowcount)
        cursor.executemany(_POSTGRES, rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()
