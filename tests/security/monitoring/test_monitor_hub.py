"""The monitor on a real hub (SQLite and PostgreSQL): each detector with a device that misbehaves
that way and one that does not, quarantine through the pipeline, and the minute buckets."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from goodthings.core.store import monitoring
from goodthings.core.store import tables as t
from goodthings.core.store import tables_monitoring as tm
from goodthings.ingest.batch import Refusal
from goodthings.runtime.hub import Hub
from goodthings.security.lockout import Scope
from goodthings.security.monitoring import Monitor, QuarantineError, release
from monitoring_helpers import declare, pack, send


def _detections(hub: Hub, kind: str) -> list[dict[str, object]]:
    with hub.engine.connect() as connection:
        return [d for d in monitoring.select_detections(connection) if d["kind"] == kind]


def _ledger_actions(hub: Hub) -> list[str]:
    with hub.engine.connect() as connection:
        return list(
            connection.execute(
                select(t.ledger_entries.c.action).order_by(t.ledger_entries.c.seq)
            ).scalars()
        )


def _stored(hub: Hub, device: str) -> int:
    with hub.engine.connect() as connection:
        query = select(func.count()).select_from(t.readings).where(t.readings.c.device_id == device)
        return int(connection.execute(query).scalar_one())


def test_a_flooding_device_is_quarantined_and_nothing_it_sends_after_is_kept(
    smart_home: Hub,
) -> None:
    declare(smart_home, "max_rate: 12\nactions:\n  flood: quarantine")
    results = [send(smart_home, pack("thermostat-1", value=i)).results[0] for i in range(20)]
    assert [r.refusal for r in results[:13]] == [None] * 13
    assert {r.refusal for r in results[13:]} == {Refusal.quarantined}
    assert "sent far more than usual" in str(results[13].error)
    assert smart_home.pipeline.quarantined("thermostat-1")
    assert _stored(smart_home, "thermostat-1") == 13
    [flood] = _detections(smart_home, "flood")
    assert flood["action"] == "quarantine" and flood["evidence"] == {
        "messages_last_minute": 13,
        "largest_pack": 1,
        "max_rate": 12,
    }
    assert "quarantine" in _ledger_actions(smart_home)
    # A device of the same fleet at its usual pace goes on.
    for _ in range(12):
        assert send(smart_home, pack("meter-1", "power")).results[0].refusal is None
    assert not smart_home.pipeline.quarantined("meter-1")

    release(smart_home.engine, smart_home.signer, "thermostat-1", reason="re-flashed", actor="op")
    smart_home.pipeline.refresh()
    assert send(smart_home, pack("thermostat-1")).results[0].refusal is None
    assert _ledger_actions(smart_home)[-2:] == ["release", "ingest"]


def test_release_needs_a_reason_and_a_quarantined_device(smart_home: Hub) -> None:
    with pytest.raises(QuarantineError, match="not quarantined"):
        release(smart_home.engine, smart_home.signer, "meter-1", reason="why not", actor="op")
    with pytest.raises(QuarantineError, match="say why"):
        release(smart_home.engine, smart_home.signer, "meter-1", reason=" ", actor="op")


def test_off_profile_streams_raise_an_alert_and_allowed_ones_do_not(smart_home: Hub) -> None:
    declare(smart_home, "allowed_streams: [temperature]")
    send(smart_home, pack("thermostat-1", "temperature"))
    assert _detections(smart_home, "off-profile") == []
    send(smart_home, pack("thermostat-1", "setpoint"))
    send(smart_home, pack("thermostat-1", "no-such-stream"))  # refused, and still seen
    [found] = _detections(smart_home, "off-profile")
    assert found["evidence"]["streams"] == ["setpoint"]  # type: ignore[index]
    assert found["action"] == "alert"
    with smart_home.engine.connect() as connection:
        kinds = connection.execute(select(t.alerts.c.kind)).scalars().all()
    assert "monitor-off-profile" in kinds


def test_an_old_pack_sent_again_is_a_replay_and_a_quick_retry_is_not(smart_home: Hub) -> None:
    retried = pack("thermostat-1")
    send(smart_home, retried)
    send(smart_home, retried)  # the device did not hear the answer and sent it again
    assert _detections(smart_home, "replay") == []
    old = pack("thermostat-1", at=time.time() - 1200)
    send(smart_home, old)
    assert _detections(smart_home, "replay") == []
    send(smart_home, old)
    [found] = _detections(smart_home, "replay")
    assert found["evidence"] == {"repeated_packs": 1}


def test_readings_dated_long_before_they_arrive_are_a_replay(smart_home: Hub) -> None:
    declare(smart_home, "max_clock_offset: PT10M")
    send(smart_home, pack("thermostat-1", at=time.time() - 300))
    assert _detections(smart_home, "replay") == []
    send(smart_home, pack("thermostat-1", at=time.time() - 3600))
    assert len(_detections(smart_home, "replay")) == 1


def test_failed_sign_ins_against_many_devices_from_one_address_are_credential_stuffing(
    smart_home: Hub,
) -> None:
    for name in ["meter-1", "thermostat-1", "front-door", "presence-living"]:
        smart_home.lockout.failed((Scope.address, "192.0.2.7"), (Scope.device, name))
    for _ in range(10):  # one device's forgotten password: many failures, one name
        smart_home.lockout.failed((Scope.address, "192.0.2.8"), (Scope.device, "meter-1"))
    assert _detections(smart_home, "credential-stuffing") == []
    smart_home.lockout.failed((Scope.address, "192.0.2.7"), (Scope.device, "admin"))
    [found] = _detections(smart_home, "credential-stuffing")
    assert found["source"] == "192.0.2.7" and found["severity"] == "critical"


def test_an_older_firmware_than_before_is_a_downgrade(smart_home: Hub) -> None:
    monitor = smart_home.monitor
    assert monitor is not None
    monitor.birth("thermostat-1", "5.0.2")
    monitor.birth("thermostat-1", "5.1.0")  # an update
    assert _detections(smart_home, "firmware-downgrade") == []
    monitor.birth("thermostat-1", "5.0.2")
    [found] = _detections(smart_home, "firmware-downgrade")
    assert found["evidence"] == {"before": "5.1.0", "now": "5.0.2"}


def test_a_device_silent_for_three_intervals_is_found(smart_home: Hub) -> None:
    declare(smart_home, "interval: PT5M")
    now = [time.time()]
    monitor = Monitor(smart_home.engine, smart_home.signer, clock=lambda: now[0])
    smart_home.pipeline.observer = monitor.observe
    send(smart_home, pack("thermostat-1"))
    send(smart_home, pack("meter-1", "power"))  # no interval declared: never silent
    now[0] += 3 * 300 - 5
    assert monitor.tick() == []
    now[0] += 10
    [acted] = monitor.tick()
    assert acted.finding.device_id == "thermostat-1"
    assert "sent nothing for 15 minutes" in acted.finding.explanation


def test_a_device_past_its_support_period_is_said_once(smart_home: Hub) -> None:
    declare(smart_home, "max_rate: 100", support_until="2020-01-31")
    send(smart_home, pack("meter-1", "power"))
    assert _detections(smart_home, "past-support") == []
    send(smart_home, pack("thermostat-1"))
    send(smart_home, pack("thermostat-1", at=time.time() + 0.5))
    [found] = _detections(smart_home, "past-support")
    assert found["device_id"] == "thermostat-1"


def test_a_flood_against_the_learned_baseline_is_said_in_times_usual(smart_home: Hub) -> None:
    declare(smart_home, "warm_up: PT1H\nactions:\n  flood: quarantine")
    monitor = smart_home.monitor
    assert monitor is not None
    minute = int(time.time() // 60)
    usual = [
        monitoring.MinuteBucket(device, m, messages=1)
        for device in ("thermostat-1", "meter-1")
        for m in range(minute - 70, minute, 5)
    ]
    with smart_home.engine.begin() as connection:
        monitoring.merge_minutes(connection, usual)
    monitor.learn()
    baseline = monitor.baseline("thermostat-1")
    assert baseline is not None and baseline.median == 0.2
    start = time.time()
    for i in range(30):
        send(smart_home, pack("meter-1", "power", at=start + i / 100))  # no quarantine action
        send(smart_home, pack("thermostat-1", at=start + i / 100))
    [flood] = [d for d in _detections(smart_home, "flood") if d["device_id"] == "thermostat-1"]
    assert "sent 100 times its usual rate" in str(flood["explanation"])
    assert smart_home.pipeline.quarantined("thermostat-1")
    assert not smart_home.pipeline.quarantined("meter-1")


def test_behaviour_is_kept_in_minute_buckets(smart_home: Hub) -> None:
    monitor = smart_home.monitor
    assert monitor is not None
    first = pack("thermostat-1")
    send(smart_home, first, pack("thermostat-1", "setpoint", at=time.time() + 1))
    send(smart_home, pack("thermostat-1", "no-such-stream"), first)
    send(smart_home, pack("not-a-device"))  # refused, and no bucket for a name nobody declared
    monitor.birth("thermostat-1", "5.1.0")
    monitor.connected("thermostat-1")
    smart_home.lockout.failed((Scope.address, "192.0.2.9"), (Scope.device, "meter-1"))
    monitor.flush()
    monitor.flush()  # nothing new: nothing doubled
    with smart_home.engine.connect() as connection:
        [bucket] = monitoring.select_minutes(connection, since=0, device_id="thermostat-1")
        assert monitoring.select_minutes(connection, since=0, device_id="not-a-device") == []
        sign_ins = connection.execute(select(tm.sign_in_minutes)).all()
    assert (bucket.messages, bucket.records, bucket.connections) == (4, 3, 1)
    assert bucket.streams == {"temperature", "setpoint", "no-such-stream"}
    assert bucket.dropped == {"duplicate": 1}
    assert bucket.refused == {"unknown_stream": 1}
    assert bucket.firmware == "5.1.0"
    assert bucket.clock_offset_max is not None and bucket.clock_offset_min is not None
    assert [(row.source, row.failures, row.devices) for row in sign_ins] == [
        ("192.0.2.9", 1, ["meter-1"])
    ]


def test_a_failing_monitor_does_not_fail_a_committed_batch(
    smart_home: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_packs: object) -> None:
        raise RuntimeError("the monitor's store is gone")

    smart_home.pipeline.observer = broken
    outcome = send(smart_home, pack("thermostat-1"))
    assert outcome.results[0].stored == 1
    assert "the monitor failed on a batch (RuntimeError)" in caplog.text
