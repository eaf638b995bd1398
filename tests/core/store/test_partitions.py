"""PostgreSQL's readings by month: the migration keeps every row, new months are made ahead,
the default partition catches the rest, and the queries of the portal, the API and erasure
use an index and only the months they name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, select, text

from goodthings.core.store import Order, Selection, count_readings, insert_readings, partitions
from goodthings.core.store.engine import _alembic_config, migrate, open_engine
from goodthings.core.store.readings import _COLUMNS, ReadingRow, _narrowed

OCTOBER = datetime(2026, 10, 15, tzinfo=UTC).timestamp()
NOVEMBER = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
OLD = datetime(2019, 3, 1, 12, tzinfo=UTC).timestamp()
ROWS: list[ReadingRow] = [
    ("meter", 1, None, OCTOBER, 0, 1.5, None, None),
    ("meter", 1, None, NOVEMBER, 0, 2.5, None, None),
    ("band", 3, "alex", NOVEMBER, 0, None, None, b"sealed"),
    ("band", 3, "alex", NOVEMBER, 1, None, None, b"sealed-too"),
    ("meter", 1, None, 1e300, 0, 3.5, None, None),
]


def _where(engine: Engine) -> dict[int, str]:
    """Each reading's id and the partition holding it."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, tableoid::regclass::text FROM readings"))
        return {int(i): str(table) for i, table in rows}


def test_the_migration_moves_every_stored_reading_into_its_month(postgres_url: str) -> None:
    engine = open_engine(postgres_url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0016")
        assert insert_readings(connection, ROWS) == len(ROWS)
        before = {
            tuple(row)
            for row in connection.execute(text("SELECT id, device_id, time, ordinal FROM readings"))
        }
    migrate(engine)
    with engine.begin() as connection:
        assert partitions.is_partitioned(connection)
        after = {
            tuple(row)
            for row in connection.execute(text("SELECT id, device_id, time, ordinal FROM readings"))
        }
        assert after == before
        made = {m.name for m in partitions.months(connection)}
        assert {"readings_y2026m10", "readings_y2026m11"} <= made
        # This month and the next two are ready before any reading of them arrives.
        assert partitions.Month.of(datetime.now(UTC).timestamp()).name in made
        # De-duplication holds across the new table, and ids carry on from the old sequence.
        assert insert_readings(connection, ROWS) == 0
        assert insert_readings(connection, [("meter", 1, None, OCTOBER, 1, 9.0, None, None)]) == 1
        newest = connection.execute(text("SELECT max(id) FROM readings")).scalar_one()
        assert newest > max(row[0] for row in before)  # (a skipped duplicate uses an id up)
    where = _where(engine)
    assert sorted(where.values()).count("readings_default") == 1  # the 1e300 one
    assert sorted(where.values()).count("readings_y2026m11") == 3
    engine.dispose()


def test_a_reading_without_a_month_waits_in_the_default_partition_until_its_month_is_made(
    postgres_url: str,
) -> None:
    engine = open_engine(postgres_url)
    migrate(engine)
    with engine.begin() as connection:
        assert insert_readings(connection, [("meter", 1, None, OLD, 0, 1.0, None, None)]) == 1
    assert set(_where(engine).values()) == {"readings_default"}
    with engine.begin() as connection:
        made = partitions.ensure_months(connection, [partitions.Month(2019, 3)])
        assert [m.name for m in made] == ["readings_y2019m03"]
        assert partitions.ensure_months(connection, [partitions.Month(2019, 3)]) == []
        # The moved reading still de-duplicates.
        assert insert_readings(connection, [("meter", 1, None, OLD, 0, 1.0, None, None)]) == 0
    assert set(_where(engine).values()) == {"readings_y2019m03"}
    engine.dispose()


def test_sqlite_has_no_partitions(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.db")
    migrate(engine)
    with engine.begin() as connection:
        assert not partitions.is_partitioned(connection)
        assert partitions.ensure_ahead(connection, NOVEMBER) == []
        assert partitions.months(connection) == []
    engine.dispose()


def _plan(engine: Engine, selection: Selection) -> str:
    """The plan PostgreSQL picks for a selection when a sequential scan is ruled out: an index
    must serve it (a small test table would otherwise be scanned whole)."""
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(text("SET LOCAL enable_bitmapscan = off"))
        compiled = _narrowed(select(*_COLUMNS), selection).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}
        )
        plan = connection.execute(text(f"EXPLAIN {compiled}")).scalars().all()
    return "\n".join(plan)


def test_the_portal_the_api_and_erasure_read_through_an_index_and_only_their_months(
    postgres_url: str,
) -> None:
    engine = open_engine(postgres_url)
    migrate(engine)
    with engine.begin() as connection:
        partitions.ensure_months(connection, partitions.months_between(OCTOBER, NOVEMBER))
        insert_readings(connection, ROWS)
        connection.execute(text("ANALYZE readings"))
    # The portal: a device's stream, newest first, a few.
    portal = _plan(
        engine, Selection(device_id="band", stream_ids=(3,), order=Order.newest, limit=5)
    )
    # The API: a device's stream over a time range, oldest first.
    api = _plan(
        engine, Selection(device_id="meter", stream_ids=(1,), start=NOVEMBER, end=NOVEMBER + 60)
    )
    # Erasure and export: everything about one person.
    erasure = _plan(engine, Selection(subject_id="alex"))
    for plan in (portal, api, erasure):
        assert "Seq Scan" not in plan, plan
    assert "uq_readings" in portal or "stream_id_device_id" in portal, portal
    assert "subject" in erasure, erasure
    # A time range reads only its own month.
    assert "readings_y2026m11" in api and "readings_y2026m10" not in api, api
    assert "readings_default" not in api, api
    with engine.connect() as connection:
        assert count_readings(connection, Selection(subject_id="alex")) == 2
    engine.dispose()
