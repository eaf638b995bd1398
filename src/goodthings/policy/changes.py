"""Policy changes announced where they are made, so that every running hub's gate follows at once.

The services that change what the gate decides (consent given or withdrawn, an erasure, a
passer-by's opt-out) call `announce` for their database once the change is committed. A hub
running in the same process listens for its own database and reloads its gate there and then;
hubs in other processes and on other hosts are woken through the store (`core.store.wake`:
PostgreSQL's NOTIFY, or a datagram per process next to a SQLite file). Every hub also notices
the change within its gate's poll interval (50 ms by default) anyway, so an announcement only
makes it sooner and a lost one costs one interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from goodthings.core.store import wake

Listener = Callable[[], object]

_lock = threading.Lock()
_listeners: dict[str, list[Listener]] = {}


def _database(engine: Engine) -> str:
    """Engines on the same database share listeners: the CLI's engine is not the hub's."""
    return engine.url.render_as_string(hide_password=True)


def listen(engine: Engine, listener: Listener) -> Callable[[], None]:
    """Call `listener` after every change announced for `engine`'s database; returns the way
    to stop listening."""
    database = _database(engine)
    with _lock:
        _listeners.setdefault(database, []).append(listener)

    def stop() -> None:
        with _lock:
            listeners = _listeners.get(database, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                _listeners.pop(database, None)

    return stop


def announce(engine: Engine) -> None:
    """Tell whoever listens on this database, in this process or another, that the gate's
    inputs changed (after commit)."""
    with _lock:
        listeners = list(_listeners.get(_database(engine), ()))
    for listener in listeners:
        listener()
    wake.notify(engine)
