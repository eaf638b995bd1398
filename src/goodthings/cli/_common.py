"""Pieces every command group shares: the --home option and how errors reach the user."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from goodthings.core.config import Home, resolve_home

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
    return resolve_home(home)
