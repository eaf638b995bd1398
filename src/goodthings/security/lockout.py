"""Brute-force protection: failed sign-ins counted per device and per source address.

After `threshold` failures in a row the device (or address) is locked out for `base` seconds,
doubling with each further failure up to `cap`; `forget_after` seconds without failures clear
the count, and so does a success for the keys it names (callers clear a device's count on its
success, never its address's: a valid token must not buy an address more guesses). Counts live in the process that saw them (each hub
worker counts on its own); each lockout is recorded in the store with an operator alert.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, Engine, insert

from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts


class Scope(StrEnum):
    device = "device"
    address = "address"
    operator = "operator"


Key = tuple[Scope, str]


@dataclass(frozen=True)
class LockEvent:
    scope: Scope
    subject: str
    failures: int
    seconds: float
    """How long this lockout lasts."""


@dataclass
class _Count:
    failures: int
    last_failure: float
    locked_until: float


class Lockout:
    def __init__(
        self,
        *,
        threshold: int = 5,
        base: float = 1.0,
        cap: float = 3600.0,
        forget_after: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or base <= 0 or cap < base:
            raise ValueError("threshold must be at least 1, base above 0 and cap at least base")
        self.threshold, self.base, self.cap, self.forget_after = threshold, base, cap, forget_after
        self._clock = clock
        self._counts: dict[Key, _Count] = {}
        self._started: dict[Scope, int] = dict.fromkeys(Scope, 0)
        self._lock = threading.Lock()
        self.on_failure: Callable[[tuple[Key, ...]], object] | None = None
        """Told of every failed sign-in's keys (the abuse monitor counts them per source)."""

    def retry_after(self, *keys: Key) -> float:
        """Seconds until every one of `keys` may try again; 0 when none is locked."""
        if not self._counts:
            return 0.0
        now = self._clock()
        waits = [
            count.locked_until - now for key in keys if (count := self._counts.get(key)) is not None
        ]
        return max([0.0, *waits])

    def failed(self, *keys: Key) -> list[LockEvent]:
        """Count a failure against each key; return the lockouts it starts."""
        now = self._clock()
        events = []
        with self._lock:
            for key in keys:
                count = self._counts.get(key)
                if count is None or now - count.last_failure > self.forget_after:
                    count = self._counts[key] = _Count(0, now, 0.0)
                count.failures += 1
                count.last_failure = now
                if count.failures >= self.threshold:
                    seconds = min(self.cap, self.base * 2 ** (count.failures - self.threshold))
                    count.locked_until = now + seconds
                    events.append(LockEvent(key[0], key[1], count.failures, seconds))
                    self._started[key[0]] += 1
        if self.on_failure is not None:
            self.on_failure(keys)
        return events

    def refused(self, *keys: Key) -> None:
        """A sign-in refused because one of `keys` is locked: not counted (it would only lengthen
        the lock), but told to `on_failure`, so that the monitor still sees a locked address
        go on trying device after device."""
        if self.on_failure is not None:
            self.on_failure(keys)

    def started(self) -> dict[Scope, int]:
        """Lockouts begun since this process started, by scope (for /metrics)."""
        with self._lock:
            return dict(self._started)

    def locked_now(self) -> dict[Scope, int]:
        """How many devices, addresses and operators are locked out at this moment."""
        now = self._clock()
        locked = dict.fromkeys(Scope, 0)
        with self._lock:
            for (scope, _), count in self._counts.items():
                if count.locked_until > now:
                    locked[scope] += 1
        return locked

    def succeeded(self, *keys: Key) -> None:
        if not self._counts:
            return
        with self._lock:
            for key in keys:
                self._counts.pop(key, None)


def record_lockouts(connection: Connection, events: Iterable[LockEvent]) -> None:
    """Keep each lockout and raise an alert for the operator (a lockout is an attack or a
    misconfigured device: either way someone should look)."""
    now = datetime.now(UTC)
    for event in events:
        connection.execute(
            insert(ts.security_lockouts).values(
                started_at=now,
                scope=event.scope.value,
                subject=event.subject,
                failures=event.failures,
                seconds=event.seconds,
            )
        )
        what = f"device {event.subject}" if event.scope is Scope.device else event.subject
        connection.execute(
            insert(t.alerts).values(
                created_at=now,
                device_id=event.subject if event.scope is Scope.device else None,
                kind="auth-lockout",
                severity="warning" if event.failures < 20 else "critical",
                message=(
                    f"{event.failures} failed sign-ins in a row from {what}: locked out for "
                    f"{event.seconds:g} s. Check the device's credential, or look for an attack "
                    "from that address."
                ),
            )
        )


def recorder(engine: Engine) -> Callable[[list[LockEvent]], None]:
    """A callback that records lockouts (with their alerts) in their own transaction."""

    def record(events: list[LockEvent]) -> None:
        with engine.begin() as connection:
            record_lockouts(connection, events)

    return record
