"""Run the real `goodthings` command in-process and collect what it printed and its exit code."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from goodthings.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    capsys.readouterr()
    try:
        main(list(argv))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    else:
        code = 0
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)
