"""The data path's commands: device tokens, consent, ledger verification, SenML debugging."""

from __future__ import annotations

import json
import sqlite3

import pytest

from cli_helpers import run
from goodthings.core.config import Home


@pytest.fixture
def deployment(capsys: pytest.CaptureFixture[str], home: Home) -> Home:
    assert run(capsys, "init", str(home.root)).code == 0
    return home


def test_device_token_is_printed_once_and_stored_hashed(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    ran = run(capsys, "device", "token", "meter-1", "--home", str(deployment.root))
    assert ran.code == 0
    token = ran.out.strip()
    assert token.startswith("gtd_") and len(token) > 40
    assert "shown once" in ran.err
    database = (deployment.root / "goodthings.db").read_bytes()
    assert token.encode() not in database
    unknown = run(capsys, "device", "token", "toaster", "--home", str(deployment.root))
    assert unknown.code == 1 and "there is no device 'toaster'" in unknown.err


def test_consent_give_withdraw_show(capsys: pytest.CaptureFixture[str], deployment: Home) -> None:
    home = ["--home", str(deployment.root)]
    args = ["--subject", "alex", "--stream", "heart_rate", "--purpose", "ServicePersonalisation"]
    given = run(capsys, "consent", "give", *args, "--level", "coarse", *home)
    assert given.code == 0
    assert (
        "alex given consent for pulse-band-2/heart_rate (ServicePersonalisation) at level coarse"
        in given.out
    )
    assert run(capsys, "consent", "withdraw", *args, *home).code == 0
    shown = run(capsys, "consent", "show", "--subject", "alex", "--json", *home)
    history = json.loads(shown.out)
    assert [(h["state"], h["level"]) for h in history] == [
        ("given", "coarse"),
        ("withdrawn", "off"),
    ]
    assert all(h["notice_hash"] for h in history)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--stream", "power", "--purpose", "PaymentManagement"],
            "legal basis Contract, not consent",
        ),
        (["--stream", "heart_rate", "--purpose", "Marketing"], "not collected for Marketing"),
        (
            ["--stream", "temperature", "--purpose", "ServiceProvision"],
            "has no personal stream 'temperature'",
        ),
        (
            ["--stream", "heart_rate", "--purpose", "ServicePersonalisation", "--level", "blurry"],
            "not 'blurry'",
        ),
    ],
)
def test_consent_mistakes_are_explained(
    capsys: pytest.CaptureFixture[str], deployment: Home, args: list[str], message: str
) -> None:
    ran = run(capsys, "consent", "give", "--subject", "alex", *args, "--home", str(deployment.root))
    assert ran.code == 1
    assert message in ran.err


def test_ledger_verify_passes_then_names_a_changed_entry(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    home = ["--home", str(deployment.root)]
    for person in ("alex", "sam"):
        run(
            capsys,
            "consent",
            "give",
            "--subject",
            person,
            "--stream",
            "presence",
            "--purpose",
            "OptimisationForConsumer",
            *home,
        )
    ok = run(capsys, "ledger", "verify", *home)
    assert ok.code == 0 and "The ledger is intact: 2 entries" in ok.out
    with sqlite3.connect(deployment.root / "goodthings.db") as connection:
        connection.execute("UPDATE ledger_entries SET purpose = 'Marketing' WHERE seq = 2")
    bad = run(capsys, "ledger", "verify", *home)
    assert bad.code == 1
    assert "entry 2" in bad.err and "NOT intact" in bad.err


def test_senml_resolve_prints_records_or_the_precise_error(
    capsys: pytest.CaptureFixture[str], tmp_path: pytest.TempPathFactory
) -> None:
    good = tmp_path / "good.json"  # type: ignore[operator]
    good.write_text(
        '[{"bn": "urn:dev:mac:0024befffe804ff1:", "bt": 1700000000, "n": "temp", "u": "Cel", "v": 21.5}]'
    )
    ran = run(capsys, "senml", "resolve", str(good))
    assert ran.code == 0
    assert json.loads(ran.out) == [
        {"n": "urn:dev:mac:0024befffe804ff1:temp", "t": 1700000000.0, "u": "Cel", "v": 21.5}
    ]
    bad = tmp_path / "bad.json"  # type: ignore[operator]
    bad.write_text('[{"n": "temp", "v": "21.5"}]')
    ran = run(capsys, "senml", "resolve", str(bad))
    assert ran.code == 1 and "record 0, field 'v'" in ran.err
