"""Wake-ups across processes: PostgreSQL's LISTEN/NOTIFY, or a datagram per process on SQLite.

A wake-up only makes a worker look sooner; these tests check that one reaches a listener in
another process, that a lost listening connection is opened again, and that what a dead
process left behind is cleaned up rather than trusted.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from goodthings.core.store import open_engine
from goodthings.core.store.wake import CHANNEL, WakeListener, notify, wake_directory

_NOTIFY_FROM_ANOTHER_PROCESS = (
    "import sys; from goodthings.core.store import open_engine; "
    "from goodthings.core.store.wake import notify; notify(open_engine(sys.argv[1]))"
)


class _Heard:
    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout=20)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


def _listening(engine: Engine) -> tuple[WakeListener, _Heard]:
    heard = _Heard()
    listener = WakeListener(engine, heard)
    listener.start()
    assert listener.listening.wait(20), "the listener never started listening"
    return listener, heard


def test_a_change_announced_in_another_process_wakes_the_listener(engine: Engine) -> None:
    listener, heard = _listening(engine)
    try:
        before = heard.count
        url = engine.url.render_as_string(hide_password=False)
        subprocess.run([sys.executable, "-c", _NOTIFY_FROM_ANOTHER_PROCESS, url], check=True)
        assert heard.wait_for(before + 1), "the other process's wake-up never arrived"
    finally:
        listener.stop()


def test_a_stopped_listener_leaves_nothing_behind(engine: Engine) -> None:
    listener, heard = _listening(engine)
    listener.stop()
    before = heard.count
    notify(engine)
    assert heard.count == before
    directory = wake_directory(engine)
    if directory is not None:
        assert list(directory.iterdir()) == []


def test_a_socket_left_by_a_killed_process_is_removed_not_trusted(tmp_path: object) -> None:
    """SQLite only: PostgreSQL forgets a dead session's LISTEN itself."""
    engine = open_engine(f"sqlite:///{tmp_path}/store.db")
    directory = wake_directory(engine)
    assert directory is not None
    directory.mkdir(mode=0o700)
    stale = directory / "999999-dead.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as left:
        left.bind(str(stale))  # closed without unlinking, as a SIGKILL leaves it
    notify(engine)
    assert not stale.exists()


def test_only_the_deployment_user_may_wake_its_workers(tmp_path: object) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/store.db")
    listener, _ = _listening(engine)
    try:
        directory = wake_directory(engine)
        assert directory is not None
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    finally:
        listener.stop()


def test_a_killed_listening_connection_is_opened_again(postgres_url: str) -> None:
    """An operator's pg_terminate_backend, a failover or a network cut: listening resumes,
    and the reload that follows covers whatever changed while nobody listened."""
    engine = open_engine(postgres_url)
    listener, heard = _listening(engine)
    try:
        pid = listener.backend_pid
        assert pid is not None
        with engine.begin() as connection:
            listens = connection.execute(
                text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
            assert listens == f"LISTEN {CHANNEL}"
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
            ).scalar_one()
        before = heard.count
        assert heard.wait_for(before + 1), "listening did not resume"
        resumed = heard.count
        notify(engine)
        assert heard.wait_for(resumed + 1), "a wake-up after the reconnection did not arrive"
    finally:
        listener.stop()
        engine.dispose()


def test_a_wake_up_that_cannot_be_sent_is_not_an_error(tmp_path: object) -> None:
    """The change is committed already: a broken wake directory must not fail it."""
    engine = open_engine(f"sqlite:///{tmp_path}/store.db")
    directory = wake_directory(engine)
    assert directory is not None
    directory.write_text("not a directory")
    notify(engine)  # logs, never raises
