"""Ingest writers of several processes take turns at a SQLite file without sleeping.

SQLite lets one transaction write at a time. A second process that finds the file locked waits
in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20 ms and on: a `serve` worker whose
group commit takes 5 ms often slept 18 ms waiting for the other's, and two workers stored
barely more than one. Each ingest transaction is therefore begun under an exclusive `flock` on
a file beside the database (`<database>-ingest.lock`): a waiting worker is woken the moment
the other's commit is done. The kernel drops the lock of a process that dies, however it dies.

Only the ingest writers take the turn; every other writer (the CLI, erasure, consent) still
meets them in SQLite's own lock, as before. PostgreSQL locks rows, not the database: no turn.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Engine

WriteTurn = Callable[[], AbstractContextManager[object]]


def write_turn(engine: Engine) -> WriteTurn:
    """The turn for ingest transactions on `engine`'s database: a file lock for a SQLite
    file, nothing for PostgreSQL or an in-memory SQLite database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return nullcontext
    return _FileTurn(Path(f"{database}-ingest.lock"))


class _FileTurn:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._opening = threading.Lock()

    def _descriptor(self) -> int:
        with self._opening:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            return self._fd

    @contextmanager
    def __call__(self) -> Iterator[None]:
        fd = self._descriptor()
        fcntl.flock(fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
