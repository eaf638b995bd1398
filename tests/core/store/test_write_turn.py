"""Ingest writers of several processes take turns at a SQLite file by a lock beside it: a
writer waits exactly while another holds the turn, and a holder that dies lets it go."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

from sqlalchemy import func, select

from goodthings.core.config import Home
from goodthings.core.store import open_engine
from goodthings.core.store import tables as t
from goodthings.core.store.write_turn import write_turn
from goodthings.ingest import Incoming
from goodthings.runtime import Hub
from templates import init_from_template

PACK = json.dumps([{"bt": time.time(), "n": "temperature", "u": "Cel", "v": 21.5}]).encode()

HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("holding", flush=True)
time.sleep(600)
"""


def _stored(hub: Hub) -> int:
    with hub.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.readings)).scalar_one())


def _ingest_in_a_thread(hub: Hub) -> threading.Thread:
    thread = threading.Thread(
        target=hub.pipeline.ingest, args=([Incoming("thermostat-1", PACK, time.time())],)
    )
    thread.start()
    return thread


def test_an_ingest_waits_while_another_process_holds_the_turn_and_goes_on_when_it_dies(
    home: Home,
) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        lock = Path(f"{hub.engine.url.database}-ingest.lock")
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        waiting = _ingest_in_a_thread(hub)
        waiting.join(0.5)
        assert waiting.is_alive(), "the ingest wrote while another process held the turn"
        assert _stored(hub) == 0
        holder.send_signal(signal.SIGKILL)  # dies holding it: the kernel lets it go
        holder.communicate(timeout=10)
        waiting.join(30)
        assert not waiting.is_alive()
        assert _stored(hub) == 1
        assert oct(lock.stat().st_mode & 0o777) == "0o600"
    finally:
        hub.close()


def test_the_turn_is_held_only_while_a_group_is_stored(home: Home) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        hub.pipeline.ingest([Incoming("thermostat-1", PACK, time.time())])
        lock = Path(f"{hub.engine.url.database}-ingest.lock")
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again after the commit
        finally:
            os.close(fd)
    finally:
        hub.close()


def test_postgresql_and_memory_databases_take_no_turn(postgres_url: str) -> None:
    for url in (postgres_url, "sqlite://"):
        engine = open_engine(url)
        try:
            assert write_turn(engine) is nullcontext
        finally:
            engine.dispose()
