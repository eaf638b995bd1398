"""Retention on a real store: what is past its stream's retention is purged, and ledgered."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.ledger import journal as ledger_store
from goodthings.core.ledger.verify import verify
from goodthings.core.store import insert_readings
from goodthings.core.store import tables as t
from goodthings.ingest.batch import Incoming
from goodthings.rights.retention import purge_expired
from goodthings.runtime.hub import Hub

DAY = 86_400.0
NOW = 1_790_000_000.0


def _send(hub: Hub, device: str, name: str, *ages_in_days: float) -> None:
    records = [{"n": name, "t": NOW - age * DAY, "v": 20.0 + age} for age in ages_in_days]
    outcome = hub.pipeline.ingest([Incoming(device, json.dumps(records).encode(), time.time())])
    assert outcome.results[0].stored == len(ages_in_days)


def _times(hub: Hub) -> list[float]:
    with hub.engine.connect() as connection:
        return sorted(connection.execute(select(t.readings.c.time)).scalars())


def test_readings_past_retention_are_purged_with_a_ledger_entry(smart_home: Hub) -> None:
    _send(smart_home, "thermostat-1", "temperature", 40, 31, 29, 1)  # kept 30 days
    _send(smart_home, "meter-1", "power", 40)  # kept 13 months
    purges = purge_expired(smart_home.engine, smart_home.signer, now=NOW)
    assert [(p.stream, p.deleted) for p in purges] == [("thermia-t5/temperature", 2)]
    assert _times(smart_home) == sorted([NOW - 40 * DAY, NOW - 29 * DAY, NOW - 1 * DAY])
    with smart_home.engine.connect() as connection:
        entries = list(ledger_store.entries(connection))
    purge = entries[-1]
    assert (purge.actor, purge.action, purge.object) == (
        "hub:retention",
        "purge",
        "stream:thermia-t5/temperature",
    )
    assert purge.counts == {"deleted": 2} and purge.seq == purges[0].ledger_seq
    assert purge_expired(smart_home.engine, smart_home.signer, now=NOW) == []


def test_the_ledger_still_verifies_after_purges(smart_home: Hub) -> None:
    _send(smart_home, "thermostat-1", "temperature", 40)
    purge_expired(smart_home.engine, smart_home.signer, now=NOW)
    with smart_home.engine.connect() as connection:
        report = verify(
            ledger_store.entries(connection),
            ledger_store.checkpoints(connection),
            smart_home.signer.public_key(),
        )
    assert report.ok, report


def test_retention_run_command(capsys: pytest.CaptureFixture[str], home: Home) -> None:
    assert run(capsys, "init", str(home.root)).code == 0
    first = run(capsys, "retention", "run", "--home", str(home.root))
    assert first.code == 0 and "Nothing was past its retention period." in first.out
    hub = Hub.open(home)
    try:
        records = [{"n": "temperature", "t": time.time() - 60 * DAY, "v": 19.0}]
        hub.pipeline.ingest([Incoming("thermostat-1", json.dumps(records).encode(), time.time())])
    finally:
        hub.close()
    ran = run(capsys, "retention", "run", "--json", "--home", str(home.root))
    assert ran.code == 0
    assert [(p["stream"], p["deleted"]) for p in json.loads(ran.out)] == [
        ("thermia-t5/temperature", 1)
    ]


def test_a_reading_dated_beyond_the_clock_skew_allowance_is_due_at_once(smart_home: Hub) -> None:
    """A time the hub would now refuse cannot be trusted to say when retention ends."""
    with smart_home.engine.begin() as connection:
        stream_id = connection.execute(
            select(t.streams.c.id).where(t.streams.c.name == "temperature")
        ).scalar_one()
        rows = [
            ("thermostat-1", stream_id, None, moment, 0, 20.0, None, None)
            for moment in (NOW - DAY, NOW + 200.0, NOW + 10 * 365 * DAY, 1e300)
        ]
        insert_readings(connection, rows)
    purges = purge_expired(smart_home.engine, smart_home.signer, now=NOW)
    assert [(p.stream, p.deleted, p.future_dated) for p in purges] == [
        ("thermia-t5/temperature", 2, 2)
    ]
    assert _times(smart_home) == [NOW - DAY, NOW + 200.0]


def test_a_purge_reports_each_stream_it_looks_at(smart_home: Hub) -> None:
    steps: list[tuple[int, int, str]] = []
    purge_expired(
        smart_home.engine, smart_home.signer, now=NOW, step=lambda *seen: steps.append(seen)
    )
    total = steps[0][1]
    assert [done for done, _, _ in steps] == list(range(total))
    assert {each for _, each, _ in steps} == {total}
    assert "thermia-t5/temperature" in {stream for _, _, stream in steps}
