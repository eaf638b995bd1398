"""`goodthings --version` and `--help` start without the hub's heavy libraries, and the
one-line help the root lists for each lazily loaded command is the command's own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli_helpers import commands
from goodthings.cli import COMMANDS

HEAVY = ("fastapi", "sqlalchemy", "cryptography", "uvicorn", "pydantic", "jinja2", "fpdf")

_PROBE = """
import contextlib, io, json, sys
from goodthings.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


@pytest.mark.parametrize("argv", [["--version"], ["--help"], []], ids=["version", "help", "bare"])
def test_starting_imports_none_of_the_heavy_libraries(argv: list[str]) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(ran.stdout.splitlines()[-1]) == []


def test_each_listed_help_line_is_the_commands_own() -> None:
    for entry in COMMANDS:
        command = entry.load()
        own = " ".join((command.help or "").strip().split("\n\n")[0].split())
        assert entry.help == own, f"goodthings.cli.COMMANDS has an old help line for {entry.name}"


def test_a_lazily_loaded_group_still_lists_its_commands() -> None:
    names = {" ".join(path) for path, _ in commands()}
    assert {"manifest check", "ledger verify", "consent give", "init"} <= names


_HASHES_AT_IMPORT = """
import argon2
made = []
original = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *a, **k: made.append(1) or original(self, *a, **k)
import goodthings.deployment
print(len(made))
"""


def test_loading_the_deployment_computes_no_password_hash() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", _HASHES_AT_IMPORT], capture_output=True, text=True, check=True
    )
    assert ran.stdout.split() == ["0"]
