"""What an erasure with `--keep-aggregates` keeps: daily counts and means per stream of the
person's readings, with no link to the person or their device ("unlinked")."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from goodthings.core.keys import UNREADABLE, Keyring, ReadingOpener
from goodthings.core.store import Order, Selection, moment_of, select_readings

UNKNOWN_DAY = "unknown"
"""The day under which aggregates count readings whose stored time is not a valid date."""


def unlinked_aggregates(engine: Engine, keyring: Keyring, subject_id: str) -> list[dict[str, Any]]:
    """Daily count and mean per stream of the person's readings, with no link to them: rows
    stored in the same transaction as the key's destruction, so a resumed erasure never
    stores them twice."""
    sums: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    with engine.connect() as connection:
        opener = ReadingOpener(keyring, connection)
        rows = select_readings(connection, Selection(subject_id=subject_id, order=Order.id))
        for row in rows:
            moment = moment_of(row.time)
            day = UNKNOWN_DAY if moment is None else moment.strftime("%Y-%m-%d")
            entry = sums[(row.stream_id, day)]
            entry[0] += 1
            if row.sealed is None:
                continue
            value = opener.open(row)
            if value is not UNREADABLE and isinstance(value, float):
                entry[1] += value
                entry[2] += 1
    now = datetime.now(UTC)
    return [
        {
            "stream_id": stream_id,
            "day": day,
            "count": int(count),
            "mean": total / numeric if numeric else None,
            "created_at": now,
        }
        for (stream_id, day), (count, total, numeric) in sorted(sums.items())
    ]
