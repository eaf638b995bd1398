"""The bench's raw phase on PostgreSQL: a plain binary COPY of the same rows.

That is the fastest way PostgreSQL takes rows, so the full path is measured against it (issue
18's target: at least half of it). It checks nothing, not even duplicates: the bench's rows are
all new. SQLite has no COPY; its raw phase stays the pipeline's own insert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from goodthings.bench.load import raw_insert, write_batches
from goodthings.core.store import ReadingRow, copy_new_readings

Raw = Callable[[Engine, Sequence[Sequence[ReadingRow]]], tuple[int, float]]


def raw_copy(engine: Engine, batches: Sequence[Sequence[ReadingRow]]) -> tuple[int, float]:
    """COPY the batches, one transaction each; (rows, seconds)."""
    return write_batches(engine, batches, copy_new_readings)


def raw_phase(engine: Engine) -> tuple[str, Raw]:
    """What the raw phase is on this database ("copy" or "insert"), and the function doing it."""
    if engine.dialect.name == "postgresql":
        return "copy", raw_copy
    return "insert", raw_insert
