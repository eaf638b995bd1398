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
from dataclasses import dataclass
from datetime import UTC, datetime

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
        self._lock = threading.Lock()
        self._version: tuple[object, ...] | None = None
        self._followed_at = -math.inf
        """When the store's credentials version was last looked at (monotonic seconds)."""

    def cached(self, token: str) -> str | None:
        """The device of a recently verified token, without touching the database; None
        when the memory is not fresh (`follow`) or does not know the token."""
        now = time.monotonic()
        if now - self._followed_at >= self._follow_every:
            return None
        hit = self._cache.get(self._key(token))
        if hit is not None and hit[1] > now:
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
        cached = self.cached(token)
        if cached is not None:
            return Authentication(cached, cached)
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
        if self.cached(memo) == device_id:
            return True
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
