"""Opening stored readings: a value, or `UNREADABLE` when the key is gone, on both stores.

The attacks: a destroyed key must never raise and never give plaintext, also to an opener (or
a keyring) that had the key cached before the shred, and to a read still inside a transaction
that began before it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from goodthings.core.keys import UNREADABLE, Keyring, KeyVault, ReadingOpener
from goodthings.core.keys.datakeys import context_at, row_context, row_prefix
from goodthings.core.store import tables as t
from goodthings.core.store.engine import migrate, open_engine
from goodthings.core.store.readings import (
    ReadingRow,
    Selection,
    StoredReading,
    insert_readings,
    select_reading_columns,
)
from goodthings.core.store.readings import select_readings as select_stored

MASTER = os.urandom(32)
VALUES: dict[str, list[float | str | bool]] = {
    "alex": [61.5, "asleep", True],
    "sam": [72.0],
}


Fresh = Callable[[], Keyring]


@pytest.fixture
def vault(tmp_path: Path) -> KeyVault:
    return KeyVault(tmp_path / "keys" / "data", tmp_path / "erasures.jsonl")


@pytest.fixture
def fresh(vault: KeyVault) -> Fresh:
    """A new keyring on the one vault: another process of the same deployment."""
    return lambda: Keyring(MASTER, vault)


@pytest.fixture
def store(database_url: str, fresh: Fresh) -> Iterator[Engine]:
    engine = open_engine(database_url)
    migrate(engine)
    keyring = fresh()
    rows: list[ReadingRow] = [("meter", 9, None, 1.0, 0, 230.5, None, None)]
    with engine.begin() as connection:
        keyring.load(connection, sorted(VALUES), create=True)
        for holder, values in VALUES.items():
            sealer = keyring.sealer(holder)
            for moment, value in enumerate(values, start=10):
                context = row_context(f"band-{holder}", 1, float(moment))
                sealed = sealer.seal(value, context)
                rows.append((f"band-{holder}", 1, holder, float(moment), 0, None, None, sealed))
        insert_readings(connection, rows)
    yield engine
    engine.dispose()


def _stored(engine: Engine, holder: str | None = None) -> list[StoredReading]:
    with engine.connect() as connection:
        return list(select_stored(connection, Selection(subject_id=holder)))


def _opened(engine: Engine, keyring: Keyring, holder: str) -> list[object]:
    with engine.connect() as connection:
        opener = ReadingOpener(keyring, connection)
        return [opener.open(reading) for reading in _stored(engine, holder)]


def test_sealed_values_open_as_the_type_they_were_sent_as(store: Engine, fresh: Fresh) -> None:
    keyring = fresh()
    assert _opened(store, keyring, "alex") == [61.5, "asleep", True]
    assert _opened(store, keyring, "sam") == [72.0]


def test_a_plain_reading_opens_without_a_key(store: Engine, vault: KeyVault) -> None:
    (meter,) = [r for r in _stored(store) if r.device_id == "meter"]
    with store.connect() as connection:
        assert ReadingOpener(Keyring(os.urandom(32), vault), connection).open(meter) == 230.5


def test_readable_leaves_out_what_cannot_be_read(store: Engine, fresh: Fresh) -> None:
    keyring = fresh()
    with store.begin() as connection:
        keyring.shred(connection, "sam")
    with store.connect() as connection:
        opener = ReadingOpener(keyring, connection)
        found = [(r.subject_id, v) for r, v in opener.readable(_stored(store))]
    assert found == [(None, 230.5), ("alex", 61.5), ("alex", "asleep"), ("alex", True)]


def test_a_shredded_key_is_unreadable_to_a_keyring_that_never_saw_it(
    store: Engine, fresh: Fresh
) -> None:
    with store.begin() as connection:
        assert fresh().shred(connection, "alex") == 1
    assert _opened(store, fresh(), "alex") == [UNREADABLE] * 3
    assert _opened(store, fresh(), "sam") == [72.0]


def test_an_opener_that_cached_the_key_before_a_shred_elsewhere_opens_nothing_after(
    store: Engine,
    fresh: Fresh,
) -> None:
    keyring = fresh()
    readings = _stored(store, "alex")
    with store.connect() as reading:
        opener = ReadingOpener(keyring, reading)
        assert opener.open(readings[0]) == 61.5
        # The key is destroyed through the same keyring, in another connection, mid-read.
        with store.begin() as shredding:
            keyring.shred(shredding, "alex")
        assert [opener.open(r) for r in readings] == [UNREADABLE] * 3
        assert keyring.cipher(reading, "alex") is None


def test_a_read_in_a_transaction_older_than_the_shred_does_not_bring_the_key_back(
    store: Engine,
    fresh: Fresh,
) -> None:
    keyring = fresh()
    readings = _stored(store, "alex")
    with store.begin() as reading:
        # This transaction's snapshot is older than the shred (SQLite keeps it).
        assert not reading.execute(select(t.destroyed_keys.c.id)).all()
        with store.begin() as shredding:
            keyring.shred(shredding, "alex")
        opener = ReadingOpener(keyring, reading)
        assert [opener.open(r) for r in readings] == [UNREADABLE] * 3
        keyring.load(reading, ["alex"], create=False)
        assert not keyring.has("alex")


def test_a_key_cached_before_a_shred_is_not_kept_after_it(store: Engine, fresh: Fresh) -> None:
    keyring = fresh()
    with store.connect() as reading:
        assert keyring.cipher(reading, "alex") is not None
        with store.begin() as shredding:
            assert keyring.shred(shredding, "alex") == 1
        assert not keyring.has("alex")
        assert keyring.cipher(reading, "alex") is None


def test_a_rolled_back_shred_still_destroys_the_key_and_running_it_again_tells_everyone(
    store: Engine, fresh: Fresh
) -> None:
    """An erasure is never undone: the key file goes whatever becomes of the transaction, and
    the shred that finishes the erasure records it for other processes all the same."""
    keyring, holding = fresh(), fresh()
    assert _opened(store, holding, "alex") == [61.5, "asleep", True]
    with store.connect() as connection:
        keyring.shred(connection, "alex")
        connection.rollback()
    assert _opened(store, keyring, "alex") == [UNREADABLE] * 3
    assert _opened(store, fresh(), "alex") == [UNREADABLE] * 3
    with store.begin() as connection:
        assert keyring.shred(connection, "alex") == 0
    assert _opened(store, holding, "alex") == [UNREADABLE] * 3


def test_a_fresh_key_made_at_ingest_after_a_shred_opens_only_new_readings(
    store: Engine, fresh: Fresh
) -> None:
    keyring = fresh()
    with store.begin() as connection:
        keyring.shred(connection, "alex")
    with store.begin() as connection:
        keyring.load(connection, ["alex"], create=True)
        sealed = keyring.sealer("alex").seal(80.0, row_context("band-alex", 1, 99.0))
        insert_readings(connection, [("band-alex", 1, "alex", 99.0, 0, None, None, sealed)])
    assert _opened(store, keyring, "alex") == [UNREADABLE] * 3 + [80.0]


def test_a_key_destroyed_through_another_keyring_is_not_opened_with_by_the_next_read(
    store: Engine,
    fresh: Fresh,
) -> None:
    """Another keyring stands for another process: it learns only from the store."""
    holding = fresh()
    assert _opened(store, holding, "alex") == [61.5, "asleep", True]
    with store.begin() as connection:
        assert fresh().shred(connection, "alex") == 1
    assert _opened(store, holding, "alex") == [UNREADABLE] * 3
    assert _opened(store, holding, "sam") == [72.0]


def test_a_read_under_way_stops_opening_a_key_destroyed_elsewhere(
    store: Engine, fresh: Fresh
) -> None:
    holding = fresh()
    readings = _stored(store, "alex")
    with store.connect() as reading:
        opener = ReadingOpener(holding, reading)
        assert opener.open(readings[0]) == 61.5
        with store.begin() as connection:
            fresh().shred(connection, "alex")
        deadline = time.monotonic() + 10  # the read looks again within 50 ms; never this long
        while opener.open(readings[0]) != UNREADABLE and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [opener.open(r) for r in readings] == [UNREADABLE] * 3


def test_a_keyring_stops_sealing_with_a_destroyed_key_at_the_gates_refresh(
    store: Engine, fresh: Fresh
) -> None:
    holding = fresh()
    with store.connect() as connection:
        holding.load(connection, ["alex"], create=False)
    with store.begin() as connection:
        fresh().shred(connection, "alex")
    with store.connect() as connection:
        holding.load_held(connection)
    with pytest.raises(KeyError):
        holding.sealer("alex")


def test_a_fresh_key_made_after_a_destroyed_one_is_not_forgotten_with_it(
    store: Engine, fresh: Fresh
) -> None:
    holding = fresh()
    with store.begin() as connection:
        fresh().shred(connection, "alex")
    with store.begin() as connection:
        holding.load(connection, ["alex"], create=True)
        sealed = holding.sealer("alex").seal(80.0, row_context("band-alex", 1, 99.0))
        insert_readings(connection, [("band-alex", 1, "alex", 99.0, 0, None, None, sealed)])
    with store.connect() as connection:
        holding.load_held(connection)
    assert _opened(store, holding, "alex") == [UNREADABLE] * 3 + [80.0]
    assert _opened(store, fresh(), "alex") == [UNREADABLE] * 3 + [80.0]


def test_a_tampered_moved_or_misattributed_value_is_unreadable_not_an_error(
    store: Engine,
    fresh: Fresh,
) -> None:
    alex = _stored(store, "alex")[0]
    assert alex.sealed is not None
    flipped = alex.sealed[:-1] + bytes([alex.sealed[-1] ^ 1])
    device, stream, holder, moment = alex.device_id, alex.stream_id, alex.subject_id, alex.time
    attacks = [
        StoredReading(alex.id, device, stream, holder, moment + 1, None, None, alex.sealed),
        StoredReading(alex.id, "band-sam", stream, holder, moment, None, None, alex.sealed),
        StoredReading(alex.id, device, stream, "sam", moment, None, None, alex.sealed),
        StoredReading(alex.id, device, stream, None, moment, None, None, alex.sealed),
        StoredReading(alex.id, device, stream, holder, moment, None, None, flipped),
        StoredReading(alex.id, device, stream, holder, moment, None, None, alex.sealed[:5]),
        StoredReading(alex.id, device, stream, holder, moment, None, None, b""),
    ]
    with store.connect() as connection:
        opener = ReadingOpener(fresh(), connection)
        assert [opener.open(r) for r in attacks] == [UNREADABLE] * len(attacks)


def test_a_rows_associated_data_keeps_the_format_stored_readings_were_sealed_with() -> None:
    """Sealing and opening build a row's associated data in pieces; the bytes must stay those
    every stored reading was sealed under, or nothing already stored would open."""
    prefix = row_prefix("band-alex", 3)
    assert row_context("band-alex", 3, 1.5) == b"band-alex\x1f3\x1f1.5"
    assert context_at(prefix, 1.5) == row_context("band-alex", 3, 1.5)
    assert context_at(prefix, 1.0) != context_at(row_prefix("band-alex", 4), 1.0)


def test_a_page_opens_as_its_readings_do_one_by_one_and_a_shred_reaches_the_next_page(
    store: Engine, fresh: Fresh
) -> None:
    keyring = fresh()
    readings = _stored(store)
    with store.connect() as connection:
        opener = ReadingOpener(keyring, connection)
        assert opener.readable_page(readings) == list(opener.readable(readings))
        with store.begin() as shredding:
            keyring.shred(shredding, "alex")
        assert [r.subject_id for r, _ in opener.readable_page(readings)] == [None, "sam"]


def test_a_page_of_columns_opens_as_its_readings_do_and_a_shred_reaches_it(
    store: Engine, fresh: Fresh
) -> None:
    """The export's column-wise opening against the reading-by-reading one, on each device's
    stream of the store: values of every type, a plain one, and a stream whose key is then
    shredded (nothing of it is opened any more)."""
    keyring = fresh()
    with store.connect() as connection:
        opener = ReadingOpener(keyring, connection)
        streams = sorted({(r.device_id, r.stream_id) for r in _stored(store)})
        for device, stream in streams:
            [page] = list(select_reading_columns(connection, device, stream))
            readings = [r for r in select_stored(connection, Selection(device_id=device))]
            kept, values, stamps = opener.readable_columns(device, stream, page)
            expected = opener.readable_page(readings)
            assert values == [value for _, value in expected], device
            assert [page.times[i] for i in kept] == [r.time for r, _ in expected]
            assert stamps == [repr(r.time) for r, _ in expected]
        with store.begin() as shredding:
            keyring.shred(shredding, "alex")
        [page] = list(select_reading_columns(connection, "band-alex", 1))
        assert opener.readable_columns("band-alex", 1, page) == ((), [], [])
        forged = page._replace(
            sealed=[b"\x00" * 40] * len(page.times), subject_ids=["sam"] * len(page.times)
        )
        assert opener.readable_columns("band-alex", 1, forged).values == []
