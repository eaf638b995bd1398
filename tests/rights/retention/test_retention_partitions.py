"""Retention on PostgreSQL's months: a month wholly past retention is dropped whole and
ledgered per stream; a month that still holds a reading kept longer stays, its due rows deleted."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select, text

from goodthings.core.ledger import journal as ledger_store
from goodthings.core.ledger.verify import verify
from goodthings.core.store import partitions
from goodthings.core.store import tables as t
from goodthings.ingest.batch import Incoming
from goodthings.rights.retention import purge_expired
from goodthings.runtime.hub import Hub

DAY = 86_400.0
NOW = 1_790_000_000.0  # 2026-09-21
FEBRUARY = partitions.Month(2026, 2)
MARCH = partitions.Month(2026, 3)


def _send(hub: Hub, device: str, name: str, *moments: float) -> None:
    records = [{"n": name, "t": moment, "v": 20.0} for moment in moments]
    outcome = hub.pipeline.ingest([Incoming(device, json.dumps(records).encode(), time.time())])
    assert outcome.results[0].stored == len(moments), outcome


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_month_wholly_past_retention_is_dropped_and_one_kept_longer_stays(
    smart_home: Hub,
) -> None:
    with smart_home.engine.begin() as connection:
        partitions.ensure_months(connection, [FEBRUARY, MARCH])
    _send(smart_home, "thermostat-1", "temperature", FEBRUARY.start + DAY, FEBRUARY.start + 2 * DAY)
    _send(smart_home, "thermostat-1", "temperature", MARCH.start + DAY)
    _send(smart_home, "meter-1", "power", MARCH.start + DAY)  # kept 13 months
    purges = purge_expired(smart_home.engine, smart_home.signer, now=NOW)
    assert [(p.stream, p.deleted, p.partition) for p in purges] == [
        ("thermia-t5/temperature", 2, "readings_y2026m02"),
        ("thermia-t5/temperature", 1, None),
    ]
    with smart_home.engine.connect() as connection:
        left = {m.name for m in partitions.months(connection)}
        assert "readings_y2026m02" not in left and "readings_y2026m03" in left
        assert connection.execute(select(t.readings.c.time)).scalars().all() == [MARCH.start + DAY]
        # The next months are made by the same run, before any reading of them arrives.
        assert {"readings_y2026m09", "readings_y2026m10", "readings_y2026m11"} <= left
        entries = list(ledger_store.entries(connection))
        report = verify(
            ledger_store.entries(connection),
            ledger_store.checkpoints(connection),
            smart_home.signer.public_key(),
        )
        kinds = connection.execute(
            text("SELECT relkind FROM pg_class WHERE relname = 'readings_y2026m02'")
        ).all()
    assert kinds == []
    dropped = next(e for e in entries if e.seq == purges[0].ledger_seq)
    assert (dropped.action, dropped.object, dropped.counts) == (
        "purge",
        "stream:thermia-t5/temperature",
        {"deleted": 2},
    )
    assert report.ok, report
    assert purge_expired(smart_home.engine, smart_home.signer, now=NOW) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_late_reading_of_a_stream_kept_longer_keeps_its_month(smart_home: Hub) -> None:
    """A month that was all past retention is kept once a reading kept longer arrives in it
    (a device's backlog); only the due rows go."""
    with smart_home.engine.begin() as connection:
        partitions.ensure_months(connection, [FEBRUARY])
    _send(smart_home, "thermostat-1", "temperature", FEBRUARY.start + DAY)
    _send(smart_home, "meter-1", "power", FEBRUARY.start + DAY)
    purge_expired(smart_home.engine, smart_home.signer, now=NOW)
    with smart_home.engine.connect() as connection:
        assert FEBRUARY in partitions.months(connection)
        assert connection.execute(select(t.readings.c.time)).scalars().all() == [
            FEBRUARY.start + DAY
        ]
