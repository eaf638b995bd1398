"""Wake every process that serves a store when something the gate depends on changed there.

A consent withdrawn or a key destroyed in one process (the CLI, a worker, a worker on another
host) must reach every worker's gate at once, not at its next look at the store. Each worker
still looks now and then (the version poll, `policy.inputs.version`): a wake-up only makes it
look sooner, so a lost one delays a change by one poll interval and never loses it. That is
why a wake-up carries nothing: the store stays the one place that says what changed.

PostgreSQL: `NOTIFY goodthings_changes`, which the server delivers to every session that ran
`LISTEN goodthings_changes` on the same database, on any host, once the notifying
transaction commits. Each worker holds one extra connection for it.

SQLite (one machine, several processes): a directory next to the database file holds one Unix
datagram socket per listening process; a wake-up is one empty datagram to each. The kernel
delivers it at once, costs nothing while idle (the listener sleeps in `recv`), and a socket
whose process is gone refuses the datagram and is removed. The directory is mode 0700: only
the deployment's own user may wake its workers.

An in-memory SQLite database lives in one process: there is nobody else to wake.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

from goodthings.core.lifecycle import Lifecycle

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

CHANNEL = "goodthings_changes"
"""The PostgreSQL notification channel every worker listens on."""
_SUFFIX = ".wake"
_SOCKET = ".sock"
_RETRY = 1.0
"""Seconds before a lost PostgreSQL listening connection is opened again."""


def wake_directory(engine: Engine) -> Path | None:
    """Where a SQLite file's listeners keep their sockets; None for PostgreSQL or in-memory."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database)
    return path.with_name(path.name + _SUFFIX)


def notify(engine: Engine) -> None:
    """Wake every listener of `engine`'s store (call it after the change committed).

    Never raises for a listener that cannot be reached: the change is committed, and every
    worker's poll finds it anyway."""
    try:
        if engine.url.get_backend_name() == "postgresql":
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
                connection.commit()
            return
        directory = wake_directory(engine)
        if directory is not None:
            _send_all(directory)
    except Exception as error:
        # Only the type: nothing about the change itself belongs in a log.
        logger.warning("could not wake the other workers (%s); they poll", type(error).__name__)


@contextmanager
def _short_path(directory: Path) -> Iterator[str]:
    """A name for `directory` short enough for a socket address: a Unix socket's path is
    limited to 108 bytes, and a deployment may live deeper than that. Linux resolves the
    process's own open descriptor of the directory to the directory itself."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{descriptor}"
    finally:
        os.close(descriptor)


def _send_all(directory: Path) -> None:
    try:
        names = [path.name for path in directory.glob(f"*{_SOCKET}")]
    except OSError:
        return
    if names:
        _send_all_to(directory, *names)


def _send_all_to(directory: Path, *names: str) -> None:
    with (
        _short_path(directory) as short,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender,
    ):
        sender.setblocking(False)
        for name in names:
            try:
                sender.sendto(b"", f"{short}/{name}")
            except (ConnectionRefusedError, FileNotFoundError):
                (directory / name).unlink(missing_ok=True)  # its process is gone
            except BlockingIOError:
                pass  # its queue is full of wake-ups not yet read: it is waking already
            except OSError as error:
                logger.warning("could not wake %s (%s)", name, type(error).__name__)


class WakeListener(Lifecycle):
    """Calls `on_wake` on a thread of its own whenever any process announces a change.

    Wake-ups that arrive while `on_wake` runs are folded into one more call after it, so a
    burst of changes costs at most two reloads."""

    def __init__(self, engine: Engine, on_wake: Callable[[], object]) -> None:
        self._engine = engine
        self._on_wake = on_wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._path: Path | None = None
        self._postgres: psycopg.Connection[tuple[object, ...]] | None = None
        self.backend_pid: int | None = None
        """PostgreSQL: the listening session's process id (what pg_stat_activity shows)."""
        self.listening = threading.Event()
        """Set once wake-ups can arrive (the socket is bound, or LISTEN ran)."""
        self._own_channel = f"{CHANNEL}_{secrets.token_hex(6)}"
        """PostgreSQL: a channel only this listener hears, so that `stop` wakes it alone."""

    def start(self) -> None:
        self._stop.clear()
        backend = self._engine.url.get_backend_name()
        if backend == "postgresql":
            target: Callable[[], None] = self._listen_postgres
        else:
            directory = wake_directory(self._engine)
            if directory is None:
                return
            self._bind(directory)
            target = self._listen_socket
        self._thread = threading.Thread(target=target, name="goodthings-wake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._path is not None:
            # A blocked `recv` returns (closing its socket from here would not end it).
            _send_all_to(self._path.parent, self._path.name)
        if self._postgres is not None:
            self._notify_own_channel()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None
        self.listening.clear()

    # SQLite: a datagram socket in the wake directory

    def _bind(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        directory.chmod(0o700)
        name = f"{os.getpid()}-{secrets.token_hex(4)}{_SOCKET}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with _short_path(directory) as short:
                listener.bind(f"{short}/{name}")
        except OSError:
            listener.close()
            raise
        self._path = directory / name
        self._socket = listener
        self.listening.set()

    def _listen_socket(self) -> None:
        listener = self._socket
        assert listener is not None
        while True:
            try:
                listener.recv(16)
                while True:
                    listener.recv(16, socket.MSG_DONTWAIT)  # fold those already queued
            except BlockingIOError:
                pass
            except OSError as error:
                logger.error(
                    "the wake-up socket failed (%s); the poll covers", type(error).__name__
                )
                return
            if self._stop.is_set():
                return
            self._wake()

    # PostgreSQL: LISTEN on a connection of its own

    def _conninfo(self) -> str:
        url = self._engine.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def _listen_postgres(self) -> None:
        import psycopg  # only a PostgreSQL deployment's worker needs it (about 9 MiB)

        lost = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo(), autocommit=True, application_name="goodthings-wake"
                ) as connection:
                    self._postgres = connection
                    self.backend_pid = connection.info.backend_pid
                    connection.execute(f"LISTEN {self._own_channel}")
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if lost:  # a change made while nobody listened is found by this reload
                        self._wake()
                    while not self._stop.is_set():
                        woke = any(True for _ in connection.notifies(timeout=1.0, stop_after=1))
                        if woke and not self._stop.is_set():
                            # Fold those already arrived into one reload.
                            for _ in connection.notifies(timeout=0.0):
                                pass
                            self._wake()
            except psycopg.Error as error:
                lost = True
                self.listening.clear()
                if self._stop.is_set():
                    return
                logger.warning(
                    "lost the connection that listens for changes (%s); the poll covers, "
                    "listening again in %.0f s",
                    type(error).__name__,
                    _RETRY,
                )
                self._stop.wait(_RETRY)
            finally:
                self._postgres = None

    def _notify_own_channel(self) -> None:
        """End the wait in `notifies` now rather than at its next timeout (a second): nothing
        else interrupts it, and a hub that closes should not take a second to do so."""
        try:
            with self._engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_notify(:channel, '')"), {"channel": self._own_channel}
                )
                connection.commit()
        except Exception as error:  # the store may be gone: the timeout ends the wait then
            logger.debug("could not wake the listener to stop it (%s)", type(error).__name__)

    def _wake(self) -> None:
        try:
            self._on_wake()
        except Exception as error:
            logger.error("reloading after a wake-up failed (%s)", type(error).__name__)
