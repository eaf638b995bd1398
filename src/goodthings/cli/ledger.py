"""`goodthings ledger verify`: check the tamper-evident ledger offline, with the public key,
against its head, the witness file and the receipts people kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx2
import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core import ledger
from goodthings.core.errors import LedgerError
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.deployment import open_store
from goodthings.rights.receipts import read_anchors

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
    witness: Annotated[
        Path | None,
        typer.Option(
            help="A witness file of signed checkpoints, e.g. the copy kept elsewhere "
            "(default: the deployment's own, when it exists)."
        ),
    ] = None,
    no_witness: Annotated[
        bool, typer.Option("--no-witness", help="Check without any witness file.")
    ] = False,
    witness_url: Annotated[
        str | None,
        typer.Option(
            help="A goodthings instance acting as this hub's witness (its base URL): check "
            "against the checkpoints it holds too."
        ),
    ] = None,
    receipts: Annotated[
        Path | None,
        typer.Option(help="A folder of consent and erasure receipts (*.json) to check against."),
    ] = None,
    max_unsigned: Annotated[
        int,
        typer.Option(
            help="The most entries allowed after the newest signed checkpoint "
            "(the hub signs at least every this many)."
        ),
    ] = ledger.CheckpointPolicy().every_entries,
) -> None:
    """Check the chain, every checkpoint, the head, the witness and the receipts; exit 1
    naming the first bad entry."""
    deployment = home_of(home)
    key = load_public_key(public_key or deployment.keys_dir / SIGNING_PUBLIC_KEY)
    if witness is None and not no_witness and deployment.witness_path.exists():
        witness = deployment.witness_path
    witnessed = [] if witness is None or no_witness else ledger.read_witness(witness)
    held = _held_by(witness_url) if witness_url is not None else []
    engine = open_store(deployment)
    try:
        kept = None
        if receipts is not None:
            kept = read_anchors(receipts, key, ledger.stored_history(engine, key).keys)
        result = ledger.check(
            engine,
            key,
            max_unsigned_tail=max_unsigned,
            anchors=kept.anchors if kept is not None else (),
            witness=[*witnessed, *held],
        )
    finally:
        engine.dispose()
    if not result.ok:
        err.print(f"The ledger is NOT intact: {result.reason}", markup=False)
        raise typer.Exit(1)
    out.print(
        f"The ledger is intact: {result.entries} entries, {result.checkpoints} signed checkpoints"
        + (
            f"; the newest {result.unsigned_tail} entries are chained but not yet signed."
            if result.unsigned_tail
            else "."
        ),
        markup=False,
    )
    if witness is not None and not no_witness:
        out.print(
            f"It holds every one of the {len(witnessed)} checkpoints in the witness {witness}.",
            markup=False,
        )
    if witness_url is not None:
        out.print(
            f"It holds every one of the {len(held)} checkpoints the witness {witness_url} holds.",
            markup=False,
        )
    if kept is not None:
        out.print(
            f"It holds what each of {len(kept.anchors)} receipt(s) saw.",
            markup=False,
        )
        if kept.without_position:
            err.print(
                f"{len(kept.without_position)} receipt(s) carry no ledger position (issued "
                "before receipts did) and prove nothing about it: "
                + ", ".join(kept.without_position),
                markup=False,
            )


def _held_by(url: str) -> list[ledger.Checkpoint]:
    """The checkpoints an HTTP witness holds (`GET /witness/checkpoints`)."""
    where = url.rstrip("/") + "/witness/checkpoints"
    try:
        answer = httpx2.get(where, timeout=30.0)
        answer.raise_for_status()
        return [ledger.Checkpoint(**fields) for fields in answer.json()]
    except (httpx2.HTTPError, ValueError, TypeError) as exc:
        raise LedgerError(
            f"cannot read the checkpoints the witness at {where} holds: {exc}"
        ) from None
