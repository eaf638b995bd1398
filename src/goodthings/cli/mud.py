"""`goodthings mud`: Manufacturer Usage Descriptions (RFC 8520)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import out
from goodthings.security.mud import load_mud

app = typer.Typer(help="Manufacturer Usage Descriptions (RFC 8520).", no_args_is_help=True)


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="The MUD file (JSON).", dir_okay=False)],
) -> None:
    """Check a MUD file's structure and say in plain words what the device may talk to."""
    mud = load_mud(file)
    out.print(f"{file}: a valid MUD file for {mud.systeminfo or mud.url}", markup=False)
    if not mud.supported:
        out.print("  its maker no longer supports the device (is-supported: false)")
    for rule in mud.rules:
        out.print(f"  the device {rule.words()}", markup=False)
    if not mud.rules:
        out.print("  the device may talk to nothing (no access list is named)")
