"""`goodthings password`: the device password policy, usable on its own."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.keys import load_secret_root
from goodthings.deployment import open_store
from goodthings.security import check_password, fingerprint_key, judge_password

app = typer.Typer(help="Check device passwords against the policy.", no_args_is_help=True)


def read_password() -> str:
    """One password from standard input: typed without echo on a terminal, else its first line."""
    if sys.stdin.isatty():
        return getpass.getpass("Password (not shown): ")
    return sys.stdin.readline().rstrip("\r\n")


@app.command()
def check(
    device: Annotated[
        str | None,
        typer.Option(help="The device the password is for (it must not contain its name)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Read one candidate password from standard input; exit 1 with the reason if refused.

    Refused: empty, on the Mirai botnet's list or a list of IoT default passwords, containing
    the device's name, shorter than 12 characters, too easy to guess (zxcvbn), or already used
    by a device of this deployment (checked when run inside one).
    """
    candidate = read_password()
    deployment = home_of(home)
    if deployment.manifest_path.exists():
        engine = open_store(deployment)
        try:
            key = fingerprint_key(load_secret_root(deployment.keys_dir))
            with engine.connect() as connection:
                verdict = judge_password(connection, device or "", candidate, key)
        finally:
            engine.dispose()
    else:
        verdict = check_password(candidate, device_id=device)
    if not verdict.accepted:
        err.print(f"refused ({verdict.refusal}): {verdict.reason}", markup=False)
        raise typer.Exit(1)
    out.print(f"accepted: {verdict.reason}")
