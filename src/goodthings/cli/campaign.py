"""`goodthings campaign`: firmware update campaigns and their progress."""

from __future__ import annotations

from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.deployment import open_store
from goodthings.security import Campaign, campaigns, start_campaign

app = typer.Typer(
    help="Record firmware update campaigns and follow their progress.", no_args_is_help=True
)


def _print(campaign: Campaign) -> None:
    done, total = campaign.progress
    out.print(
        f"campaign {campaign.id}: {campaign.model} to {campaign.target}, {done} of {total} "
        "devices updated"
    )
    for device, state in campaign.devices.items():
        out.print(f"  {device}: {state}")


@app.command()
def start(
    model: Annotated[str, typer.Option(help="The device model to update, as in the manifest.")],
    target: Annotated[
        str, typer.Option(help="The firmware version to reach (declared for the model).")
    ],
    note: Annotated[str | None, typer.Option(help="Why: an advisory id, a change note.")] = None,
    home: HomeOption = None,
) -> None:
    """Record an update campaign for every device of a model; devices count as updated when
    their birth message reports the target version."""
    engine = open_store(home_of(home))
    try:
        with engine.begin() as connection:
            campaign = start_campaign(connection, model, target, note)
    finally:
        engine.dispose()
    _print(campaign)


@app.command()
def show(home: HomeOption = None) -> None:
    """Every update campaign with each device's state."""
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            found = campaigns(connection)
    finally:
        engine.dispose()
    if not found:
        out.print("No update campaigns yet: `goodthings campaign start --model M --target V`.")
    for campaign in found:
        _print(campaign)
