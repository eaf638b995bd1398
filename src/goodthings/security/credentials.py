"""Device credentials: random tokens and operator-set passwords, stored only as argon2id hashes.

A token reads `gtd_<id>_<secret>`: the id finds its row without a scan, the secret is checked
against the row's argon2id hash. The same token is the device's HTTP bearer token and its MQTT
password (the MQTT username is the device id). An operator may set a password instead, for a
device that cannot hold a generated secret; it must pass the password policy.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, insert, or_, select, update

from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import SecretRoot
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.security.argon2_slots import hasher
from goodthings.security.passwords import Verdict, check_password, fingerprint

PREFIX = "gtd_"
_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_ID_LENGTH = 12


class UnknownDevice(GoodthingsError):
    """No current device has this id."""


class PasswordRefused(GoodthingsError):
    """The password policy refused a device password; the message says why."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__(f"password refused: {verdict.reason}")


class CredentialKind(StrEnum):
    token = "token"  # noqa: S105 (a kind of credential, not a secret)
    password = "password"  # noqa: S105


@dataclass(frozen=True)
class Issued:
    device_id: str
    kind: CredentialKind
    secret: str
    """Shown once to the operator, never stored."""


def fingerprint_key(root: SecretRoot) -> bytes:
    """The key of password fingerprints, derived from the master key (never stored)."""
    return root.derive(b"goodthings password fingerprint")


def parse_token(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token, else None."""
    if not token.startswith(PREFIX):
        return None
    lookup, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or len(lookup) != _ID_LENGTH or not secret:
        return None
    return lookup, secret


def _new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def require_device(connection: Connection, device_id: str) -> None:
    exists = connection.execute(
        select(t.devices.c.id).where(t.devices.c.id == device_id, t.devices.c.retired_at.is_(None))
    ).first()
    if exists is None:
        raise UnknownDevice(
            f"there is no device {device_id!r}; add it with `goodthings device add` or to the "
            "manifest and run `goodthings apply`"
        )


def issue_token(connection: Connection, device_id: str) -> str:
    """A new token for `device_id`; the caller shows it once, the store keeps its argon2id hash."""
    require_device(connection, device_id)
    lookup = _new_id()
    secret = secrets.token_urlsafe(32)
    connection.execute(
        insert(t.device_tokens).values(
            id=lookup,
            device_id=device_id,
            kind=CredentialKind.token.value,
            secret_hash=hasher.hash(secret),
            created_at=datetime.now(UTC),
        )
    )
    return f"{PREFIX}{lookup}_{secret}"


def _live() -> tuple[ColumnElement[bool], ...]:
    now = datetime.now(UTC)
    return (
        t.device_tokens.c.revoked_at.is_(None),
        or_(t.device_tokens.c.expires_at.is_(None), t.device_tokens.c.expires_at > now),
    )


def judge_password(
    connection: Connection, device_id: str, candidate: str, key: bytes | None
) -> Verdict:
    """The policy's verdict on `candidate` for `device_id`, reuse by other devices included."""

    def used_by(secret: str) -> str | None:
        if key is None:
            return None
        row = connection.execute(
            select(t.device_tokens.c.device_id).where(
                # The device's own current password counts too: rotating to it changes nothing.
                t.device_tokens.c.fingerprint == fingerprint(key, secret),
                *_live(),
            )
        ).first()
        return None if row is None else str(row[0])

    return check_password(candidate, device_id=device_id, used_by=used_by)


def record_refusal(connection: Connection, device_id: str | None, verdict: Verdict) -> None:
    """Count a refused password by its reason (the password itself is never kept)."""
    if verdict.refusal is not None:
        connection.execute(
            insert(ts.password_refusals).values(
                at=datetime.now(UTC), device_id=device_id, refusal=verdict.refusal.value
            )
        )


def set_password(connection: Connection, device_id: str, password: str, key: bytes) -> None:
    """Store an operator-chosen password after the policy accepts it; raise PasswordRefused."""
    require_device(connection, device_id)
    verdict = judge_password(connection, device_id, password, key)
    if not verdict.accepted:
        raise PasswordRefused(verdict)
    connection.execute(
        insert(t.device_tokens).values(
            id=_new_id(),
            device_id=device_id,
            kind=CredentialKind.password.value,
            secret_hash=hasher.hash(password),
            fingerprint=fingerprint(key, password),
            created_at=datetime.now(UTC),
        )
    )


def expire_current(connection: Connection, device_id: str, grace: timedelta) -> int:
    """Let the device's current credentials work for `grace` more, then stop; how many."""
    until = datetime.now(UTC) + grace
    result = connection.execute(
        update(t.device_tokens)
        .where(
            t.device_tokens.c.device_id == device_id,
            *_live(),
            or_(t.device_tokens.c.expires_at.is_(None), t.device_tokens.c.expires_at > until),
        )
        .values(expires_at=until)
    )
    return int(result.rowcount)


def revoke_all(connection: Connection, device_id: str) -> int:
    """Stop every credential of a device at once (quarantine, retirement, a leak)."""
    result = connection.execute(
        update(t.device_tokens)
        .where(t.device_tokens.c.device_id == device_id, t.device_tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return int(result.rowcount)


def rotate(
    connection: Connection,
    device_id: str,
    *,
    grace: timedelta,
    password: str | None = None,
    key: bytes | None = None,
) -> Issued:
    """A new credential for the device; the old ones keep working for `grace` only."""
    require_device(connection, device_id)
    if password is not None:
        if key is None:
            raise ValueError("a fingerprint key is needed to store a password")
        # Judge before expiring, so a refused password leaves the old credentials untouched.
        verdict = judge_password(connection, device_id, password, key)
        if not verdict.accepted:
            raise PasswordRefused(verdict)
    expire_current(connection, device_id, grace)
    if password is not None and key is not None:
        set_password(connection, device_id, password, key)
        return Issued(device_id, CredentialKind.password, password)
    return Issued(device_id, CredentialKind.token, issue_token(connection, device_id))
