"""`goodthings receipt verify`: check a consent or erasure receipt offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from goodthings.cli._common import err, home_of, out
from goodthings.core import ledger
from goodthings.core.errors import LedgerError
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.deployment import open_store
from goodthings.rights.receipts import ReceiptError
from goodthings.rights.receipts import verify as verify_receipt

app = typer.Typer(help="Check signed receipts people were given.", no_args_is_help=True)


@app.command()
def verify(
    file: Annotated[
        Path, typer.Argument(help="The receipt (JSON), as downloaded from the portal.")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(help="The hub's signing public key (keys/signing.pub) to check against."),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            help="A deployment whose ledger's key history to use, so a receipt signed before "
            "or after a rotation of the signing key checks (with --public-key, or its own "
            "keys/signing.pub)."
        ),
    ] = None,
) -> None:
    """Check a receipt's content and Ed25519 signature; exit 0 when both hold, 1 otherwise."""
    try:
        text = file.read_bytes()
    except FileNotFoundError:
        err.print(f"error: {file} does not exist")
        raise typer.Exit(1) from None
    key = load_public_key(public_key) if public_key is not None else None
    history: tuple[Ed25519PublicKey, ...] = ()
    if home is not None:
        deployment = home_of(home)
        key = key or load_public_key(deployment.keys_dir / SIGNING_PUBLIC_KEY)
        engine = open_store(deployment)
        try:
            history = ledger.stored_history(engine, key).keys
        except LedgerError as exc:
            err.print(f"The key history is NOT intact: {exc}", markup=False)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
    try:
        checked = verify_receipt(text, key, history=history)
    except ReceiptError as exc:
        err.print(f"The receipt is NOT valid: {exc}", markup=False)
        raise typer.Exit(1) from None
    receipt = checked.receipt
    what = (
        f"{receipt['state']} consent for {receipt.get('stream')} "
        f"({', '.join(p['purpose'] for p in receipt['purposes'])})"
        if receipt["kind"] == "consent"
        else f"erasure ({receipt['mode']})"
    )
    out.print(
        f"The receipt is valid: {what} of {receipt['subject']['id']} at {receipt['time']}, "
        f"signed by key {checked.key_id}.",
        markup=False,
    )
    if not checked.with_published_key:
        err.print(
            "Checked with the key inside the receipt; pass --public-key with the hub's "
            "published key to know that this hub signed it."
        )
