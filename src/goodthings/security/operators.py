"""The people who operate the hub: accounts with a role, an argon2id password checked against
the device password policy, and a TOTP second factor (RFC 6238, through pyotp).

The TOTP secret is kept encrypted (AES-GCM under a key derived from the master key, bound to
the account's name), so a copy of the database alone yields no codes.

A new or reset account has a one-time password and no second factor: its first sign-in asks
for a password of its own and enrols an authenticator app. A code works once: the newest
30-second step used is kept, and a code of that step or an older one is refused.
"""

from __future__ import annotations

import base64
import functools
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pyotp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete, insert, select, update

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import SecretRoot
from goodthings.core.store import tables_console as tc
from goodthings.security.argon2_slots import Argon2Slots, hasher
from goodthings.security.credentials import PasswordRefused
from goodthings.security.passwords import Refusal, Verdict, check_password

ISSUER = "goodthings"
_STEP = 30


class Role(StrEnum):
    """What a person may do in the console."""

    operator = "operator"
    """Devices, applications, applying the manifest."""
    dpo = "dpo"
    """The data protection officer: requests, consents in aggregate, reports, the ledger."""
    auditor = "auditor"
    """Reads the assessment, the ledger, reports and evidence; changes nothing."""


class OperatorError(GoodthingsError):
    """An operator account that does not exist, exists already, or cannot be given."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    password_one_time: bool
    second_factor: bool
    created_at: datetime


def _validate_name(name: str) -> None:
    if not name or len(name) > 63 or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise OperatorError(
            f"operator name {name!r} is not usable: use 1 to 63 letters, digits, '.', '_' or '-'"
        )


def judge(name: str, password: str) -> None:
    """Refuse a password the device policy refuses (and one naming the person)."""
    verdict = check_password(password, device_id=name)
    if verdict.refusal is Refusal.names_device:
        verdict = Verdict(verdict.refusal, f"the password contains your name {name!r}")
    if not verdict.accepted:
        raise PasswordRefused(verdict)


def one_time_password() -> str:
    """A random password (120 bits) to hand over once; the person replaces it on first use."""
    return secrets.token_urlsafe(15)


def _account(row: object) -> Account:
    values = row._mapping  # type: ignore[attr-defined]
    return Account(
        name=values["name"],
        role=Role(values["role"]),
        password_one_time=bool(values["password_one_time"]),
        second_factor=bool(values["totp_confirmed"]),
        created_at=values["created_at"],
    )


def find(connection: Connection, name: str) -> Account | None:
    row = connection.execute(select(tc.operators).where(tc.operators.c.name == name)).first()
    return None if row is None else _account(row)


def list_accounts(connection: Connection) -> list[Account]:
    rows = connection.execute(select(tc.operators).order_by(tc.operators.c.name))
    return [_account(row) for row in rows]


def record(
    connection: Connection, signer: Ed25519PrivateKey, actor: str, action: str, target: str
) -> None:
    """Keep a console or account action in the ledger, with who did it."""
    ledger.append(connection, signer, actor=actor, action=action, target=target)


def add(
    connection: Connection,
    signer: Ed25519PrivateKey,
    name: str,
    role: Role,
    password: str | None,
    actor: str = "operator",
) -> str | None:
    """A new account; without `password` a one-time one is made and returned (shown once)."""
    _validate_name(name)
    if find(connection, name) is not None:
        raise OperatorError(f"there is already an operator named {name!r}")
    given = password if password is not None else one_time_password()
    judge(name, given)
    connection.execute(
        insert(tc.operators).values(
            name=name,
            role=role.value,
            password_hash=hasher.hash(given),
            password_one_time=password is None,
            totp_secret=None,
            totp_confirmed=False,
            totp_last_step=0,
            created_at=datetime.now(UTC),
        )
    )
    record(connection, signer, actor, "operator.add", f"operator:{name}:{role.value}")
    return None if password is not None else given


def remove(
    connection: Connection, signer: Ed25519PrivateKey, name: str, actor: str = "operator"
) -> None:
    """Delete an account and end its sessions."""
    _require(connection, name)
    connection.execute(delete(tc.operator_sessions).where(tc.operator_sessions.c.operator == name))
    connection.execute(delete(tc.operators).where(tc.operators.c.name == name))
    record(connection, signer, actor, "operator.remove", f"operator:{name}")


def reset(
    connection: Connection, signer: Ed25519PrivateKey, name: str, actor: str = "operator"
) -> str:
    """Recovery: clear the second factor, end the sessions, set a one-time password (returned)."""
    _require(connection, name)
    given = one_time_password()
    connection.execute(delete(tc.operator_sessions).where(tc.operator_sessions.c.operator == name))
    connection.execute(
        update(tc.operators)
        .where(tc.operators.c.name == name)
        .values(
            password_hash=hasher.hash(given),
            password_one_time=True,
            totp_secret=None,
            totp_confirmed=False,
        )
    )
    record(connection, signer, actor, "operator.reset", f"operator:{name}")
    return given


def _require(connection: Connection, name: str) -> None:
    if find(connection, name) is None:
        raise OperatorError(
            f"there is no operator named {name!r}; `goodthings operator list` shows who there is"
        )


def check_sign_in(connection: Connection, slots: Argon2Slots, name: str, password: str) -> bool:
    """Whether `password` is `name`'s; an unknown name costs the same argon2id check."""
    stored = connection.execute(
        select(tc.operators.c.password_hash).where(tc.operators.c.name == name)
    ).scalar_one_or_none()
    if stored is None:
        slots.verify(_dummy_hash(), password)
        return False
    return slots.verify(str(stored), password)


@functools.cache
def _dummy_hash() -> str:
    # made on first use, not at import: every command that loads the deployment imports this
    # module, and an argon2id hash costs a fifth of a second there
    return hasher.hash(secrets.token_urlsafe(16))


def set_password(connection: Connection, name: str, password: str) -> None:
    """The person's own password, replacing a one-time one; refused as the policy says."""
    judge(name, password)
    connection.execute(
        update(tc.operators)
        .where(tc.operators.c.name == name)
        .values(password_hash=hasher.hash(password), password_one_time=False)
    )


def totp_key(root: SecretRoot) -> bytes:
    """The key TOTP secrets are encrypted with, derived from the master key's secret root (never
    stored), so that rotating the master key keeps every enrolment."""
    return root.derive(b"goodthings operator totp")


def _seal(key: bytes, name: str, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), name.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def _open(key: bytes, name: str, stored: str) -> str:
    raw = base64.urlsafe_b64decode(stored)
    return AESGCM(key).decrypt(raw[:12], raw[12:], name.encode()).decode()


def enrolment_secret(connection: Connection, name: str, key: bytes) -> str:
    """The TOTP secret being enrolled: made once, kept until a code confirms it."""
    stored = connection.execute(
        select(tc.operators.c.totp_secret).where(tc.operators.c.name == name)
    ).scalar_one()
    if stored is not None:
        return _open(key, name, str(stored))
    secret = pyotp.random_base32()
    connection.execute(
        update(tc.operators)
        .where(tc.operators.c.name == name)
        .values(totp_secret=_seal(key, name, secret))
    )
    return secret


def otpauth_uri(name: str, secret: str) -> str:
    """What an authenticator app scans (the Key Uri Format of Google Authenticator)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def use_code(
    connection: Connection, name: str, code: str, key: bytes, now: datetime | None = None
) -> bool:
    """Whether `code` is a current code of `name`'s secret not used before; a success marks its
    step used (one UPDATE decides, so two tabs cannot both use a code) and confirms enrolment.

    One step either side is accepted, for a phone's clock that is a little off (RFC 6238 §5.2).
    """
    row = connection.execute(
        select(tc.operators.c.totp_secret, tc.operators.c.totp_last_step).where(
            tc.operators.c.name == name
        )
    ).first()
    if row is None or row.totp_secret is None:
        return False
    totp = pyotp.TOTP(_open(key, name, row.totp_secret))
    moment = now or datetime.now(UTC)
    typed = "".join(code.split())
    for offset in (-1, 0, 1):
        at = moment + timedelta(seconds=offset * _STEP)
        if hmac.compare_digest(totp.at(at), typed):
            step = totp.timecode(at)
            used = connection.execute(
                update(tc.operators)
                .where(tc.operators.c.name == name, tc.operators.c.totp_last_step < step)
                .values(totp_last_step=step, totp_confirmed=True)
            )
            return used.rowcount == 1
    return False
