"""`goodthings deployment`: how a deployment runs, recorded in its settings file."""

from __future__ import annotations

import os
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, out
from goodthings.core.config import (
    DATABASE_FILE,
    DATABASE_VARIABLE,
    MANIFEST_FILE,
    PUBLIC_URL_VARIABLE,
    SETTINGS_FILE,
    Stored,
    checked_public_url,
    deployment_root,
    read_stored,
    resolve_home,
    same_database,
    shown_url,
    write_stored,
)
from goodthings.core.errors import DeploymentError
from goodthings.core.store import open_engine

app = typer.Typer(
    help="How this deployment runs: the database and public address in its settings file.",
    no_args_is_help=True,
)


class Setting(StrEnum):
    """What `goodthings deployment set` can change."""

    database = "database"
    """The database URL (SQLite or PostgreSQL)."""
    public_url = "public-url"
    """Where people reach the hub: the start of invitation links and of the signs' QR codes."""


@app.command(name="set")
def set_(
    setting: Annotated[Setting, typer.Argument(help="database or public-url.")],
    value: Annotated[
        str,
        typer.Argument(
            help="A database URL (postgresql://user@host/dbname, sqlite:////path/file.db), "
            "or an http(s) address."
        ),
    ],
    home: HomeOption = None,
) -> None:
    """Record the deployment's database or public address; every command then uses it."""
    root = _existing(deployment_root(home))
    stored = read_stored(root) or Stored()
    if setting is Setting.database:
        open_engine(value).dispose()  # refuses a URL it could not use, before it is recorded
        stored = replace(stored, database_url=value)
        variable, current = DATABASE_VARIABLE, os.environ.get(DATABASE_VARIABLE)
        agrees = current is None or same_database(current, value)
        shown = shown_url(value)
    else:
        stored = replace(stored, public_url=checked_public_url(value))
        variable, current = PUBLIC_URL_VARIABLE, os.environ.get(PUBLIC_URL_VARIABLE)
        agrees = current is None or current.rstrip("/") == stored.public_url
        shown = str(stored.public_url)
    path = write_stored(root, stored)
    out.print(f"The deployment in {root} now uses {shown} ({path}).", markup=False)
    if not agrees:
        err.print(
            f"warning: {variable} names another {setting.value}; unset it, or goodthings "
            "commands will refuse to choose between the two.",
            markup=False,
        )


@app.command()
def show(home: HomeOption = None) -> None:
    """Print the database and public address the deployment runs on, and where each is set."""
    deployment = resolve_home(_existing(deployment_root(home)))
    stored = deployment.stored
    if stored is None:
        source = f"no {SETTINGS_FILE}: from the environment or the defaults"
        database_source = public_source = source
    else:
        database_source = (
            f"{SETTINGS_FILE}"
            if stored.database_url is not None
            else f"the default, {DATABASE_FILE} in the deployment directory"
        )
        public_source = SETTINGS_FILE if stored.public_url is not None else "the default"
    out.print(f"deployment  {deployment.root}", markup=False)
    out.print(
        f"database    {shown_url(deployment.database_url)}  ({database_source})", markup=False
    )
    out.print(f"address     {deployment.settings.public_url}  ({public_source})", markup=False)


def _existing(root: Path) -> Path:
    if not (root / MANIFEST_FILE).exists():
        raise DeploymentError(
            f"{root} is not a deployment directory; create one with `goodthings init DIR`"
        )
    return root


__all__ = ["Setting", "app"]
