"""`goodthings keys rotate-master`: re-wrap every data key under a new master key and destroy
the old one, while the hub goes on ingesting."""

from __future__ import annotations

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.keys import KeyVault, rotate_master
from goodthings.deployment import open_store

app = typer.Typer(help="Rotate the deployment's keys.", no_args_is_help=True)


@app.command("rotate-master")
def rotate_master_command(home: HomeOption = None) -> None:
    """Make a new master key, re-wrap every data key under it, then destroy the old one.

    Safe while the hub runs; if it is interrupted, run it again: it resumes where it stopped.
    """
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        rotation = rotate_master(KeyVault.of(deployment), engine)
    finally:
        engine.dispose()
    out.print(
        f"Rotated the master key: {rotation.rewrapped} data keys re-wrapped now, "
        f"{rotation.already} already under the new key. The old master key is destroyed; "
        "copies of keys/ taken before now no longer open anything (docs/operations.md#rotating-the-master-key).",
        markup=False,
    )
