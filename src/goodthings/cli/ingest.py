"""`goodthings ingest rejected`: the packs the hub refused, newest first, without their payload."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.store import select_refused
from goodthings.runtime import Hub

app = typer.Typer(help="See what devices sent that the hub refused.", no_args_is_help=True)

_REASONS = {
    "malformed": "not valid SenML",
    "unknown_stream": "names a stream the device does not have",
    "unknown_device": "from a device that is not in the deployment",
    "unprocessable": "the hub could not store it",
}


@app.command()
def rejected(
    home: HomeOption = None,
    device: Annotated[
        str | None, typer.Option("--device", help="Only the packs of this device.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show at most this many (newest first).")
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as a JSON array.")] = False,
) -> None:
    """List refused packs, newest first: device, time, why, size and SHA-256; never a value."""
    hub = Hub.open(home_of(home))
    try:
        with hub.engine.connect() as connection:
            packs = select_refused(connection, device_id=device, limit=limit)
    finally:
        hub.close()
    if as_json:
        out.print(json.dumps([asdict(pack) for pack in packs]), markup=False)
        return
    if not packs:
        out.print("No refused packs" + (f" from {device}." if device else "."), markup=False)
        return
    for pack in packs:
        when = datetime.fromtimestamp(pack.received_at, UTC).isoformat(timespec="seconds")
        reason = _REASONS.get(pack.refusal, pack.refusal)
        out.print(
            f"{when}  {pack.device_id}: {reason} ({pack.refusal})\n"
            f"    {pack.message}\n"
            f"    {pack.size} bytes of {pack.content_type}, SHA-256 {pack.sha256}",
            markup=False,
        )
