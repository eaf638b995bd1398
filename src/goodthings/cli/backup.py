"""`goodthings backup` and `goodthings restore`: a consistent snapshot of the database (never
a key), and putting one back with every erasure made since re-applied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.deployment import open_store, read_backup, restore_backup, take_backup


def _say(step: str) -> None:
    err.print(f"… {step}", markup=False)


def backup(
    destination: Annotated[
        Path, typer.Argument(help="A new folder for the backup (it must not exist yet).")
    ],
    home: HomeOption = None,
) -> None:
    """Snapshot the database and the ledger's head into DEST; the keys are not in it."""
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        manifest = take_backup(engine, destination, _say)
    finally:
        engine.dispose()
    out.print(
        f"Backed up the {manifest.database} database to {destination} at {manifest.taken_at} "
        f"(ledger seq {manifest.ledger_seq}). It holds no key: keep keys/ backed up "
        "separately (docs/operations.md).",
        markup=False,
    )


def restore(
    source: Annotated[Path, typer.Argument(help="A folder made by `goodthings backup`.")],
    home: HomeOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the database without asking for confirmation.")
    ] = False,
) -> None:
    """Put the backup in SRC back as the database (stop the hub first), then re-apply every
    erasure made since it was taken."""
    deployment = home_of(home)
    manifest = read_backup(source)
    if not yes:
        typer.confirm(
            f"Replace the database of {deployment.root} with the backup of {manifest.taken_at}? "
            "Everything since then is lost, except the erasures, which are made again",
            abort=True,
        )
    restored = restore_backup(deployment, source, _say)
    out.print(
        f"Restored the database of {restored.backup.taken_at} "
        f"(ledger seq {restored.backup.ledger_seq}); "
        f"erasures made since and re-applied: {restored.erasures_reapplied}.",
        markup=False,
    )
