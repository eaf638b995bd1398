"""The record of refused packs: bounded, newest first, by device, and the migration that makes
it; on both stores."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from goodthings.core.store import RefusedPack, record_refused, select_refused
from goodthings.core.store import tables as t


def pack(n: int, device: str = "thermostat-1", message: str = "record 0: bad") -> RefusedPack:
    return RefusedPack(
        device, 1_790_000_000.0 + n, "malformed", message, "application/senml+json", n, "ab" * 32
    )


def test_migration_0006_makes_the_table_the_code_describes(store: Engine) -> None:
    with store.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), t.metadata)
    assert [d for d in differences if "refused_packs" in repr(d)] == []


def test_refusals_come_back_newest_first_and_by_device(store: Engine) -> None:
    with store.begin() as connection:
        record_refused(connection, [pack(1), pack(2, "meter-1")], keep=100)
        record_refused(connection, [pack(3)], keep=100)
    with store.connect() as connection:
        assert [p.size for p in select_refused(connection)] == [3, 2, 1]
        assert [p.size for p in select_refused(connection, device_id="thermostat-1")] == [3, 1]
        assert [p.size for p in select_refused(connection, limit=1)] == [3]
        (newest,) = select_refused(connection, limit=1)
    assert newest == RefusedPack(
        "thermostat-1",
        1_790_000_003.0,
        "malformed",
        "record 0: bad",
        "application/senml+json",
        3,
        "ab" * 32,
        id=newest.id,
    )


def test_only_the_newest_are_kept_as_new_ones_arrive(store: Engine) -> None:
    for n in range(1, 8):
        with store.begin() as connection:
            record_refused(connection, [pack(n)], keep=3)
    with store.begin() as connection:
        record_refused(connection, [pack(8), pack(9)], keep=3)
    with store.connect() as connection:
        assert [p.size for p in select_refused(connection)] == [9, 8, 7]


def test_any_text_is_recorded_even_what_postgresql_refuses(store: Engine) -> None:
    long_id = "d" * 500
    with store.begin() as connection:
        record_refused(connection, [pack(1, long_id, "a\x00b")], keep=10)
    with store.connect() as connection:
        (recorded,) = select_refused(connection, device_id=long_id)
    assert recorded.message == "a\\u0000b"
    assert recorded.device_id == "d" * 62 + "…"
