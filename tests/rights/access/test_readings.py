"""Purpose-bound reads through the gate on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from goodthings.core.store import tables as t
from goodthings.ingest.batch import Incoming
from goodthings.rights.access import AccessError, Grant, ReadingsQuery, ReadResult, read_readings
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub

HOUR = 3600.0
START = 1_790_002_800.0  # on the hour: windows of an hour start here
POWER = [(START + 60, 432.0), (START + 120, 461.0), (START + HOUR + 60, 1210.0)]
DASHBOARD = Grant("energy-dashboard", ("OptimisationForConsumer",), time.time() + 300)


def _ingest(hub: Hub) -> None:
    records = [{"n": "power", "t": moment, "v": value} for moment, value in POWER]
    outcome = hub.pipeline.ingest([Incoming("meter-1", json.dumps(records).encode(), time.time())])
    assert outcome.results[0].stored == len(POWER)
    heat = [{"n": "temperature", "t": START, "v": 21.5}]
    hub.pipeline.ingest([Incoming("thermostat-1", json.dumps(heat).encode(), time.time())])


def _consent(hub: Hub, subject: str, level: str | None) -> None:
    change = consent.ConsentChange(
        subject, "power", "OptimisationForConsumer", level=level or "exact"
    )
    if level is None:
        consent.withdraw(hub.engine, hub.signer, change)
    else:
        consent.give(hub.engine, hub.signer, change)


def _read(hub: Hub, grant: Grant = DASHBOARD, **query: object) -> ReadResult:
    wanted = {"stream": "power", "purpose": "OptimisationForConsumer", **query}
    return read_readings(hub.engine, hub.keyring, hub.signer, grant, ReadingsQuery(**wanted))  # type: ignore[arg-type]


def _ledger_entry(hub: Hub, seq: int) -> dict[str, object]:
    with hub.engine.connect() as connection:
        row = connection.execute(select(t.ledger_entries).where(t.ledger_entries.c.seq == seq))
        return dict(row.mappings().one())


def test_without_consent_nothing_is_returned_and_the_ledger_says_so(smart_home: Hub) -> None:
    _ingest(smart_home)
    result = _read(smart_home)
    assert result.readings == ()
    assert result.withheld == {"no_consent": 1}
    entry = _ledger_entry(smart_home, result.ledger_seq)
    assert entry["actor"] == "application:energy-dashboard"
    assert entry["action"] == "read"
    assert entry["purpose"] == "OptimisationForConsumer"
    assert entry["counts"] == {"returned": 0, "withheld.no_consent": 1}


def test_with_everyones_consent_readings_are_returned_exactly(smart_home: Hub) -> None:
    _ingest(smart_home)
    _consent(smart_home, "alex", "exact")
    assert _read(smart_home).readings == ()  # sam has not agreed
    _consent(smart_home, "sam", "exact")
    result = _read(smart_home)
    assert [(r.time, r.value, r.level) for r in result.readings] == [
        (moment, value, "exact") for moment, value in POWER
    ]
    entry = _ledger_entry(smart_home, result.ledger_seq)
    assert entry["counts"] == {"returned": 3, "returned.meter-1": 3}


def test_the_coarsest_choice_wins(smart_home: Hub) -> None:
    _ingest(smart_home)
    _consent(smart_home, "alex", "exact")
    _consent(smart_home, "sam", "coarse")
    assert [r.value for r in _read(smart_home).readings] == [400.0, 500.0, 1200.0]
    _consent(smart_home, "alex", "aggregate")
    summary = _read(smart_home).readings
    assert [(r.time, r.value, r.count, r.level) for r in summary] == [
        (START, (432.0 + 461.0) / 2, 2, "aggregate"),
        (START + HOUR, 1210.0, 1, "aggregate"),
    ]


def test_withdrawal_stops_the_next_read(smart_home: Hub) -> None:
    _ingest(smart_home)
    _consent(smart_home, "alex", "exact")
    _consent(smart_home, "sam", "exact")
    assert len(_read(smart_home).readings) == 3
    _consent(smart_home, "sam", None)
    assert _read(smart_home).readings == ()


def test_time_range_and_limit(smart_home: Hub) -> None:
    _ingest(smart_home)
    _consent(smart_home, "alex", "exact")
    _consent(smart_home, "sam", "exact")
    window = _read(smart_home, start=START + 100, end=START + HOUR)
    assert [r.value for r in window.readings] == [461.0]
    limited = _read(smart_home, limit=2)
    assert len(limited.readings) == 2 and limited.truncated


def test_non_personal_stream_for_a_declared_purpose(smart_home: Hub) -> None:
    _ingest(smart_home)
    grant = Grant("heating-control", ("ServiceProvision",), time.time() + 300)
    result = read_readings(
        smart_home.engine,
        smart_home.keyring,
        smart_home.signer,
        grant,
        ReadingsQuery("temperature", "ServiceProvision"),
    )
    assert [(r.device_id, r.value) for r in result.readings] == [("thermostat-1", 21.5)]


@pytest.mark.parametrize(
    ("grant", "stream", "purpose", "message"),
    [
        (DASHBOARD, "power", "ResearchAndDevelopment", "does not allow the purpose"),
        (
            Grant("energy-dashboard", ("ResearchAndDevelopment",), time.time() + 300),
            "power",
            "ResearchAndDevelopment",
            "not declared for 'ResearchAndDevelopment'",
        ),
        (DASHBOARD, "heart_rate", "OptimisationForConsumer", "does not read a stream 'heart_rate'"),
        (
            Grant("heating-control", ("ServiceProvision",), time.time() + 300),
            "power",
            "ServiceProvision",
            "does not read a stream 'power'",
        ),
    ],
)
def test_outside_the_applications_purposes_and_streams_nothing_is_read(
    smart_home: Hub, grant: Grant, stream: str, purpose: str, message: str
) -> None:
    _ingest(smart_home)
    _consent(smart_home, "alex", "exact")
    _consent(smart_home, "sam", "exact")
    with pytest.raises(AccessError, match=message) as refused:
        read_readings(
            smart_home.engine,
            smart_home.keyring,
            smart_home.signer,
            grant,
            ReadingsQuery(stream, purpose),
        )
    assert refused.value.status == 403


_RANK = {"exact": 0, "coarse": 1, "aggregate": 2, "off": 3}
_CHOICE = st.one_of(st.none(), st.sampled_from(["exact", "coarse", "aggregate", "off"]))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    alex=_CHOICE,
    sam=_CHOICE,
    purpose=st.sampled_from(["OptimisationForConsumer", "ResearchAndDevelopment"]),
)
def test_property_never_outside_consent_nor_finer_than_allowed(
    smart_home: Hub, alex: str | None, sam: str | None, purpose: str
) -> None:
    with smart_home.engine.connect() as connection:
        if connection.execute(select(t.readings.c.id).limit(1)).first() is None:
            _ingest(smart_home)
    _consent(smart_home, "alex", alex)
    _consent(smart_home, "sam", sam)
    grant = Grant(
        "energy-dashboard", ("OptimisationForConsumer", "ResearchAndDevelopment"), time.time() + 300
    )
    if purpose != "OptimisationForConsumer":
        with pytest.raises(AccessError):
            _read(smart_home, grant, purpose=purpose)
        return
    readings = _read(smart_home, grant).readings
    if alex in {None, "off"} or sam in {None, "off"}:
        assert readings == ()
        return
    allowed = max(alex, sam, key=_RANK.__getitem__)  # type: ignore[arg-type]
    assert readings and {r.level for r in readings} == {allowed}
    if allowed == "coarse":
        assert all(float(r.value) % 100 == 0 for r in readings)
    if allowed == "aggregate":
        assert [r.count for r in readings] == [2, 1]
        assert all(r.time % HOUR == 0 for r in readings)
    if allowed == "exact":
        assert [r.value for r in readings] == [value for _, value in POWER]


def test_a_reading_that_cannot_be_rounded_is_withheld_at_coarse_not_returned_exactly(
    smart_home: Hub,
) -> None:
    _ingest(smart_home)
    odd = [{"n": "power", "t": START + 180, "vs": "meter tampered"}]
    smart_home.pipeline.ingest([Incoming("meter-1", json.dumps(odd).encode(), time.time())])
    _consent(smart_home, "alex", "exact")
    _consent(smart_home, "sam", "exact")
    assert "meter tampered" in [r.value for r in _read(smart_home).readings]
    _consent(smart_home, "sam", "coarse")
    assert [(r.time, r.value) for r in _read(smart_home).readings] == [
        (START + 60, 400.0),
        (START + 120, 500.0),
        (START + HOUR + 60, 1200.0),
    ]
