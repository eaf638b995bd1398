"""Device bearer tokens for HTTP ingest: random, shown once, stored only as a hash.

Tokens carry 256 bits of randomness, so a fast SHA-256 is the right hash here (argon2id is for
passwords people choose); that keeps authentication off the ingest hot path's critical cost.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select

from goodthings.errors import GoodthingsError
from goodthings.store import tables as t

PREFIX = "gtd_"


class UnknownDevice(GoodthingsError):
    """No current device has this id."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(connection: Connection, device_id: str) -> str:
    """A new token for `device_id`; the caller shows it once, the store keeps only its hash."""
    exists = connection.execute(
        select(t.devices.c.id).where(t.devices.c.id == device_id, t.devices.c.retired_at.is_(None))
    ).first()
    if exists is None:
        raise UnknownDevice(
            f"there is no device {device_id!r}; add it to the manifest and run `goodthings apply`"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    connection.execute(
        insert(t.device_tokens).values(
            token_hash=_hash(token), device_id=device_id, created_at=datetime.now(UTC)
        )
    )
    return token


class TokenVerifier:
    """Maps a presented token to its device, remembering answers briefly to spare the database."""

    def __init__(self, engine: Engine, ttl: float = 5.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def device_for(self, token: str) -> str | None:
        if not token.startswith(PREFIX):
            return None
        digest = _hash(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        with self._engine.connect() as connection:
            device = connection.execute(
                select(t.device_tokens.c.device_id)
                .join(t.devices, t.devices.c.id == t.device_tokens.c.device_id)
                .where(
                    t.device_tokens.c.token_hash == digest,
                    t.device_tokens.c.revoked_at.is_(None),
                    t.devices.c.retired_at.is_(None),
                )
            ).scalar_one_or_none()
        with self._lock:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[digest] = (device, now + self._ttl)
        return device
