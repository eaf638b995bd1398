"""`goodthings application`: credentials for the applications the manifest declares."""

from __future__ import annotations

from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.deployment import open_store
from goodthings.rights.access import issue_secret

app = typer.Typer(help="Manage applications' access credentials.", no_args_is_help=True)


@app.command()
def secret(
    application_id: Annotated[
        str, typer.Argument(help="The application, as named in the manifest.")
    ],
    home: HomeOption = None,
) -> None:
    """Issue an application's OAuth2 client secret, replacing any earlier one; printed once."""
    engine = open_store(home_of(home))
    try:
        with engine.begin() as connection:
            issued = issue_secret(connection, application_id)
    finally:
        engine.dispose()
    err.print(
        f"Client secret for {application_id} (client_id {application_id}); shown once, stored "
        "hashed. Exchange it at POST /oauth/token with grant_type=client_credentials:"
    )
    out.print(issued, markup=False)
