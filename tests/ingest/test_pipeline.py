"""The ingest pipeline end to end on a real store (SQLite and PostgreSQL): gate, seal, store, ledger."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from goodthings.core.keys.datakeys import Keyring, open_sealed, row_context
from goodthings.core.keys.files import load_master_key
from goodthings.core.keys.vault import KeyVault
from goodthings.core.ledger import journal as ledger_store
from goodthings.core.ledger.verify import verify
from goodthings.core.store import tables as t
from goodthings.core.store.engine import open_engine
from goodthings.ingest.batch import Incoming, Refusal
from goodthings.ingest.pipeline import Pipeline
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub

NOW = 1_790_000_000.0


def pack(*records: dict[str, object], bt: float = NOW) -> bytes:
    first, *rest = records
    return json.dumps([{"bt": bt, **first}, *rest]).encode()


def send(hub: Hub, device: str, payload: bytes) -> tuple[Refusal | None, dict[str, object]]:
    outcome = hub.pipeline.ingest([Incoming(device, payload, time.time())])
    result = outcome.results[0]
    body = {"stored": result.stored, "dropped": dict(result.dropped), "error": result.error}
    return result.refusal, body


def count_readings(hub: Hub) -> int:
    with hub.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.readings)).scalar_one())


def test_non_personal_readings_are_stored_in_clear(smart_home: Hub) -> None:
    refusal, body = send(
        smart_home, "thermostat-1", pack({"n": "temperature", "u": "Cel", "v": 21.5})
    )
    assert (refusal, body["stored"]) == (None, 1)
    with smart_home.engine.connect() as connection:
        row = connection.execute(select(t.readings)).mappings().one()
    assert (row["value"], row["sealed"], row["subject_id"]) == (21.5, None, None)


def test_personal_readings_are_sealed_to_their_holder(smart_home: Hub) -> None:
    refusal, body = send(
        smart_home, "meter-1", pack({"n": "power", "v": 432.0}, {"n": "power", "t": 1, "v": 440.0})
    )
    assert (refusal, body["stored"]) == (None, 2)
    with smart_home.engine.connect() as connection:
        rows = connection.execute(select(t.readings).order_by(t.readings.c.time)).mappings().all()
        cipher = smart_home.keyring.cipher(connection, "place:flat-4")
    assert cipher is not None
    assert [r["value"] for r in rows] == [None, None]
    assert {r["subject_id"] for r in rows} == {"place:flat-4"}
    opened = [
        open_sealed(cipher, r["sealed"], row_context(r["device_id"], r["stream_id"], r["time"]))
        for r in rows
    ]
    assert opened == [432.0, 440.0]


def test_consent_streams_are_dropped_until_consent_then_stored(smart_home: Hub) -> None:
    payload = pack({"n": "heart_rate", "v": 61.0})
    assert send(smart_home, "band-alex", payload)[1]["dropped"] == {"no_consent": 1}
    assert count_readings(smart_home) == 0
    change = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation", level="coarse")
    consent.give(smart_home.engine, smart_home.signer, change)
    smart_home.pipeline.refresh()
    refusal, body = send(smart_home, "band-alex", pack({"n": "heart_rate", "v": 61.0}, bt=NOW + 10))
    assert (refusal, body["stored"], body["dropped"]) == (None, 1, {})
    with smart_home.engine.connect() as connection:
        row = connection.execute(select(t.readings)).mappings().one()
        cipher = smart_home.keyring.cipher(connection, "alex")
    assert cipher is not None
    value = open_sealed(
        cipher, row["sealed"], row_context("band-alex", row["stream_id"], row["time"])
    )
    assert value == 60.0  # coarse: rounded to the stream's step of 5


def test_withdrawal_reaches_another_process_within_its_refresh_interval(smart_home: Hub) -> None:
    change = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation")
    consent.give(smart_home.engine, smart_home.signer, change)
    # A second pipeline on its own connection pool stands for another worker process.
    engine = open_engine(smart_home.home.database_url)
    other = Pipeline(
        engine,
        Keyring(load_master_key(smart_home.home.keys_dir), KeyVault.of(smart_home.home)),
        smart_home.signer,
    )
    first = other.ingest([Incoming("band-alex", pack({"n": "heart_rate", "v": 70.0}), time.time())])
    assert first.results[0].stored == 1
    consent.withdraw(smart_home.engine, smart_home.signer, change)
    withdrawn_at = time.monotonic()
    while True:
        later = pack({"n": "heart_rate", "v": 71.0}, bt=NOW + time.monotonic())
        result = other.ingest([Incoming("band-alex", later, time.time())]).results[0]
        if result.dropped == {"no_consent": 1}:
            break
        assert time.monotonic() - withdrawn_at < 5.0, "withdrawal never reached the other worker"
    stored = count_readings(smart_home)
    again = other.ingest(
        [Incoming("band-alex", pack({"n": "heart_rate", "v": 72.0}, bt=NOW - 1), time.time())]
    )
    assert again.results[0].dropped == {"no_consent": 1}
    assert count_readings(smart_home) == stored
    engine.dispose()


def test_a_malformed_pack_stores_nothing_of_itself(smart_home: Hub) -> None:
    good = Incoming("thermostat-1", pack({"n": "temperature", "v": 20.0}), time.time())
    bad = Incoming(
        "thermostat-1",
        b'[{"n": "temperature", "v": 20.0}, {"n": "temperature", "v": "x"}]',
        time.time(),
    )
    outcome = smart_home.pipeline.ingest([good, bad])
    assert outcome.results[1].refusal is Refusal.malformed
    assert (
        outcome.results[1].error
        == 'record 1, field \'v\': expected a number, got "x" (a string); use "vs" for text values'
    )
    assert count_readings(smart_home) == 1


def test_a_stream_the_device_does_not_have_refuses_the_whole_pack(smart_home: Hub) -> None:
    refusal, body = send(
        smart_home, "thermostat-1", pack({"n": "temperature", "v": 20.0}, {"n": "power", "v": 1.0})
    )
    assert refusal is Refusal.unknown_stream
    assert (
        body["error"]
        == "record 1: device 'thermostat-1' has no stream 'power'; its streams are: setpoint, temperature"
    )
    assert count_readings(smart_home) == 0


def test_the_device_s_own_id_as_base_name_is_understood(smart_home: Hub) -> None:
    for offset, separator in enumerate(":/."):
        record = {"bn": f"thermostat-1{separator}", "n": "temperature", "v": 20.0}
        records = pack(record, bt=NOW + offset)
        refusal, body = send(smart_home, "thermostat-1", records)
        assert (refusal, body["stored"]) == (None, 1), separator
    assert (
        send(smart_home, "thermostat-1", pack({"bn": "meter-1:", "n": "temperature", "v": 1.0}))[0]
        is Refusal.unknown_stream
    )


def test_an_unknown_device_is_refused(smart_home: Hub) -> None:
    refusal, body = send(smart_home, "toaster", pack({"n": "temperature", "v": 20.0}))
    assert refusal is Refusal.unknown_device and "no device 'toaster'" in str(body["error"])


def test_a_redelivered_pack_is_stored_once(smart_home: Hub) -> None:
    payload = pack({"n": "temperature", "v": 20.0}, {"n": "temperature", "t": 60, "v": 20.5})
    assert send(smart_home, "thermostat-1", payload)[1]["stored"] == 2
    refusal, body = send(smart_home, "thermostat-1", payload)
    assert (refusal, body["stored"], body["dropped"]) == (None, 0, {"duplicate": 2})
    assert count_readings(smart_home) == 2


@pytest.mark.parametrize(
    ("device", "stream"), [("thermostat-1", "temperature"), ("meter-1", "power")]
)
def test_distinct_readings_at_one_moment_are_all_stored_and_redelivery_still_stores_once(
    smart_home: Hub, device: str, stream: str
) -> None:
    """Two phones seen at the same moment are two readings; the same pack again is none."""
    payload = pack({"n": stream, "v": 1.0}, {"n": stream, "v": 2.0}, {"n": stream, "v": 2.0})
    refusal, body = send(smart_home, device, payload)
    assert (refusal, body["stored"], body["dropped"]) == (None, 3, {})
    refusal, body = send(smart_home, device, payload)
    assert (refusal, body["stored"], body["dropped"]) == (None, 0, {"duplicate": 3})
    assert count_readings(smart_home) == 3
    with smart_home.engine.connect() as connection:
        rows = connection.execute(select(t.readings.c.time, t.readings.c.ordinal)).all()
    assert sorted(rows) == [(NOW, 0), (NOW, 1), (NOW, 2)]


def test_each_batch_is_one_verifiable_ledger_entry(smart_home: Hub) -> None:
    for offset in range(3):
        send(smart_home, "thermostat-1", pack({"n": "temperature", "v": 20.0}, bt=NOW + offset))
    send(smart_home, "band-alex", pack({"n": "heart_rate", "v": 61.0}))
    with smart_home.engine.connect() as connection:
        entries = list(ledger_store.entries(connection))
        checkpoints = ledger_store.checkpoints(connection)
    ingest = [e for e in entries if e.action == "ingest"]
    assert [dict(e.counts) for e in ingest] == [{"received": 1, "stored": 1}] * 3 + [
        {"received": 1, "dropped.no_consent": 1}
    ]
    assert verify(entries, checkpoints, smart_home.signer.public_key()).ok


def _aggregate_presence(hub: Hub) -> None:
    """Both people in the living room agree to presence at the aggregate level."""
    for person in ("alex", "sam"):
        change = consent.ConsentChange(
            person, "presence", "OptimisationForConsumer", level="aggregate"
        )
        consent.give(hub.engine, hub.signer, change)
    hub.pipeline.refresh()


def test_aggregate_level_keeps_one_summary_per_window(smart_home: Hub) -> None:
    _aggregate_presence(smart_home)
    records = [{"n": "presence", "vb": i % 2 == 0, "t": float(i)} for i in range(10)]
    refusal, body = send(smart_home, "presence-living", pack(*records, bt=3600 * 490_000))
    assert (refusal, body["stored"]) == (None, 1)


def _stored(hub: Hub) -> list[tuple[float, object]]:
    """(time, opened value) of every stored reading, oldest first."""
    with hub.engine.connect() as connection:
        rows = connection.execute(select(t.readings).order_by(t.readings.c.time)).mappings().all()
        found = []
        for row in rows:
            cipher = hub.keyring.cipher(connection, row["subject_id"])
            assert cipher is not None
            context = row_context(row["device_id"], row["stream_id"], row["time"])
            found.append((row["time"], open_sealed(cipher, row["sealed"], context)))
    return found


def test_an_aggregate_is_stamped_at_its_windows_start_and_a_yes_no_summary_is_a_share(
    smart_home: Hub,
) -> None:
    _aggregate_presence(smart_home)
    hour = 3600.0 * 490_000
    records = [{"n": "presence", "vb": i < 3, "t": 120.0 + i} for i in range(4)]
    refusal, body = send(smart_home, "presence-living", pack(*records, bt=hour))
    assert (refusal, body["stored"], body["dropped"]) == (None, 1, {})
    assert _stored(smart_home) == [(hour, 0.75)]  # not 123 s past the hour: no reading's time


def _coarse_heart_rate(hub: Hub) -> None:
    change = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation", level="coarse")
    consent.give(hub.engine, hub.signer, change)
    hub.pipeline.refresh()


def test_a_sum_on_a_coarse_stream_is_rounded_like_a_value(smart_home: Hub) -> None:
    _coarse_heart_rate(smart_home)
    refusal, body = send(smart_home, "band-alex", pack({"n": "heart_rate", "s": 61.0}))
    assert (refusal, body["stored"]) == (None, 1)
    assert _stored(smart_home) == [(NOW, 60.0)]


def test_text_on_a_coarse_stream_is_withheld_and_counted_not_stored_exactly(
    smart_home: Hub,
) -> None:
    _coarse_heart_rate(smart_home)
    payload = pack({"n": "heart_rate", "v": 73.0}, {"n": "heart_rate", "vs": "racing", "t": 1})
    refusal, body = send(smart_home, "band-alex", payload)
    assert (refusal, body["stored"], body["dropped"]) == (None, 1, {"unminimisable": 1})
    assert _stored(smart_home) == [(NOW, 75.0)]
    with smart_home.engine.connect() as connection:
        entry = list(ledger_store.entries(connection))[-1]
    assert dict(entry.counts)["dropped.unminimisable"] == 1


def test_a_later_pack_in_a_window_already_summarised_is_counted_as_a_duplicate(
    smart_home: Hub,
) -> None:
    _aggregate_presence(smart_home)
    hour = 3600.0 * 490_000
    first = send(smart_home, "presence-living", pack({"n": "presence", "vb": True}, bt=hour + 60))
    later = send(smart_home, "presence-living", pack({"n": "presence", "vb": False}, bt=hour + 90))
    assert first[1]["dropped"] == {}
    assert later[1]["dropped"] == {"duplicate": 1}
    assert _stored(smart_home) == [(hour, 1.0)]
