"""`goodthings ledger verify`: check the tamper-evident ledger offline, with the public key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.core.ledger import journal as store
from goodthings.core.ledger import verify as verify_chain
from goodthings.deployment import open_store

app = typer.Typer(
    help="Check the ledger of every decision about personal data.", no_args_is_help=True
)


@app.command()
def verify(
    home: HomeOption = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="The hub's signing public key (default: keys/signing.pub)."),
    ] = None,
) -> None:
    """Check the hash chain and every signed checkpoint; exit 1 naming the first bad entry."""
    deployment = home_of(home)
    key = load_public_key(public_key or deployment.keys_dir / SIGNING_PUBLIC_KEY)
    engine = open_store(deployment)
    try:
        with engine.connect() as connection:
            result = verify_chain(store.entries(connection), store.checkpoints(connection), key)
    finally:
        engine.dispose()
    if not result.ok:
        err.print(f"The ledger is NOT intact: {result.reason}")
        raise typer.Exit(1)
    out.print(
        f"The ledger is intact: {result.entries} entries, {result.checkpoints} signed checkpoints"
        + (
            f"; the newest {result.unsigned_tail} entries are chained but not yet signed."
            if result.unsigned_tail
            else "."
        )
    )
