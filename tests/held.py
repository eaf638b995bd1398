"""Holding a store's write lock from outside the hub, so that packs pile up at its writer.

While held, the writer's current group waits in the database (as it would behind another
process's long transaction); everything submitted meanwhile gathers behind it. That makes
"these packs shared a group" certain instead of a matter of timing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url


@contextmanager
def outside(engine: Engine) -> Iterator[Any]:
    """A DB-API connection to the hub's store of its own, committed when the block ends."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite:
        assert url.database is not None
        connection: Any = sqlite3.connect(url.database, isolation_level=None, timeout=30)
    else:
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = psycopg.connect(dsn)
    try:
        if sqlite:
            connection.execute("BEGIN IMMEDIATE")  # the write lock, at once
        yield connection
        connection.commit()
    finally:
        connection.close()


@contextmanager
def held_writes(engine: Engine) -> Iterator[Any]:
    """Hold the store's write lock until the block ends (SQLite: the database's; PostgreSQL:
    the ledger's), then commit what the block did in the yielded connection."""
    with outside(engine) as connection:
        if engine.dialect.name != "sqlite":
            connection.execute("LOCK TABLE ledger_entries IN EXCLUSIVE MODE")
        yield connection


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition`; fail naming `what` if it never holds (a guard, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.01)
