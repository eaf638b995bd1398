"""The one place that touches the readings table: a fast insert, and a streaming read side.

Writing is the hot path: a group of packs on the database's own bulk path (multi-row inserts
on SQLite, one binary COPY through a staging table on PostgreSQL). Reading
streams rows (a server-side cursor on PostgreSQL) as `StoredReading` values whose personal
values are still sealed; `goodthings.core.keys.opener` opens them. Deletes and counts are here
too, so no other module names the table.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, delete, func, select

from goodthings.core.store import tables as t

ReadingRow = tuple[str, int, str | None, float, int, float | None, str | None, bytes | None]
"""(device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed).

The ordinal tells apart readings of one stream and device at the same time: it is the reading's
place among those of its pack that share the stream and the time (0 for the first)."""

_SQLITE = (
    "INSERT OR IGNORE INTO readings "
    "(device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_ROWS_PER_STATEMENT = 500 if sqlite3.sqlite_version_info >= (3, 32) else 120
"""Rows per INSERT at most: 4,000 variables, well under SQLite's limit of 32,766 (999 before
3.32)."""
_SIZES = (_ROWS_PER_STATEMENT, *(2**power for power in range(8, -1, -1)))
"""The row counts an INSERT is made for, largest first. Each connection keeps the statements it
prepared (about 0.75 KiB a row of statement): one per pack length would keep some 20 MiB per
connection after a day of varied packs; these few, under 1 MiB."""
_COLUMN_NAMES = "device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed"
_TYPES = ("text", "int4", "text", "float8", "int2", "float8", "text", "bytea")
_CREATE_STAGE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS readings_stage "
    "(pack int4, device_id text, stream_id int4, subject_id text, time float8, ordinal int2, "
    "value float8, value_text text, sealed bytea)"
)
_COPY_STAGE = f"COPY readings_stage (pack, {_COLUMN_NAMES}) FROM STDIN (FORMAT BINARY)"
_COPY_READINGS = f"COPY readings ({_COLUMN_NAMES}) FROM STDIN (FORMAT BINARY)"
_PLAIN_FROM_STAGE = (
    "INSERT INTO readings "
    "(device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed) "
    "SELECT device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed "
    "FROM readings_stage ON CONFLICT (stream_id, device_id, time, ordinal) DO NOTHING"
)
_COUNTED_FROM_STAGE = (
    # In pack order, so that of two packs of a group sending one key the first stores it, as
    # one insert per pack would; the key is then counted as the first's: each pack's count
    # of new rows is what it would have been alone, in that order.
    "WITH stored AS ("
    " INSERT INTO readings "
    " (device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed)"
    " SELECT device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed"
    " FROM readings_stage ORDER BY pack"
    " ON CONFLICT (stream_id, device_id, time, ordinal) DO NOTHING"
    " RETURNING stream_id, device_id, time, ordinal),"
    " owner AS ("
    " SELECT DISTINCT ON (s.stream_id, s.device_id, s.time, s.ordinal) s.pack"
    " FROM stored JOIN readings_stage s USING (stream_id, device_id, time, ordinal)"
    " ORDER BY s.stream_id, s.device_id, s.time, s.ordinal, s.pack)"
    " SELECT pack, count(*) FROM owner GROUP BY pack"
)


def insert_readings(connection: Connection, rows: Sequence[ReadingRow]) -> int:
    """Insert `rows`, skipping any already stored (same stream, device, time and ordinal);
    returns how many were new."""
    return insert_packs(connection, [rows])[0] if rows else 0


def _statement_sizes(rows: int) -> Iterator[int]:
    """`rows` as a sum of `_SIZES`, largest first (100 rows: 64, 32 and 4)."""
    for size in _SIZES:
        while rows >= size:
            yield size
            rows -= size


@functools.cache
def _sqlite_insert(rows: int) -> str:
    """One INSERT of `rows` rows. SQLite runs it in one step, and Python's sqlite3 lets go of
    the GIL around each step: with executemany, once per row, and every time the event loop
    took it meanwhile the writer waited to get it back (a convoy, up to 5 ms each time). One
    statement per few hundred rows is also a third faster alone; the text is cached, as is
    the statement SQLite prepared from it."""
    return _SQLITE + ", (?, ?, ?, ?, ?, ?, ?, ?)" * (rows - 1)


def insert_packs(connection: Connection, packs: Sequence[Sequence[ReadingRow]]) -> list[int]:
    """Insert every pack's rows, skipping any already stored (same stream, device, time and
    ordinal) or sent by an earlier pack of `packs`; returns how many of each pack were new.

    The hot path: one round of statements for a whole group commit, not one per pack, and
    no SQLAlchemy per-row parameter processing.
    """
    if connection.dialect.name != "sqlite":
        return _copy_packs(connection, packs)
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        counts = []
        for rows in packs:
            new = start = 0
            for size in _statement_sizes(len(rows)):
                chunk = rows[start : start + size]
                start += size
                cursor.execute(_sqlite_insert(size), list(itertools.chain(*chunk)))
                new += int(cursor.rowcount)
            counts.append(new)
        return counts
    finally:
        cursor.close()


def _copy_packs(connection: Connection, packs: Sequence[Sequence[ReadingRow]]) -> list[int]:
    """PostgreSQL: one binary COPY of every pack's rows into a temporary table of the session,
    then one INSERT ... SELECT with the plain insert's ON CONFLICT rule, so de-duplication is
    exact; COPY cannot skip conflicts itself.

    Usually nothing is a duplicate: the plain INSERT stores every row and each pack's count is
    its length. When some are (a redelivery), it is undone to a savepoint and done again
    counting per pack, which costs a join of what was stored with what was staged.

    The staging table lives as long as the database session, and is made again when the
    transaction that made it rolled back, hence IF NOT EXISTS on every call (a catalogue
    lookup, once per group). It is emptied after each call by TRUNCATE, not DELETE: nothing
    vacuums a temporary table.
    """
    counts = [0] * len(packs)
    if not any(packs):
        return counts
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor:
        cursor.execute(_CREATE_STAGE)
        with cursor.copy(_COPY_STAGE) as copy:
            copy.set_types(("int4", *_TYPES))
            for index, rows in enumerate(packs):
                for row in rows:
                    copy.write_row((index, *row))
        cursor.execute("SAVEPOINT readings_stage")
        cursor.execute(_PLAIN_FROM_STAGE)
        if cursor.rowcount == sum(map(len, packs)):
            cursor.execute("RELEASE SAVEPOINT readings_stage")
            counts = [len(rows) for rows in packs]
        else:
            cursor.execute("ROLLBACK TO SAVEPOINT readings_stage")
            cursor.execute(_COUNTED_FROM_STAGE)
            for index, count in cursor.fetchall():
                counts[index] = int(count)
        cursor.execute("TRUNCATE readings_stage")
    return counts


def copy_new_readings(connection: Connection, rows: Sequence[ReadingRow]) -> int:
    """PostgreSQL: a plain binary COPY of `rows` into readings, which checks nothing; a
    duplicate fails the whole COPY. For rows known to be new: the bench's raw phase measures
    the full path against it, PostgreSQL's fastest way in."""
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor, cursor.copy(_COPY_READINGS) as copy:
        copy.set_types(_TYPES)
        for row in rows:
            copy.write_row(row)
    return len(rows)


def moment_of(seconds: float) -> datetime | None:
    """A stored reading's time as a UTC date, or None when the number is no date.

    Ingest refuses such times now, but rows stored before it did, or written by hand, can hold
    1e300, -1e300 or infinity; every reader shows those as "not a valid date" instead of failing.
    """
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        return None


class Order(StrEnum):
    """In which order selected readings come back."""

    oldest = "oldest"
    """By time: a stream's history as it happened."""
    newest = "newest"
    """By time, newest first: the latest readings."""
    id = "id"
    """By id: the order they were stored in, for walking a table while it grows."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which stored readings to read, delete or count; a field left as None matches all."""

    device_id: str | None = None
    stream_ids: tuple[int, ...] | None = None
    subject_id: str | None = None
    """The key holder stored with the reading: a subject id or `place:<id>`."""
    start: float | None = None
    """Unix seconds, inclusive."""
    end: float | None = None
    """Unix seconds, exclusive."""
    after_id: int | None = None
    sealed_only: bool = False
    limit: int | None = None
    order: Order = Order.oldest


class StoredReading(NamedTuple):
    """One reading as stored: a personal value is still sealed (`sealed`), a plain one is not.

    A named tuple rather than a dataclass: it is made once per row on every read path.
    """

    id: int
    device_id: str
    stream_id: int
    subject_id: str | None
    time: float
    value: float | None
    value_text: str | None
    sealed: bytes | None

    @property
    def plain(self) -> float | str | None:
        """The value of a reading that is not sealed (None for a sealed one)."""
        return self.value if self.value is not None else self.value_text


_r = t.readings.c
_COLUMNS = (
    _r.id,
    _r.device_id,
    _r.stream_id,
    _r.subject_id,
    _r.time,
    _r.value,
    _r.value_text,
    _r.sealed,
)
_ORDER = {
    # Time alone: the unique (stream, device, time, ordinal) index then serves the order.
    Order.oldest: (_r.time,),
    Order.newest: (_r.time.desc(),),
    Order.id: (_r.id,),
}
STREAM_BATCH = 2000
_CURSORS = itertools.count()
_S = TypeVar("_S", bound=Select[Any])


def _conditions(selection: Selection) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if selection.device_id is not None:
        found.append(_r.device_id == selection.device_id)
    if selection.stream_ids is not None:
        found.append(_r.stream_id.in_(selection.stream_ids))
    if selection.subject_id is not None:
        found.append(_r.subject_id == selection.subject_id)
    if selection.start is not None:
        found.append(_r.time >= selection.start)
    if selection.end is not None:
        found.append(_r.time < selection.end)
    if selection.after_id is not None:
        found.append(_r.id > selection.after_id)
    if selection.sealed_only:
        found.append(_r.sealed.is_not(None))
    return found


def _narrowed(statement: _S, selection: Selection) -> _S:
    statement = statement.where(*_conditions(selection)).order_by(*_ORDER[selection.order])
    return statement if selection.limit is None else statement.limit(selection.limit)


def select_readings(
    connection: Connection, selection: Selection, *, batch: int = STREAM_BATCH
) -> Iterator[StoredReading]:
    """The selected readings, streamed `batch` rows at a time rather than loaded all at once.

    Runs on the driver's cursor (a server-side one on PostgreSQL): SQLAlchemy's per-row
    processing would cost more than decrypting the values.
    """
    cursor, statement, params = _driver_cursor(connection, select(*_COLUMNS), selection)
    try:
        cursor.execute(statement, params)
        make = functools.partial(tuple.__new__, StoredReading)  # `_make` without its wrapper
        while rows := cursor.fetchmany(batch):
            yield from map(make, rows)
    finally:
        cursor.close()


class ReadingColumns(NamedTuple):
    """A page of one device's stream as columns, row i of each being one reading.

    For the long reads that write every value out (a person's export): transposing a fetched
    page is one call in C, where making a `StoredReading` per row is Python work per reading."""

    times: list[float]
    subject_ids: list[str | None]
    values: list[float | None]
    value_texts: list[str | None]
    sealed: list[bytes | None]


_COLUMNAR = (_r.time, _r.subject_id, _r.value, _r.value_text, _r.sealed)
_COLUMN = tuple(map(operator.itemgetter, range(len(_COLUMNAR))))


def select_reading_columns(
    connection: Connection, device_id: str, stream_id: int, *, batch: int = STREAM_BATCH
) -> Iterator[ReadingColumns]:
    """Every reading of one device's stream, oldest first, `batch` at a time as columns: what
    `select_readings` gives for that selection, without a Python object per reading."""
    selection = Selection(device_id=device_id, stream_ids=(stream_id,))
    cursor, statement, params = _driver_cursor(connection, select(*_COLUMNAR), selection)
    try:
        cursor.execute(statement, params)
        while rows := cursor.fetchmany(batch):
            yield ReadingColumns(*(list(map(column, rows)) for column in _COLUMN))
    finally:
        cursor.close()


def _driver_cursor(
    connection: Connection, statement: Select[Any], selection: Selection
) -> tuple[Any, str, Any]:
    """The driver's cursor (a server-side one on PostgreSQL) with the statement and parameters
    for `selection`, rendered once: SQLAlchemy's per-row processing would cost more than
    decrypting the values."""
    compiled = _narrowed(statement, selection).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    if connection.dialect.name == "sqlite":
        return dbapi.cursor(), str(compiled), params
    return dbapi.cursor(name=f"readings_{next(_CURSORS)}"), str(compiled), params


def count_readings(connection: Connection, selection: Selection = Selection()) -> int:
    """How many readings match (the selection's limit and order are ignored)."""
    statement = select(func.count()).select_from(t.readings).where(*_conditions(selection))
    return int(connection.execute(statement).scalar_one())


def count_by_stream(connection: Connection) -> dict[int, int]:
    """How many readings are stored per stream id (streams with none are absent)."""
    rows = connection.execute(select(_r.stream_id, func.count()).group_by(_r.stream_id))
    return {int(stream_id): int(count) for stream_id, count in rows}


def oldest_by_stream(connection: Connection) -> dict[int, float]:
    """The time of the oldest reading stored per stream id (streams with none are absent)."""
    rows = connection.execute(select(_r.stream_id, func.min(_r.time)).group_by(_r.stream_id))
    return {int(stream_id): float(oldest) for stream_id, oldest in rows}


def count_in_clear(connection: Connection, stream_ids: Sequence[int]) -> dict[int, int]:
    """How many readings of these streams hold their value unsealed, per stream id (streams
    with none are absent): for a personal stream, every one is a value readable at rest."""
    in_clear = _r.sealed.is_(None) & (_r.value.is_not(None) | _r.value_text.is_not(None))
    rows = connection.execute(
        select(_r.stream_id, func.count())
        .where(_r.stream_id.in_(stream_ids), in_clear)
        .group_by(_r.stream_id)
    )
    return {int(stream_id): int(count) for stream_id, count in rows}


def count_by_subject(
    connection: Connection, stream_ids: Sequence[int]
) -> dict[tuple[int, str | None], int]:
    """How many readings of these streams are stored per (stream id, subject id); a reading
    about nobody in particular has subject None."""
    rows = connection.execute(
        select(_r.stream_id, _r.subject_id, func.count())
        .where(_r.stream_id.in_(stream_ids))
        .group_by(_r.stream_id, _r.subject_id)
    )
    return {(int(stream), subject): int(count) for stream, subject, count in rows}


def latest_time(connection: Connection, selection: Selection) -> float | None:
    """The time of the newest matching reading, or None when none matches."""
    statement = select(func.max(_r.time)).where(*_conditions(selection))
    found = connection.execute(statement).scalar()
    return None if found is None else float(found)


def last_id(connection: Connection, device_id: str | None = None) -> int:
    """The highest reading id stored so far, of one device or of all (0 when none)."""
    query = select(func.max(_r.id))
    if device_id is not None:
        query = query.where(_r.device_id == device_id)
    return int(connection.execute(query).scalar() or 0)


def delete_readings(connection: Connection, selection: Selection) -> int:
    """Delete the matching readings (at most `limit` of them, in the selection's order);
    returns how many were deleted."""
    if selection.limit is None:
        statement = delete(t.readings).where(*_conditions(selection))
    else:
        ids = _narrowed(select(_r.id), selection).scalar_subquery()
        statement = delete(t.readings).where(_r.id.in_(ids))
    return int(connection.execute(statement).rowcount)


def delete_by_id(connection: Connection, ids: Sequence[int]) -> int:
    """Delete the readings with these ids; returns how many were deleted."""
    if not ids:
        return 0
    return int(connection.execute(delete(t.readings).where(_r.id.in_(ids))).rowcount)
