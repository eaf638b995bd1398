"""The hub's periodic jobs: they run, survive failures, and purge what retention says."""

from __future__ import annotations

import json
import logging
import threading
import time

import httpx2
import pytest
from sqlalchemy import func, select

from goodthings.core.store import tables as t
from goodthings.ingest.batch import Incoming
from goodthings.runtime.background import BackgroundJobs, Job, hub_jobs
from goodthings.runtime.hub import Hub


def eventually(check: object, timeout: float = 10.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "still false"
        time.sleep(0.02)


def test_a_failing_job_is_logged_without_its_message_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[float] = []
    done = threading.Event()

    def flaky() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise ValueError("reading 72.5 bpm for alex")  # the message must not reach the log
        done.set()

    with caplog.at_level(logging.ERROR), BackgroundJobs([Job("flaky", 0.05, flaky)]):
        assert done.wait(5)
    assert len(calls) >= 2
    assert "flaky failed (ValueError)" in caplog.text
    assert "alex" not in caplog.text and "72.5" not in caplog.text


def test_the_retention_job_purges_readings_past_their_retention(smart_home: Hub) -> None:
    old = time.time() - 60 * 86400  # the thermostat's temperature is kept for 30 days
    pack = json.dumps(
        [{"bt": old, "n": "temperature", "v": 19.5}, {"n": "temperature", "t": 1, "v": 19.6}]
    )
    recent = json.dumps([{"bt": time.time(), "n": "temperature", "v": 21.0}])
    smart_home.pipeline.ingest([Incoming("thermostat-1", pack.encode(), time.time())])
    smart_home.pipeline.ingest([Incoming("thermostat-1", recent.encode(), time.time())])

    def stored() -> int:
        with smart_home.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(t.readings)).scalar_one()
            )

    assert stored() == 3
    with httpx2.Client() as client:
        jobs = [job for job in hub_jobs(smart_home, client) if job.name == "retention"]
        with BackgroundJobs(jobs):
            eventually(lambda: stored() == 1)
    with smart_home.engine.connect() as connection:
        purges = (
            connection.execute(
                select(t.ledger_entries.c.counts).where(t.ledger_entries.c.action == "purge")
            )
            .scalars()
            .all()
        )
    assert {"deleted": 2} in purges
