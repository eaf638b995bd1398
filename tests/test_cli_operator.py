"""`goodthings operator add|list|reset|remove`: accounts for the console, no default passwords."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.keys import SecretRoot
from goodthings.core.store import tables as t
from goodthings.core.store import tables_console as tc
from goodthings.deployment import open_store
from goodthings.security import operators
from goodthings.security.argon2_slots import Argon2Slots


@pytest.fixture
def deployment(capsys: pytest.CaptureFixture[str], home: Home) -> list[str]:
    assert run(capsys, "init", str(home.root), "--example", "smart-home").code == 0
    return ["--home", str(home.root)]


def _password_works(home: Home, name: str, password: str) -> bool:
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            return operators.check_sign_in(connection, Argon2Slots(), name, password)
    finally:
        engine.dispose()


def _ledger(home: Home) -> list[tuple[str, str]]:
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(t.ledger_entries.c.action, t.ledger_entries.c.object))
            return [(row.action, row.object) for row in rows]
    finally:
        engine.dispose()


def test_add_prints_a_one_time_password_that_works_once_set(
    capsys: pytest.CaptureFixture[str], home: Home, deployment: list[str]
) -> None:
    added = run(capsys, "operator", "add", "olu", "--role", "operator", *deployment)
    assert added.code == 0, added.err
    password = added.out.split("one-time password (shown once): ")[1].strip()
    assert len(password) >= 20
    assert _password_works(home, "olu", password)
    assert not _password_works(home, "olu", password + "x")
    assert ("operator.add", "operator:olu:operator") in _ledger(home)


def test_add_refuses_a_second_account_of_the_same_name(
    capsys: pytest.CaptureFixture[str], deployment: list[str]
) -> None:
    assert run(capsys, "operator", "add", "olu", "--role", "dpo", *deployment).code == 0
    again = run(capsys, "operator", "add", "olu", "--role", "auditor", *deployment)
    assert again.code != 0
    assert "already an operator named 'olu'" in again.err


@pytest.mark.parametrize("weak", ["xc3511", "admin", "short", "olu-password-olu"])
def test_add_with_a_chosen_password_applies_the_device_policy(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    home: Home,
    deployment: list[str],
    weak: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(weak + "\n"))
    refused = run(
        capsys, "operator", "add", "olu", "--role", "operator", "--ask-password", *deployment
    )
    assert refused.code != 0
    assert "password refused" in refused.err
    assert run(capsys, "operator", "list", "--json", *deployment).out.strip() == "[]"


def test_add_with_a_good_chosen_password_prints_none(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    home: Home,
    deployment: list[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("lantern orchard velvet 1987 quay\n"))
    added = run(
        capsys, "operator", "add", "ada", "--role", "auditor", "--ask-password", *deployment
    )
    assert added.code == 0, added.err
    assert "one-time" not in added.out
    assert _password_works(home, "ada", "lantern orchard velvet 1987 quay")


def test_list_shows_roles_and_second_factors(
    capsys: pytest.CaptureFixture[str], deployment: list[str]
) -> None:
    run(capsys, "operator", "add", "olu", "--role", "operator", *deployment)
    run(capsys, "operator", "add", "dana", "--role", "dpo", *deployment)
    listed = json.loads(run(capsys, "operator", "list", "--json", *deployment).out)
    assert listed == [
        {"name": "dana", "role": "dpo", "second_factor": False},
        {"name": "olu", "role": "operator", "second_factor": False},
    ]
    text = run(capsys, "operator", "list", *deployment).out
    assert "olu  operator  second factor not set up yet" in text


def test_reset_clears_the_second_factor_and_replaces_the_password(
    capsys: pytest.CaptureFixture[str], home: Home, deployment: list[str]
) -> None:
    first = run(capsys, "operator", "add", "olu", "--role", "operator", *deployment).out
    old = first.split("(shown once): ")[1].strip()
    engine = open_store(home)
    with engine.begin() as connection:
        operators.enrolment_secret(
            connection, "olu", operators.totp_key(SecretRoot.of_master(b"k" * 32))
        )
        connection.execute(tc.operators.update().values(totp_confirmed=True))
    engine.dispose()
    reset = run(capsys, "operator", "reset", "olu", *deployment)
    assert reset.code == 0, reset.err
    new = reset.out.split("(shown once): ")[1].strip()
    assert _password_works(home, "olu", new) and not _password_works(home, "olu", old)
    engine = open_store(home)
    with engine.connect() as connection:
        row = connection.execute(select(tc.operators)).mappings().one()
    engine.dispose()
    assert row["totp_secret"] is None and not row["totp_confirmed"] and row["password_one_time"]
    assert ("operator.reset", "operator:olu") in _ledger(home)


def test_remove_deletes_the_account(
    capsys: pytest.CaptureFixture[str], home: Home, deployment: list[str]
) -> None:
    run(capsys, "operator", "add", "olu", "--role", "operator", *deployment)
    assert run(capsys, "operator", "remove", "olu", *deployment).code == 0
    assert run(capsys, "operator", "list", "--json", *deployment).out.strip() == "[]"
    gone = run(capsys, "operator", "remove", "olu", *deployment)
    assert gone.code != 0 and "no operator named 'olu'" in gone.err
    assert ("operator.remove", "operator:olu") in _ledger(home)
