"""`goodthings retention`: purge readings past their stream's retention period."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.cli._progress import counted
from goodthings.rights.retention import purge_expired
from goodthings.runtime import Hub

app = typer.Typer(
    help="Purge readings kept longer than their retention period.", no_args_is_help=True
)


@app.command()
def run(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the purges as JSON.")] = False,
) -> None:
    """Delete every reading past its stream's retention now, with a ledger entry per stream."""
    hub = Hub.open(home_of(home))
    try:
        with counted(err, "Purging") as step:
            purges = purge_expired(hub.engine, hub.signer, step=step)
    finally:
        hub.close()
    if as_json:
        out.print(json.dumps([asdict(purge) for purge in purges]), markup=False)
        return
    if not purges:
        out.print("Nothing was past its retention period.")
    for purge in purges:
        future = f", {purge.future_dated} dated in the future" if purge.future_dated else ""
        out.print(
            f"Purged {purge.deleted} reading(s) of {purge.stream}{future} "
            f"(ledger entry {purge.ledger_seq})",
            markup=False,
        )
