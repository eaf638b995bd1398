"""The readings table's read side: selections, streaming, deletes and counts, on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, text

from goodthings.core.store.engine import _alembic_config, migrate, open_engine
from goodthings.core.store.readings import (
    Order,
    ReadingRow,
    Selection,
    StoredReading,
    count_by_stream,
    count_readings,
    delete_by_id,
    delete_readings,
    insert_packs,
    insert_readings,
    last_id,
    latest_time,
    select_readings,
)

ROWS: list[ReadingRow] = [
    ("meter", 1, None, 100.0, 0, 1.5, None, None),
    ("meter", 1, None, 101.0, 0, 2.5, None, None),
    ("meter", 1, None, 102.0, 0, None, "off", None),
    ("meter", 2, None, 100.5, 0, 9.0, None, None),
    ("band", 3, "alex", 100.0, 0, None, None, b"sealed-1"),
    ("band", 3, "alex", 105.0, 0, None, None, b"sealed-2"),
    ("door", 4, "place:flat-4", 103.0, 0, None, None, b"sealed-3"),
]


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        assert insert_readings(connection, ROWS) == len(ROWS)
    yield engine
    engine.dispose()


def _times(engine: Engine, selection: Selection) -> list[tuple[str, int, float]]:
    with engine.connect() as connection:
        return [(r.device_id, r.stream_id, r.time) for r in select_readings(connection, selection)]


def test_an_empty_selection_reads_every_reading_oldest_first(store: Engine) -> None:
    found = _times(store, Selection())
    assert len(found) == len(ROWS)
    assert [time for _, _, time in found] == sorted(time for _, _, time in found)


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (
            Selection(device_id="meter"),
            [("meter", 1, 100.0), ("meter", 2, 100.5), ("meter", 1, 101.0), ("meter", 1, 102.0)],
        ),
        (
            Selection(device_id="meter", stream_ids=(1,)),
            [("meter", 1, 100.0), ("meter", 1, 101.0), ("meter", 1, 102.0)],
        ),
        (Selection(stream_ids=(2, 4)), [("meter", 2, 100.5), ("door", 4, 103.0)]),
        (Selection(subject_id="alex"), [("band", 3, 100.0), ("band", 3, 105.0)]),
        (Selection(stream_ids=(1,), start=101.0), [("meter", 1, 101.0), ("meter", 1, 102.0)]),
        (Selection(stream_ids=(1,), end=101.0), [("meter", 1, 100.0)]),
        (Selection(stream_ids=(1,), start=100.5, end=102.0), [("meter", 1, 101.0)]),
        (Selection(sealed_only=True), [("band", 3, 100.0), ("door", 4, 103.0), ("band", 3, 105.0)]),
        (
            Selection(stream_ids=(1,), order=Order.newest, limit=2),
            [("meter", 1, 102.0), ("meter", 1, 101.0)],
        ),
        (Selection(stream_ids=()), []),
    ],
)
def test_a_selection_reads_only_what_it_names(
    store: Engine, selection: Selection, expected: list[tuple[str, int, float]]
) -> None:
    assert _times(store, selection) == expected


def test_after_an_id_reads_what_was_stored_since_in_store_order(store: Engine) -> None:
    with store.connect() as connection:
        every = list(select_readings(connection, Selection(order=Order.id)))
        assert [r.id for r in every] == sorted(r.id for r in every)
        later = list(select_readings(connection, Selection(after_id=every[2].id, order=Order.id)))
    assert later == every[3:]


def test_readings_come_back_as_stored_with_personal_values_still_sealed(store: Engine) -> None:
    with store.connect() as connection:
        (band,) = select_readings(connection, Selection(subject_id="alex", end=101.0))
        (text,) = select_readings(connection, Selection(stream_ids=(1,), start=102.0))
    assert isinstance(band, StoredReading)
    assert (band.sealed, band.value, band.value_text, band.plain) == (b"sealed-1", None, None, None)
    assert (text.plain, text.sealed, text.subject_id) == ("off", None, None)


def test_a_streamed_read_sees_the_table_as_it_was_when_it_started(store: Engine) -> None:
    with store.connect() as connection:
        rows = select_readings(connection, Selection(order=Order.id), batch=2)
        first = next(rows)
        # More readings are stored while the stream is open, from another connection.
        with store.begin() as writer:
            insert_readings(writer, [("late", 9, None, 1.0, 0, 1.0, None, None)])
        rest = list(rows)
        assert [first, *rest] == list(select_readings(connection, Selection(order=Order.id)))[:-1]
    assert len(rest) + 1 == len(ROWS)


def test_counts_by_selection_and_by_stream(store: Engine) -> None:
    with store.connect() as connection:
        assert count_readings(connection) == len(ROWS)
        assert count_readings(connection, Selection(device_id="meter", start=101.0)) == 2
        assert count_by_stream(connection) == {1: 3, 2: 1, 3: 2, 4: 1}
        assert latest_time(connection, Selection(device_id="band")) == 105.0
        assert latest_time(connection, Selection(device_id="nobody")) is None
        assert last_id(connection) == max(r.id for r in select_readings(connection, Selection()))


def test_deletes_remove_what_is_selected_and_say_how_many(store: Engine) -> None:
    with store.begin() as connection:
        assert delete_readings(connection, Selection(stream_ids=(1,), end=102.0)) == 2
        assert (
            delete_readings(connection, Selection(subject_id="alex", order=Order.id, limit=1)) == 1
        )
        (left,) = select_readings(connection, Selection(subject_id="alex"))
        assert left.time == 105.0
        door = [r.id for r in select_readings(connection, Selection(device_id="door"))]
        assert delete_by_id(connection, door) == 1
        assert delete_by_id(connection, []) == 0
        assert count_by_stream(connection) == {1: 1, 2: 1, 3: 1}


def test_an_empty_table_has_no_last_id(database_url: str) -> None:
    engine = open_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        assert last_id(connection) == 0
        assert count_readings(connection) == 0
    engine.dispose()


def test_the_same_reading_twice_is_stored_once_and_distinct_ones_at_one_time_are_kept(
    store: Engine,
) -> None:
    """The key is (stream, device, time, ordinal): a redelivered pack maps to the same keys,
    two different records of one pack at the same moment do not collide."""
    same_moment = [
        ("probe", 7, "place:street", 200.0, 0, None, None, b"phone-a"),
        ("probe", 7, "place:street", 200.0, 1, None, None, b"phone-b"),
    ]
    with store.begin() as connection:
        assert insert_readings(connection, same_moment) == 2
        assert insert_readings(connection, same_moment) == 0
        assert (
            insert_readings(connection, [("probe", 7, "place:street", 200.0, 2, None, None, b"c")])
            == 1
        )
    with store.connect() as connection:
        assert count_readings(connection, Selection(device_id="probe")) == 3


def test_readings_stored_before_the_ordinal_keep_their_key(database_url: str) -> None:
    """Upgrading from revision 0005 gives every stored reading ordinal 0 and keeps it unique."""
    engine = open_engine(database_url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(
            text(
                "INSERT INTO readings (device_id, stream_id, subject_id, time, value) "
                "VALUES ('meter', 1, NULL, 100.0, 1.5)"
            )
        )
    migrate(engine)
    with engine.begin() as connection:
        assert insert_readings(connection, [("meter", 1, None, 100.0, 0, 1.5, None, None)]) == 0
        assert insert_readings(connection, [("meter", 1, None, 100.0, 1, 2.5, None, None)]) == 1
    engine.dispose()


def test_a_group_of_packs_counts_each_packs_new_readings_as_if_stored_one_after_another(
    store: Engine,
) -> None:
    """One COPY for a whole group on PostgreSQL, multi-row inserts per pack on SQLite: the same
    counts. A key two packs share is the first pack's; a key already stored is no one's."""
    a = ("probe", 7, None, 300.0, 0, 1.0, None, None)
    b = ("probe", 7, None, 301.0, 0, 2.0, None, None)
    c = ("probe", 7, None, 302.0, 0, 3.0, None, None)
    stored = ROWS[0]
    with store.begin() as connection:
        assert insert_packs(connection, [[a, b], [b, c], [], [a, stored]]) == [2, 1, 0, 0]
        assert insert_packs(connection, [[a, b, c]]) == [0]
        assert insert_packs(connection, []) == []
    with store.connect() as connection:
        assert _times(store, Selection(device_id="probe")) == [
            ("probe", 7, 300.0),
            ("probe", 7, 301.0),
            ("probe", 7, 302.0),
        ]
        assert count_readings(connection) == len(ROWS) + 3


def test_a_pack_longer_than_one_statement_counts_its_new_readings_across_statements(
    store: Engine,
) -> None:
    """SQLite takes a pack in statements of a few hundred rows (a statement's variables are
    bounded): a pack of 1,234 rows, a repeat on each side of a statement's end, and rows an
    earlier pack stored, counted once in all."""
    rows = [("long", 9, None, 500.0 + i, 0, float(i), None, None) for i in range(1_234)]
    repeated = [*rows[:700], rows[499], rows[500], *rows[700:]]
    with store.begin() as connection:
        assert insert_packs(connection, [rows[:10], repeated]) == [10, 1_224]
    with store.connect() as connection:
        assert count_readings(connection, Selection(device_id="long")) == 1_234


def test_packs_of_every_length_are_written_by_a_few_statement_shapes(store: Engine) -> None:
    """SQLite keeps each statement it prepared, per connection, and a statement for 500 rows
    holds about 0.4 MiB: one shape per pack length grew a worker by tens of MiB. Packs of 1 to
    160 rows, all stored, through at most ten shapes."""
    from goodthings.core.store import readings

    with store.begin() as connection:
        for length in range(1, 161):
            rows = [("shapes", length, None, float(i), 0, 1.0, None, None) for i in range(length)]
            assert insert_packs(connection, [rows]) == [length]
    with store.connect() as connection:
        assert count_readings(connection, Selection(device_id="shapes")) == 160 * 161 // 2
    if store.dialect.name == "sqlite":
        assert readings._sqlite_insert.cache_info().currsize <= 10


def test_a_group_rolled_back_stores_nothing_and_the_next_one_stores_all(store: Engine) -> None:
    """The staging table made by a transaction that rolled back is gone with it; the next
    group makes it again."""
    rows = [("probe", 8, None, 400.0 + i, 0, float(i), None, None) for i in range(50)]
    with pytest.raises(RuntimeError), store.begin() as connection:
        assert insert_packs(connection, [rows[:25], rows[25:]]) == [25, 25]
        raise RuntimeError("the ledger entry failed")
    with store.begin() as connection:
        assert insert_packs(connection, [rows]) == [50]
