"""`goodthings subject invite`: prints a link and a code once, and can write a letter."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.deployment.directory import open_store
from goodthings.rights import signin
from templates import init_from_template


def test_invite_prints_a_link_and_a_code_that_each_work_once(
    home: Home, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    init_from_template(home, "smart-home")
    outbox = tmp_path / "outbox"
    ran = run(
        capsys,
        "subject", "invite", "alex", "--home", str(home.root),
        "--base-url", "https://hub.example/", "--hours", "2", "--outbox", str(outbox),
    )  # fmt: skip
    assert ran.code == 0, ran.err
    link_line, code_line = ran.out.strip().splitlines()
    assert link_line.startswith("https://hub.example/portal/sign-in/")
    code = code_line.removeprefix("code: ")
    assert len(code) == 9 and code[4] == "-"
    assert "works once" in ran.err and "Alex Rivera" in ran.err
    (letter,) = outbox.iterdir()
    assert stat.S_IMODE(letter.stat().st_mode) == 0o600
    assert link_line in letter.read_text() and code in letter.read_text()
    engine = open_store(home)
    try:
        with engine.begin() as connection:
            assert signin.redeem(connection, link=link_line.rsplit("/", 1)[1]) == "alex"
        # The code belongs to the invite the link used up.
        with engine.begin() as connection, pytest.raises(signin.SignInError):
            signin.redeem(connection, code=code)
    finally:
        engine.dispose()


def test_invite_for_an_unknown_person_fails_with_a_hint(
    home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    init_from_template(home, "smart-home")
    ran = run(capsys, "subject", "invite", "nobody", "--home", str(home.root))
    assert ran.code == 1
    assert "no subject 'nobody'" in ran.err and "subjects:" in ran.err
