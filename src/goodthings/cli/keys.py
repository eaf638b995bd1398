"""`goodthings keys rotate-master` and `rotate-signing`: replace a key while the hub goes on
ingesting, and destroy the old one."""

from __future__ import annotations

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.keys import KeyVault, load_signing_key, rotate_master, rotate_signing
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
        rotation = rotate_master(
            KeyVault.of(deployment), engine, load_signing_key(deployment.keys_dir)
        )
    finally:
        engine.dispose()
    out.print(
        f"Rotated the master key: {rotation.rewrapped} data keys re-wrapped now, "
        f"{rotation.already} already under the new key. The old master key is destroyed; "
        "copies of keys/ taken before now no longer open anything; the ledger records the "
        "rotation (docs/operations.md#rotating-the-master-key).",
        markup=False,
    )


@app.command("rotate-signing")
def rotate_signing_command(home: HomeOption = None) -> None:
    """Start a new signing key, record the change in the ledger signed by the old key and the
    new, then destroy the old private key. Old checkpoints and receipts still verify.

    Safe while the hub runs: every process signs with the new key from the change on. If it is
    interrupted, run it again: it resumes where it stopped.
    """
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        rotation = rotate_signing(deployment.keys_dir, engine)
    finally:
        engine.dispose()
    out.print(
        f"Rotated the signing key: {rotation.old_key_id} -> {rotation.new_key_id}, recorded at "
        f"ledger entry {rotation.seq}. keys/signing.pub is the new public key; give it to "
        "auditors (the old one still verifies everything signed before). The old private key "
        "is destroyed (docs/operations.md#rotating-the-signing-key).",
        markup=False,
    )
