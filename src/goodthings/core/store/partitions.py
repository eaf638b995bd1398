"""PostgreSQL's readings table, partitioned by month of the reading's time.

Retention then drops a month whose every reading is past its stream's retention (`DROP TABLE`
of one partition: no row-by-row delete, no dead rows to vacuum), and a query for a time range
reads only the months it names.

Months are made ahead of time, by `ensure_months` (the migration, and the hub's retention job
each time it runs), never by ingest: `CREATE TABLE ... PARTITION OF` locks the whole readings
table, which the hot path must not wait for on the first reading of a month. A reading whose
month has no partition yet (a device's backlog from long ago, a date far off) lands in the
default partition, so an insert never fails for want of one; when its month is made later, its
rows are moved there in the same transaction.

SQLite has no partitions: every function here is a no-op there, and `is_partitioned` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

DEFAULT = "readings_default"
_NAME = re.compile(r"^readings_y(\d{4})m(\d{2})$")
_FIRST_YEAR, _LAST_YEAR = 1970, 9998
"""Months outside these years stay in the default partition (no sensor sends such dates)."""


@dataclass(frozen=True, slots=True)
class Month:
    """One month's partition: readings timed in [start, end) (Unix seconds, UTC)."""

    year: int
    month: int

    @property
    def name(self) -> str:
        return f"readings_y{self.year:04d}m{self.month:02d}"

    @property
    def start(self) -> float:
        return datetime(self.year, self.month, 1, tzinfo=UTC).timestamp()

    @property
    def end(self) -> float:
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @classmethod
    def of(cls, seconds: float) -> Month:
        moment = datetime.fromtimestamp(seconds, UTC)
        return cls(moment.year, moment.month)

    @classmethod
    def named(cls, name: str) -> Month | None:
        found = _NAME.match(name)
        return cls(int(found[1]), int(found[2])) if found else None


def is_partitioned(connection: Connection) -> bool:
    """Whether readings is a partitioned table (PostgreSQL after migration 0017)."""
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass('readings')")
    ).scalar()
    return kind == "p"


def months(connection: Connection) -> list[Month]:
    """The month partitions that exist, oldest first (the default partition is not one)."""
    if not is_partitioned(connection):
        return []
    names = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('readings')"
        )
    ).scalars()
    found = [Month.named(name) for name in names]
    return sorted((m for m in found if m is not None), key=lambda m: (m.year, m.month))


def months_between(first: float, last: float) -> list[Month]:
    """Every month from the one holding `first` to the one holding `last`, both included."""
    month, final = Month.of(first), Month.of(last)
    found: list[Month] = []
    while (month.year, month.month) <= (final.year, final.month):
        found.append(month)
        month = month.next()
    return found


def ensure_ahead(connection: Connection, now: float, ahead: int = 2) -> list[Month]:
    """Make this month's partition and the next `ahead` months'; returns those made now."""
    month = Month.of(now)
    wanted = [month]
    for _ in range(ahead):
        month = month.next()
        wanted.append(month)
    return ensure_months(connection, wanted)


def ensure_months(connection: Connection, wanted: Iterable[Month]) -> list[Month]:
    """Make the partitions of `wanted` that do not exist yet, moving into each the rows the
    default partition holds for its month; returns those made."""
    if not is_partitioned(connection):
        return []
    existing = set(months(connection))
    made: list[Month] = []
    for month in sorted(set(wanted) - existing, key=lambda m: (m.year, m.month)):
        if not _FIRST_YEAR <= month.year <= _LAST_YEAR:
            continue
        _make(connection, month)
        made.append(month)
    return made


def _make(connection: Connection, month: Month) -> None:
    """One month: its rows leave the default partition first (PostgreSQL refuses a new
    partition while the default one holds rows of its range), then come back through the
    parent, which routes them to the new month."""
    bounds = {"start": month.start, "end": month.end}
    held = connection.execute(
        text("SELECT count(*) FROM readings_default WHERE time >= :start AND time < :end"),
        bounds,
    ).scalar_one()
    if held:
        connection.execute(
            text(
                "CREATE TEMPORARY TABLE readings_moving ON COMMIT DROP AS "
                "WITH moved AS (DELETE FROM readings_default WHERE time >= :start AND time < :end "
                "RETURNING *) SELECT * FROM moved"
            ),
            bounds,
        )
    connection.execute(
        text(
            # IF NOT EXISTS: two hubs' retention jobs may make the same month at once.
            f"CREATE TABLE IF NOT EXISTS {month.name} PARTITION OF readings "
            f"FOR VALUES FROM ({month.start!r}) TO ({month.end!r})"
        )
    )
    if held:
        connection.execute(text("INSERT INTO readings SELECT * FROM readings_moving"))
        connection.execute(text("DROP TABLE readings_moving"))


def counts_in(connection: Connection, month: Month) -> dict[int, int]:
    """How many readings the month's partition holds, per stream id."""
    rows = connection.execute(
        # The name is made of digits by `Month.name`: nothing from outside is quoted into SQL.
        text(f"SELECT stream_id, count(*) FROM {month.name} GROUP BY stream_id")  # noqa: S608
    )
    return {int(stream): int(count) for stream, count in rows}


def lock(connection: Connection, month: Month) -> None:
    """Hold the month's partition against every other reader and writer until the transaction
    ends, so that what was counted in it is what a drop removes."""
    connection.execute(text(f"LOCK TABLE {month.name} IN ACCESS EXCLUSIVE MODE"))


def drop(connection: Connection, month: Month) -> None:
    """Drop the month's partition and every reading in it."""
    connection.execute(text(f"DROP TABLE {month.name}"))


def droppable(
    connection: Connection, cutoffs: dict[int, float], horizon: float
) -> Sequence[tuple[Month, dict[int, int]]]:
    """The months every reading of which is past retention, with their counts per stream.

    `cutoffs` holds each stream with a retention and the time before which its readings are
    due; a month is droppable when every stream in it has a cutoff at or after the month's
    end. Months ending after `horizon` (the latest cutoff) cannot be, and are not counted. A
    stream kept for ever (no retention) keeps its months.
    """
    found: list[tuple[Month, dict[int, int]]] = []
    for month in months(connection):
        if month.end > horizon:
            break
        counts = counts_in(connection, month)
        if all(month.end <= cutoffs.get(stream, -float("inf")) for stream in counts):
            found.append((month, counts))
    return found
