"""Command modules loaded only when their command runs, so `--help` and `--version` stay fast.

Importing every command module at start-up pulls in the web stack, the database layer and the
cryptography library: seconds on a small machine, felt at every command. Instead the root group
knows each command by name, module and one-line help. Listing commands (`goodthings --help`)
uses that line alone; running one imports its module and builds the real Typer command.
A test checks that every line here still matches the command's own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

import typer
import typer.core
import typer.main

# typer vendors click (since 0.26): its commands and contexts are these classes, not click's
from typer._click.core import Command, Context
from typer._click.formatting import HelpFormatter

__all__ = ["Lazy", "LazyGroup"]


@dataclass(frozen=True)
class Lazy:
    """A command by name: `target` is "module:attribute", a Typer app or a command function."""

    name: str
    target: str
    help: str

    def load(self) -> Command:
        module, attribute = self.target.split(":")
        found = getattr(importlib.import_module(module), attribute)
        if isinstance(found, typer.Typer):
            command: Command = typer.main.get_group(found)
        else:
            single = typer.Typer()
            single.command(name=self.name)(found)
            command = typer.main.get_command(single)
        command.name = self.name
        return command


class LazyGroup(typer.core.TyperGroup):
    """A Typer group whose `lazy` commands are imported on first use; subclass to set them."""

    lazy: ClassVar[tuple[Lazy, ...]] = ()
    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        lazy = [entry.name for entry in self.lazy]
        return [name for name in super().list_commands(ctx) if name not in lazy] + lazy

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        entry = next((entry for entry in self.lazy if entry.name == cmd_name), None)
        if entry is None or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return typer.core.TyperCommand(entry.name, help=entry.help)
        loaded = entry.load()
        self.commands[cmd_name] = loaded
        return loaded

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        with self._only_listing():
            super().format_help(ctx, formatter)

    @contextmanager
    def _only_listing(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False
