"""Applications' OAuth2 client credentials and their short-lived, purpose-scoped access tokens.

A client secret has 256 random bits and is stored only as its SHA-256 hash (as device tokens
are). Access tokens are stateless: `gta_` + base64url(claims) + `.` + base64url(HMAC-SHA256),
under a key derived from the deployment's master key, so every hub worker can check them
without the database. They live five minutes, so no revocation list is needed: a retired
application cannot get a new one, and every read checks the application is still declared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import SecretRoot
from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt

SECRET_PREFIX = "gts_"  # noqa: S105 (a prefix, not a secret)
TOKEN_PREFIX = "gta_"  # noqa: S105 (a prefix, not a secret)
TOKEN_LIFETIME = 300.0


class AccessError(GoodthingsError):
    """An application's request is not allowed; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 403, code: str = "access_denied") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Grant:
    """What a valid access token allows: this application, these purposes, until then."""

    application_id: str
    purposes: tuple[str, ...]
    expires_at: float


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _application(connection: Connection, application_id: str) -> dict[str, object] | None:
    row = (
        connection.execute(
            select(t.applications).where(
                t.applications.c.id == application_id, t.applications.c.retired_at.is_(None)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def issue_secret(connection: Connection, application_id: str) -> str:
    """A new client secret for the application, replacing any earlier one; shown once."""
    if _application(connection, application_id) is None:
        raise AccessError(
            f"there is no application {application_id!r}; declare it under `applications` in "
            "the manifest and run `goodthings apply`",
            status=404,
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    table = tt.application_secrets
    connection.execute(delete(table).where(table.c.application_id == application_id))
    connection.execute(
        insert(table).values(
            application_id=application_id, secret_hash=_hash(secret), created_at=datetime.now(UTC)
        )
    )
    return secret


def authenticate(connection: Connection, client_id: str, client_secret: str) -> list[str]:
    """The purposes of a declared application whose secret matches; AccessError otherwise."""
    stored = connection.execute(
        select(tt.application_secrets.c.secret_hash).where(
            tt.application_secrets.c.application_id == client_id
        )
    ).scalar_one_or_none()
    application = _application(connection, client_id)
    matches = stored is not None and hmac.compare_digest(stored, _hash(client_secret))
    if not matches or application is None:
        raise AccessError("unknown client or wrong secret", status=401, code="invalid_client")
    purposes = application["purposes"]
    assert isinstance(purposes, list)
    return [str(purpose) for purpose in purposes]


class TokenSigner:
    """Issues and checks access tokens under a key derived from the master key."""

    def __init__(self, root: SecretRoot, lifetime: float = TOKEN_LIFETIME) -> None:
        self._key = root.derive(b"goodthings-access-token:v1")
        self.lifetime = lifetime

    def issue(self, application_id: str, purposes: list[str], now: float | None = None) -> str:
        expires = (time.time() if now is None else now) + self.lifetime
        claims = {"app": application_id, "exp": round(expires, 3), "purposes": sorted(purposes)}
        body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
        return f"{TOKEN_PREFIX}{body}.{_b64(self._mac(body))}"

    def verify(self, token: str, now: float | None = None) -> Grant:
        """The grant a token carries, or AccessError (401) when it is forged or expired."""
        invalid = AccessError(
            "the access token is not valid; get a new one from POST /oauth/token",
            status=401,
            code="invalid_token",
        )
        if not token.startswith(TOKEN_PREFIX) or token.count(".") != 1:
            raise invalid
        body, _, mac = token[len(TOKEN_PREFIX) :].partition(".")
        try:
            given = _unb64(mac)
            claims = json.loads(_unb64(body))
        except ValueError:
            raise invalid from None
        if not hmac.compare_digest(given, self._mac(body)):
            raise invalid
        if float(claims["exp"]) <= (time.time() if now is None else now):
            raise AccessError(
                "the access token has expired; get a new one from POST /oauth/token",
                status=401,
                code="invalid_token",
            )
        return Grant(str(claims["app"]), tuple(claims["purposes"]), float(claims["exp"]))

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ValueError("not base64url") from None
