"""Readings per minute and each device's newest reading, counted by the database (SQLite and
PostgreSQL alike) rather than read row by row."""

from __future__ import annotations

from sqlalchemy import Engine

from goodthings.core.store import (
    ReadingRow,
    insert_readings,
    latest_by_device,
    readings_per_minute,
)

ROWS: list[ReadingRow] = [
    ("meter", 1, None, 59.0, 0, 1.0, None, None),  # before the window
    ("meter", 1, None, 120.0, 0, 1.0, None, None),
    ("meter", 1, None, 130.2, 0, 1.0, None, None),
    ("band", 2, "alex", 179.0, 0, None, None, b"sealed"),
    ("meter", 1, None, 181.0, 0, 1.0, None, None),
    ("door", 3, None, 300.0, 0, 1.0, None, None),  # at the window's end: not in it
]


def test_readings_are_counted_per_minute_within_the_window(store: Engine) -> None:
    with store.begin() as connection:
        insert_readings(connection, ROWS)
    with store.connect() as connection:
        assert readings_per_minute(connection, 60.0, 300.0) == {120: 3, 180: 1}
        assert readings_per_minute(connection, 400.0, 500.0) == {}


def test_each_device_has_its_newest_reading_time(store: Engine) -> None:
    with store.connect() as connection:
        assert latest_by_device(connection) == {}
    with store.begin() as connection:
        insert_readings(connection, ROWS)
    with store.connect() as connection:
        assert latest_by_device(connection) == {"meter": 181.0, "band": 179.0, "door": 300.0}
