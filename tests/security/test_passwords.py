"""The device password policy: every bundled default refused, each refusal saying why."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.runtime.hub import Hub
from goodthings.security.credentials import judge_password, set_password
from goodthings.security.passwords import (
    Refusal,
    bundled_list,
    check_password,
    every_bundled_password,
)

STRONG = "Quiet-Marmot-Juggles-47-Kettles"
BUNDLED = sorted(set(every_bundled_password()))


@pytest.mark.parametrize(("listed", "password"), BUNDLED, ids=[f"{r}:{p!r}" for r, p in BUNDLED])
def test_every_bundled_password_is_refused_with_the_reason(listed: Refusal, password: str) -> None:
    verdict = check_password(password)
    assert not verdict.accepted
    if not password.strip():
        assert verdict.refusal is Refusal.empty
        assert "empty" in verdict.reason
    elif listed is Refusal.mirai or verdict.refusal is Refusal.mirai:
        # Several IoT defaults are Mirai's too; Mirai's list is checked first.
        assert verdict.refusal is Refusal.mirai
        assert "Mirai botnet" in verdict.reason
    else:
        assert verdict.refusal is Refusal.iot_default
        assert "default password of IoT devices" in verdict.reason


def test_the_lists_are_complete_and_name_their_sources() -> None:
    assert len(bundled_list(Refusal.mirai)) == 62
    assert len(bundled_list(Refusal.iot_default)) == 138
    data = files("goodthings.security") / "data"
    for name in ("mirai.txt", "iot-defaults.txt"):
        header = (data / name).read_text().splitlines()[:5]
        assert any(line.startswith("# Source:") for line in header), name
    readme = (data / "README.md").read_text()
    assert "mirai.txt" in readme and "iot-defaults.txt" in readme
    assert "github.com/jgamblin/Mirai-Source-Code" in readme
    assert "github.com/danielmiessler/SecLists" in readme


@pytest.mark.parametrize(
    ("candidate", "device", "refusal", "words"),
    [
        ("", None, Refusal.empty, "a password is needed"),
        ("   ", None, Refusal.empty, "a password is needed"),
        ("x" * 129, None, Refusal.too_long, "at most 128"),
        ("ADMIN", None, Refusal.mirai, "Mirai"),
        (" xc3511 ", None, Refusal.mirai, "Mirai"),
        ("calvin", None, Refusal.iot_default, "default password"),
        ("Amx1234!", None, Refusal.iot_default, "default password"),
        ("meter-1-Quiet-Marmot-47", "meter-1", Refusal.names_device, "device's name 'meter-1'"),
        ("k9#Lq2!v", None, Refusal.too_short, "at least 12 characters (this has 8)"),
        ("passwordpassword", None, Refusal.weak, "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", None, Refusal.weak, "strength 0 of 4"),
    ],
)
def test_refusals_say_why(candidate: str, device: str | None, refusal: Refusal, words: str) -> None:
    verdict = check_password(candidate, device_id=device)
    assert verdict.refusal is refusal
    assert words in verdict.reason


def test_a_strong_unique_password_is_accepted() -> None:
    verdict = check_password(STRONG, device_id="meter-1", used_by=lambda _secret: None)
    assert verdict.accepted
    assert verdict.refusal is None


def test_a_password_used_by_another_device_is_refused(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        set_password(connection, "meter-1", STRONG, smart_home.password_key)
    with smart_home.engine.connect() as connection:
        other = judge_password(connection, "thermostat-1", STRONG, smart_home.password_key)
        own = judge_password(connection, "meter-1", STRONG, smart_home.password_key)
        fresh = judge_password(
            connection, "thermostat-1", STRONG + "-Again", smart_home.password_key
        )
    assert other.refusal is Refusal.reused
    assert "device 'meter-1' already uses this password" in other.reason
    assert own.refusal is Refusal.reused
    assert fresh.accepted


def test_password_check_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import io

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("xc3511\n"))
    refused = run(capsys, "password", "check")
    assert refused.code == 1
    assert "refused (mirai)" in refused.err and "Mirai botnet" in refused.err
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))
    accepted = run(capsys, "password", "check", "--device", "meter-1")
    assert accepted.code == 0
    assert "accepted" in accepted.out
    assert not (tmp_path / "goodthings.db").exists()  # outside a deployment, nothing is created


def test_password_check_inside_a_deployment_refuses_reuse(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, home: Home
) -> None:
    import io

    assert run(capsys, "init", str(home.root)).code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))
    added = run(
        capsys, "device", "rotate", "meter-1", "--password-from-stdin", "--home", str(home.root)
    )
    assert added.code == 0, added.err
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))
    checked = run(capsys, "password", "check", "--device", "thermostat-1", "--home", str(home.root))
    assert checked.code == 1
    assert "refused (reused)" in checked.err and "meter-1" in checked.err
