"""Operator accounts' second factor: a code works once, within one step of the hub's clock,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from goodthings.core.keys import SecretRoot
from goodthings.core.store import tables_console as tc
from goodthings.security import OperatorError, PasswordRefused, Role, operators

KEY = operators.totp_key(SecretRoot.of_master(b"k" * 32))
NOW = datetime(2026, 12, 2, 12, 0, 10, tzinfo=UTC)
GOOD = "lantern orchard velvet 1987 quay"


@pytest.fixture
def secret(store: Engine) -> str:
    with store.begin() as connection:
        operators.add(connection, Ed25519PrivateKey.generate(), "olu", Role.operator, GOOD)
        return operators.enrolment_secret(connection, "olu", KEY)


def _use(store: Engine, code: str, now: datetime = NOW) -> bool:
    with store.begin() as connection:
        return operators.use_code(connection, "olu", code, KEY, now)


def test_a_code_works_once(store: Engine, secret: str) -> None:
    code = pyotp.TOTP(secret).at(NOW)
    assert _use(store, code)
    assert not _use(store, code)
    assert not _use(store, code, NOW + timedelta(seconds=30))


def test_an_older_step_is_refused_after_a_newer_one(store: Engine, secret: str) -> None:
    totp = pyotp.TOTP(secret)
    assert _use(store, totp.at(NOW))
    assert not _use(store, totp.at(NOW - timedelta(seconds=30)))
    assert _use(store, totp.at(NOW + timedelta(seconds=30)))


@pytest.mark.parametrize("seconds", [-30, 30])
def test_one_step_either_side_is_accepted(store: Engine, secret: str, seconds: int) -> None:
    assert _use(store, pyotp.TOTP(secret).at(NOW + timedelta(seconds=seconds)))


@pytest.mark.parametrize("seconds", [-90, 90])
def test_codes_further_off_are_refused(store: Engine, secret: str, seconds: int) -> None:
    assert not _use(store, pyotp.TOTP(secret).at(NOW + timedelta(seconds=seconds)))


def test_the_first_code_confirms_enrolment(store: Engine, secret: str) -> None:
    with store.connect() as connection:
        assert not operators.find(connection, "olu").second_factor  # type: ignore[union-attr]
    assert _use(store, pyotp.TOTP(secret).at(NOW))
    with store.connect() as connection:
        assert operators.find(connection, "olu").second_factor  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["", "has space", "a/b", "x" * 64])
def test_unusable_names_are_refused(store: Engine, name: str) -> None:
    with store.begin() as connection, pytest.raises(OperatorError, match="not usable"):
        operators.add(connection, Ed25519PrivateKey.generate(), name, Role.dpo, GOOD)


def test_a_password_naming_the_person_is_refused(store: Engine) -> None:
    with store.begin() as connection, pytest.raises(PasswordRefused, match="contains your name"):
        operators.add(
            connection, Ed25519PrivateKey.generate(), "margarethe", Role.dpo, "margarethe-1987-xq"
        )


def test_the_secret_is_stored_encrypted_and_bound_to_the_name(store: Engine, secret: str) -> None:
    with store.connect() as connection:
        stored = connection.execute(select(tc.operators.c.totp_secret)).scalar_one()
    assert secret not in stored
    with store.begin() as connection:
        connection.execute(tc.operators.update().values(name="mallory"))
    with store.begin() as connection, pytest.raises(InvalidTag):
        operators.use_code(connection, "mallory", pyotp.TOTP(secret).at(NOW), KEY, NOW)
