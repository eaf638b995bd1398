"""`goodthings init` inside a git checkout warns that the keys must never be committed, and
writes a `.gitignore` that git really honours for the keys, the settings and the database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli_helpers import run


def _git(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *argv], cwd=cwd, capture_output=True, text=True, check=False)


def test_init_in_a_checkout_warns_and_keeps_secrets_out_of_git(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _git(tmp_path, "init", "-q")
    ran = run(capsys, "init", str(tmp_path / "hub"))
    assert ran.code == 0
    assert "inside the git checkout" in ran.err and "Never commit keys/" in ran.err
    untracked = _git(tmp_path, "status", "--porcelain", "--untracked-files=all").stdout
    assert "hub/goodthings.yaml" in untracked
    assert "hub/keys" not in untracked
    assert "settings.env" not in untracked and "goodthings.db" not in untracked


def test_init_elsewhere_writes_no_gitignore(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ran = run(capsys, "init", str(tmp_path / "hub"))
    assert ran.code == 0
    assert "git" not in ran.err
    assert not (tmp_path / "hub" / ".gitignore").exists()


def test_an_existing_gitignore_keeps_its_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / ".gitignore").write_text("notes/\n")
    run(capsys, "init", str(tmp_path / "hub"))
    lines = (tmp_path / "hub" / ".gitignore").read_text().splitlines()
    assert lines[0] == "notes/" and "keys/" in lines
