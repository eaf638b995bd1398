"""`goodthings device`: credentials for devices."""

from __future__ import annotations

from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.deployment import open_store
from goodthings.security.tokens import issue_token

app = typer.Typer(help="Manage devices' credentials.", no_args_is_help=True)


@app.command()
def token(
    device_id: Annotated[str, typer.Argument(help="The device, as named in the manifest.")],
    home: HomeOption = None,
) -> None:
    """Issue a bearer token for a device's HTTP ingest; it is printed once and stored hashed."""
    engine = open_store(home_of(home))
    try:
        with engine.begin() as connection:
            secret = issue_token(connection, device_id)
    finally:
        engine.dispose()
    err.print(
        f"Token for {device_id} (shown once; store it on the device, not in version control):"
    )
    out.print(secret)
