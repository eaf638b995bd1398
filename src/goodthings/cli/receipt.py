"""`goodthings receipt verify`: check a consent or erasure receipt offline, and with `--home`
against the deployment that issued it."""

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
from goodthings.rights.receipts import ReceiptError, disagreements, summary
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
            "--home",
            help="Also check against this deployment: its ledger still holds the entry the "
            "receipt saw, the consent record and receipt it names say the same, and a receipt "
            "signed before or after a rotation of the signing key checks with its key history.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check a receipt's fields and Ed25519 signature (and, with --home, the deployment's
    ledger, key history and records); exit 0 when all hold, 1 otherwise."""
    try:
        text = file.read_bytes()
    except FileNotFoundError:
        err.print(f"error: {file} does not exist")
        raise typer.Exit(1) from None
    deployment = home_of(home) if home is not None else None
    if public_key is None and deployment is not None:
        public_key = deployment.keys_dir / SIGNING_PUBLIC_KEY
    key = load_public_key(public_key) if public_key is not None else None
    history: tuple[Ed25519PublicKey, ...] = ()
    engine = open_store(deployment) if deployment is not None else None
    try:
        if engine is not None and key is not None:
            try:
                history = ledger.stored_history(engine, key).keys
            except LedgerError as exc:
                err.print(f"The key history is NOT intact: {exc}", markup=False)
                raise typer.Exit(1) from None
        try:
            checked = verify_receipt(text, key, history=history)
        except ReceiptError as exc:
            err.print(f"The receipt is NOT valid: {exc}", markup=False)
            raise typer.Exit(1) from None
        if engine is not None:
            with engine.connect() as connection:
                found = disagreements(connection, checked.receipt)
            if found:
                err.print(
                    "The receipt is signed, but the deployment disagrees: " + "; ".join(found),
                    markup=False,
                )
                raise typer.Exit(1)
    finally:
        if engine is not None:
            engine.dispose()
    facts = summary(checked.receipt)
    what = (
        f"{facts.state} consent for {facts.stream} ({', '.join(facts.purposes)})"
        if facts.kind == "consent"
        else f"erasure ({facts.mode})"
    )
    out.print(
        f"The receipt is valid: {what} of {facts.subject_id} at {facts.time}, "
        f"signed by key {checked.key_id}"
        + (", and the deployment's ledger and records agree." if deployment else "."),
        markup=False,
    )
    if not checked.with_published_key:
        err.print(
            "Checked with the key inside the receipt; pass --public-key with the hub's "
            "published key to know that this hub signed it."
        )
