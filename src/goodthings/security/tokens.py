"""Checking a device's credential, fast: argon2id once, then a short-lived memory of the answer.

argon2id is slow on purpose (tens of milliseconds, 64 MiB each), so every check takes one of
the process's `Argon2Slots` (a few at once; `Busy` past a bounded wait). A device sends many packs with the same
token, so a verified token is remembered in this process for `ttl` seconds, keyed by a SHA-256
of the token that never leaves memory. The memory is trusted only while it is fresh: the
store's version of the credentials (`credentials_version`, which moves when a credential is
issued, revoked or removed, or a device retired, in any process) was looked at within
`follow_every` seconds (50 ms, as the gate follows consent). Whoever looks first after a change
(the ingest writer's refresh, or the next check) forgets every answer, so a revoked or retired
device's token is refused within that interval, never after the `ttl`; an expired one exactly
at its expiry. Failures are never remembered: each one is checked and counted by the lockout.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar, cast

from sqlalchemy import Connection, Engine, func, or_, select

from goodthings.core.store import tables as t
from goodthings.security.argon2_slots import Argon2Slots
from goodthings.security.credentials import PREFIX, UnknownDevice, issue_token, parse_token

__all__ = ["PREFIX", "Authentication", "TokenVerifier", "UnknownDevice", "issue_token"]


@dataclass(frozen=True)
class Authentication:
    device: str | None
    """The device the credential belongs to, when it is valid."""
    claimed: str | None
    """The device whose credential was tried, valid or not (for counting failures)."""


_NOBODY = Authentication(None, None)

_T = TypeVar("_T")


@dataclass
class _Flight:
    """One check of a credential under way, and the callers waiting for its answer."""

    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None

    def answer(self) -> object:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.result


def _deadline(expires_at: datetime | None, ttl: float) -> float:
    now = time.monotonic()
    if expires_at is None:
        return now + ttl
    if expires_at.tzinfo is None:  # SQLite hands back naive datetimes; they are UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    left = (expires_at - datetime.now(UTC)).total_seconds()
    return now + min(ttl, left)


def credentials_version(connection: Connection) -> tuple[object, ...]:
    """Moves whenever a credential is issued, revoked, given an expiry or removed, or a device
    is retired: one statement over two small tables."""
    tokens = t.device_tokens.c
    retired = select(func.count(t.devices.c.retired_at)).select_from(t.devices).scalar_subquery()
    row = connection.execute(
        select(
            func.count(),
            func.count(tokens.revoked_at),
            func.count(tokens.expires_at),
            func.max(tokens.created_at),
            retired,
        ).select_from(t.device_tokens)
    ).one()
    return tuple(row)


class TokenVerifier:
    """Maps a presented token (or device and password) to its device."""

    def __init__(
        self,
        engine: Engine,
        ttl: float = 60.0,
        slots: Argon2Slots | None = None,
        *,
        follow_every: float = 0.05,
    ) -> None:
        self._engine = engine
        self._ttl = ttl
        self._follow_every = follow_every
        self.slots = slots or Argon2Slots()
        self._cache: dict[bytes, tuple[str, float]] = {}
        self._flights: dict[bytes, _Flight] = {}
        """Checks running now, by the credential's key (`_once`)."""
        self._lock = threading.Lock()
        self._version: tuple[object, ...] | None = None
        self._followed_at = -math.inf
        """When the store's credentials version was last looked at (monotonic seconds)."""

    def cached(self, token: str) -> str | None:
        """The device of a recently verified token, without touching the database; None
        when the memory is not fresh (`follow`) or does not know the token."""
        if time.monotonic() - self._followed_at >= self._follow_every:
            return None
        return self._remembered(token)

    def _remembered(self, token: str) -> str | None:
        """The memory's answer however long ago it followed the store: for a caller that has
        just followed it (`_fresh`), however slowly the machine then got here."""
        hit = self._cache.get(self._key(token))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def follow(self, connection: Connection) -> None:
        """Look at the store's credentials version; forget every answer when it moved."""
        version = credentials_version(connection)
        with self._lock:
            if version != self._version:
                self._cache.clear()
                self._version = version
            self._followed_at = time.monotonic()

    def _fresh(self) -> tuple[object, ...] | None:
        """Follow the store if the memory is stale; the version the caller's answer is of."""
        if time.monotonic() - self._followed_at >= self._follow_every:
            with self._engine.connect() as connection:
                self.follow(connection)
        return self._version

    def verify(self, token: str) -> Authentication:
        """Check a token against the store (slow: call it off the event loop)."""
        seen = self._fresh()
        cached = self._remembered(token)
        if cached is not None:
            return Authentication(cached, cached)
        return self._once(self._key(token), lambda: self._check_token(token, seen))

    def _check_token(self, token: str, seen: tuple[object, ...] | None) -> Authentication:
        parsed = parse_token(token)
        if parsed is None:
            return _NOBODY
        lookup, secret = parsed
        now = datetime.now(UTC)
        with self._engine.connect() as connection:
            row = connection.execute(
                select(
                    t.device_tokens.c.device_id,
                    t.device_tokens.c.secret_hash,
                    t.device_tokens.c.expires_at,
                )
                .join(t.devices, t.devices.c.id == t.device_tokens.c.device_id)
                .where(
                    t.device_tokens.c.id == lookup,
                    t.device_tokens.c.revoked_at.is_(None),
                    or_(t.device_tokens.c.expires_at.is_(None), t.device_tokens.c.expires_at > now),
                    t.devices.c.retired_at.is_(None),
                )
            ).first()
        if row is None:
            return _NOBODY
        device, secret_hash, expires_at = str(row[0]), str(row[1]), row[2]
        if not self.slots.verify(secret_hash, secret):
            return Authentication(None, device)
        self._remember(token, device, expires_at, seen)
        return Authentication(device, device)

    def device_for(self, token: str) -> str | None:
        return self.verify(token).device

    def check_password(self, device_id: str, secret: str) -> bool:
        """Whether `secret` is a live token or password of `device_id` (MQTT sign-in)."""
        memo = f"{device_id}\0{secret}"
        seen = self._fresh()
        if self._remembered(memo) == device_id:
            return True
        return self._once(
            self._key(memo), lambda: self._check_password(device_id, secret, memo, seen)
        )

    def _check_password(
        self, device_id: str, secret: str, memo: str, seen: tuple[object, ...] | None
    ) -> bool:
        parsed = parse_token(secret)
        now = datetime.now(UTC)
        query = (
            select(t.device_tokens.c.secret_hash, t.device_tokens.c.expires_at)
            .join(t.devices, t.devices.c.id == t.device_tokens.c.device_id)
            .where(
                t.device_tokens.c.device_id == device_id,
                t.device_tokens.c.revoked_at.is_(None),
                or_(t.device_tokens.c.expires_at.is_(None), t.device_tokens.c.expires_at > now),
                t.devices.c.retired_at.is_(None),
            )
        )
        query = query.where(
            t.device_tokens.c.id == parsed[0]
            if parsed is not None
            else t.device_tokens.c.kind == "password"
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        presented = parsed[1] if parsed is not None else secret
        for secret_hash, expires_at in rows:
            if self.slots.verify(str(secret_hash), presented):
                self._remember(memo, device_id, expires_at, seen)
                return True
        return False

    def _once(self, key: bytes, check: Callable[[], _T]) -> _T:
        """`check`, unless the same credential is being checked already: then its answer.

        After a restart every connection of a device signs in at once with the same credential;
        each ran argon2id (tens of milliseconds of CPU and 64 MiB) while the others queued for
        a slot. Now one does and the others wait for it; an answer is never shared between
        two different credentials, and every failure is still counted by each caller."""
        with self._lock:
            flight = self._flights.get(key)
            leads = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leads:
            return cast(_T, flight.answer())
        try:
            flight.result = check()
            return flight.result
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def forget(self) -> None:
        """Drop every remembered answer (after a revocation that must act at once)."""
        with self._lock:
            self._cache.clear()

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def _remember(
        self, token: str, device: str, expires_at: datetime | None, seen: tuple[object, ...] | None
    ) -> None:
        """Remember an answer read at version `seen`, unless the credentials moved since: the
        answer may be of a credential revoked meanwhile."""
        with self._lock:
            if seen != self._version:
                return
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[self._key(token)] = (device, _deadline(expires_at, self._ttl))
