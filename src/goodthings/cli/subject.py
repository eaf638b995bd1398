"""`goodthings subject invite`: a one-time sign-in link and code for a person's portal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.deployment import open_store
from goodthings.rights.signin import FileSender, issue_invite, letter

app = typer.Typer(
    help="The people the data is about: invite them to their portal.", no_args_is_help=True
)


@app.command()
def invite(
    subject_id: Annotated[str, typer.Argument(help="The person, by subject id in the manifest.")],
    home: HomeOption = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Where people reach the portal (default: the deployment's, see "
            "`goodthings deployment show`)."
        ),
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option(
            min=0.25,
            max=24 * 366,
            help="How long the link and code work (default: $GOODTHINGS_INVITE_HOURS, 168).",
        ),
    ] = None,
    outbox: Annotated[
        Path | None,
        typer.Option(
            help="Also write a welcome letter with the link and code into this directory."
        ),
    ] = None,
) -> None:
    """Print a one-time sign-in link (and a short code) for a person's portal; shown once."""
    deployment = home_of(home)
    settings = deployment.settings
    engine = open_store(deployment)
    try:
        with engine.begin() as connection:
            made = issue_invite(
                connection,
                subject_id,
                base_url or settings.public_url,
                timedelta(hours=hours if hours is not None else settings.invite_hours),
            )
    finally:
        engine.dispose()
    if outbox is not None:
        FileSender(outbox).send(made)
        err.print(f"Letter for {made.name} written to {outbox}.")
    err.print(
        f"Sign-in for {made.name} (works once, until {made.expires_at:%Y-%m-%d %H:%M} UTC; "
        "hand it to them only):"
    )
    out.print(made.link)
    out.print(f"code: {made.code}")


__all__ = ["app", "letter"]
