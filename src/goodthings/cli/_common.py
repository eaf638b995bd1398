"""Pieces every command group shares: the --home option and how errors reach the user."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from goodthings.core.config import Home

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="The deployment directory (default: $GOODTHINGS_HOME, else the current directory).",
        show_default=False,
    ),
]


def home_of(home: Path | None) -> Home:
    # imported here: the settings pull in pydantic and SQLAlchemy, which the root command,
    # loading this module for its error console, must not pay for at `--version`
    from goodthings.core.config import resolve_home

    return resolve_home(home)
