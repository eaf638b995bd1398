"""`goodthings ledger verify`: check the tamper-evident ledger offline, with the public key,
against its head, the witness file and the receipts people kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx2
import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core import ledger
from goodthings.core.errors import LedgerError
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.deployment import open_store
from goodthings.rights.receipts import read_anchors

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from sqlalchemy import Engine

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
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON document (the verdict and each check done) instead."
        ),
    ] = False,
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
        keys = _key_history_length(engine, key) if as_json else None
    finally:
        engine.dispose()
    if as_json:
        checks: list[dict[str, Any]] = [
            {"check": "chain", "entries": result.entries},
            {"check": "checkpoints", "count": result.checkpoints, "max_unsigned": max_unsigned},
            {"check": "head"},
            {"check": "key history", "keys": keys},
        ]
        if witness is not None and not no_witness:
            checks.append({"check": "witness", "file": str(witness), "checkpoints": len(witnessed)})
        if witness_url is not None:
            checks.append({"check": "witness", "url": witness_url, "checkpoints": len(held)})
        if kept is not None:
            checks.append(
                {
                    "check": "receipts",
                    "folder": str(receipts),
                    "anchors": len(kept.anchors),
                    "without_position": list(kept.without_position),
                }
            )
        document = {
            "ok": result.ok,
            "entries": result.entries,
            "checkpoints": result.checkpoints,
            "last_checkpoint_seq": result.last_checkpoint_seq,
            "unsigned_tail": result.unsigned_tail,
            "first_bad_seq": result.first_bad_seq,
            "reason": result.reason,
            "key_history": keys,
            "checks": checks,
        }
        print(json.dumps(document, indent=2))
        if not result.ok:
            raise typer.Exit(1)
        return
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


def _key_history_length(engine: Engine, key: Ed25519PublicKey) -> int | None:
    """How many signing keys the ledger has had; None when the stored history does not check
    (the verdict then says why), so a script sees a rotation without reading the entries."""
    try:
        return len(ledger.stored_history(engine, key).keys)
    except LedgerError:
        return None


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
