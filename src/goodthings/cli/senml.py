"""`goodthings senml resolve`: see a device's payload the way the hub reads it."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from goodthings.ingest import senml

app = typer.Typer(help="Debug SenML payloads (RFC 8428).", no_args_is_help=True)


@app.command()
def resolve(
    file: Annotated[
        str, typer.Argument(help="A file holding a SenML pack (JSON, CBOR or XML), or - for stdin.")
    ],
    cbor: Annotated[
        bool, typer.Option("--cbor", help="The pack is SenML CBOR (else told by its first byte).")
    ] = False,
) -> None:
    """Print the pack's resolved records (RFC 8428 §4.6) as JSON, or the precise error."""
    payload = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    now = time.time()
    records = senml.parse(payload, senml.SENML_CBOR if cbor else None, now=now)
    print(json.dumps(senml.to_json(records), indent=2))
