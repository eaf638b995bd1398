"""Run the real `goodthings` command in-process and collect what it printed and its exit code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import typer.main
from typer._click.core import Command, Context  # typer vendors click: its classes
from typer.core import TyperGroup

from goodthings.cli import app, main


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


def commands() -> Iterator[tuple[list[str], Command]]:
    """Every command with its path, through click's own lookup so lazily loaded ones are in."""

    def walk(command: Command, path: list[str]) -> Iterator[tuple[list[str], Command]]:
        if isinstance(command, TyperGroup):
            context = Context(command)
            for name in command.list_commands(context):
                child = command.get_command(context, name)
                assert child is not None, f"{' '.join([*path, name])} is listed but does not load"
                yield from walk(child, [*path, name])
        else:
            yield path, command

    return walk(typer.main.get_command(app), [])
