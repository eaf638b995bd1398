"""`goodthings erase` killed with SIGKILL at random moments: the person is either wholly there
or, once a hub opens again, wholly erased (key gone, readings purged, consents withdrawn,
receipt issued), and the ledger verifies at every point."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select

from goodthings.core import ledger
from goodthings.core.config import Home
from goodthings.core.keys import UNREADABLE, ReadingOpener
from goodthings.core.store import Selection, open_engine, select_readings
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.policy import inputs
from goodthings.rights.erasure import request_erasure, resume_interrupted
from goodthings.rights.erasure.lock import erasure_lock
from goodthings.rights.receipts import verify
from goodthings.runtime import Hub
from goodthings.runtime.background import hub_jobs
from hubs import clean_environment
from kill_helpers import PERSON, READINGS, goodthings, prepare

ROUNDS = 5


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("erase-killed") / "home")


def _erase(root: Path) -> list[str]:
    return goodthings(root, "erase", PERSON, "--yes")


def _given(hub: Hub) -> int:
    with hub.engine.connect() as connection:
        choices = inputs.current_choices(connection, [PERSON])
    return sum(choice.given for choice in choices.values())


def _person(hub: Hub) -> tuple[int, int]:
    """(readings of the person stored, how many of them open)."""
    with hub.engine.connect() as connection:
        opener = ReadingOpener(hub.keyring, connection)
        rows = list(select_readings(connection, Selection(subject_id=PERSON)))
        opened = sum(opener.open(row) is not UNREADABLE for row in rows)
    return len(rows), opened


def _requests(hub: Hub) -> list[tuple[str, str | None]]:
    with hub.engine.connect() as connection:
        return [
            (row.state, row.receipt)
            for row in connection.execute(
                select(tp.erasure_requests).where(tp.erasure_requests.c.subject_id == PERSON)
            )
        ]


def _ledger_ok(hub: Hub) -> bool:
    return ledger.check(hub.engine, hub.signer.public_key()).ok


def _state_left(root: Path) -> str | None:
    """The erasure request's state as the killed process left it, before any hub opens."""
    engine = open_engine(Home(root).database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(tp.erasure_requests.c.state).where(
                    tp.erasure_requests.c.subject_id == PERSON
                )
            ).scalar_one_or_none()
    finally:
        engine.dispose()


def _check_before_or_after(root: Path) -> str:
    """Open the hub (which finishes an interrupted erasure) and say which side it is on."""
    hub = Hub.open(Home(root))
    try:
        assert _ledger_ok(hub)
        requests = _requests(hub)
        stored, opened = _person(hub)
        if not requests:
            assert hub.keyring.vault.read(PERSON) is not None
            assert (stored, opened) == (READINGS, READINGS)
            assert _given(hub) == 2
            return "before"
        [(state, receipt)] = requests
        assert state == "done"
        assert receipt is not None
        assert verify(receipt, hub.signer.public_key())
        assert hub.keyring.vault.read(PERSON) is None
        assert stored == 0
        assert _given(hub) == 0
        with hub.engine.connect() as connection:
            destroyed = connection.execute(
                select(func.count())
                .select_from(t.destroyed_keys)
                .where(t.destroyed_keys.c.holder == PERSON)
            ).scalar_one()
        assert destroyed >= 1
        return "after"
    finally:
        hub.close()


def _started(root: Path, erasing: subprocess.Popen[bytes]) -> float:
    """Wait until the erasure's request is recorded (or the process ended); returns when."""
    while erasing.poll() is None and _state_left(root) is None:
        time.sleep(0.005)
    return time.monotonic()


def _run(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        _erase(root), env=clean_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_an_erasure_killed_at_random_moments_is_before_or_after_once_a_hub_opens(
    prepared: Path, tmp_path: Path
) -> None:
    whole = tmp_path / "whole"
    shutil.copytree(prepared, whole)
    with _run(whole) as erasing:
        began = _started(whole, erasing)
        assert erasing.wait() == 0, erasing.stderr.read() if erasing.stderr else ""
        window = time.monotonic() - began
    assert _check_before_or_after(whole) == "after"
    chance = random.Random(12)
    left: list[str | None] = []
    for number in range(ROUNDS):
        root = tmp_path / f"round-{number}"
        shutil.copytree(prepared, root)
        with _run(root) as erasing:
            # Now and then during start-up, mostly once the request is recorded.
            if number:
                _started(root, erasing)
            time.sleep(chance.uniform(0, window))
            erasing.send_signal(signal.SIGKILL)
            erasing.wait()
        left.append(_state_left(root))
        _check_before_or_after(root)
    assert {"started", "unreadable"} & set(left), f"no erasure was killed half-way: {left}"


def test_a_running_hubs_job_finishes_an_erasure_left_started_but_not_while_it_runs(
    smart_home: Hub,
) -> None:
    hub = smart_home
    request_erasure(hub.engine, hub.signer, PERSON, method="cli", start=True)
    with erasure_lock(hub.home.keys_dir):
        # Another process holding the lock is still at work: leave its erasure alone.
        assert resume_interrupted(hub.engine, hub.keyring, hub.signer) == 0
    with httpx2.Client() as client:
        [job] = [job for job in hub_jobs(hub, client) if job.name == "erasures"]
        job.run()
    [(state, receipt)] = _requests(hub)
    assert state == "done"
    assert receipt is not None
    assert hub.keyring.vault.read(PERSON) is None
