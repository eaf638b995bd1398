"""At most a few argon2id verifications at once per process, so a reconnect storm cannot take
gigabytes: each verification takes 64 MiB (RFC 9106's low-memory parameters) for its duration.

Verifications past the limit wait their turn on a bounded semaphore; one that cannot start
within `wait` seconds raises `Busy`, which HTTP answers with 503 and Retry-After and the
embedded broker with a refused connection, instead of queueing without end. The checks run on
worker threads (never the event loop), so waiting blocks a thread, not the hub.

A check's 64 MiB come on top of what the process holds resident, free heap pages included, so
each slot first gives the C heap's free pages back (`core.heap.trim`): a worker's peak is then
what it holds alive plus 64 MiB per slot, not plus the leftovers of its last burst (issue 18).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from goodthings.core import heap
from goodthings.core.errors import GoodthingsError

hasher = PasswordHasher()
"""argon2id with RFC 9106's low-memory parameters (64 MiB, 3 passes, 4 lanes)."""


class Busy(GoodthingsError):
    """Every verification slot stayed taken for the whole wait: try again shortly."""

    def __init__(self, wait: float) -> None:
        self.wait = wait
        super().__init__(
            f"the hub is checking many credentials at once and none could start within {wait:g} s"
        )


class Argon2Slots:
    """A bounded number of concurrent argon2id verifications; `peak` says how many ran at once."""

    def __init__(self, limit: int = 2, wait: float = 10.0) -> None:
        if limit < 1 or wait < 0:
            raise ValueError("limit must be at least 1 and wait at least 0")
        self.limit, self.wait = limit, wait
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._running = 0
        self.peak = 0
        """The most verifications this process ran at the same time (never above `limit`)."""

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One verification's turn: wait up to `wait` seconds for it, else raise Busy. The heap's
        free pages are given back before the turn begins."""
        if not self._slots.acquire(timeout=self.wait):
            raise Busy(self.wait)
        try:
            with self._lock:
                self._running += 1
                self.peak = max(self.peak, self._running)
            heap.trim()
            yield
        finally:
            with self._lock:
                self._running -= 1
            self._slots.release()

    def verify(self, secret_hash: str, secret: str) -> bool:
        """Whether `secret` matches `secret_hash`, checked in a slot (Busy if none frees up)."""
        with self.slot():
            try:
                return hasher.verify(secret_hash, secret)
            except (VerificationError, InvalidHashError):
                return False
