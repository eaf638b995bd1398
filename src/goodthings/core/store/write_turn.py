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
    """The lock file is opened for each turn and closed after it (two system calls beside a
    commit): a descriptor kept open would outlive the hub that opened it."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @contextmanager
    def __call__(self) -> Iterator[None]:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # releases the GIL while it waits
            yield
        finally:
            os.close(fd)  # and with it the lock
