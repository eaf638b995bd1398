"""`goodthings operator`: the people who may use the console, each with a role and a second
factor; no shared or default passwords."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.cli.password import read_password
from goodthings.core.keys import load_signing_key
from goodthings.deployment import open_store
from goodthings.security import Role, operators

app = typer.Typer(
    help="Operator accounts for the console: add, list, reset, remove.", no_args_is_help=True
)

NameArgument = Annotated[str, typer.Argument(help="The person's sign-in name.")]


@app.command()
def add(
    name: NameArgument,
    role: Annotated[
        Role,
        typer.Option(
            help="operator: devices, applications, apply; dpo: requests, consents, reports, "
            "the ledger; auditor: reads only."
        ),
    ],
    ask_password: Annotated[
        bool,
        typer.Option(
            "--ask-password",
            help="Read the initial password from standard input instead of making one.",
        ),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Add a person; prints a one-time password (or takes one with --ask-password), which the
    first sign-in replaces, and then enrols an authenticator app."""
    password = read_password() if ask_password else None
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        with engine.begin() as connection:
            made = operators.add(
                connection, load_signing_key(deployment.keys_dir), name, role, password
            )
    finally:
        engine.dispose()
    out.print(f"added {name} ({role.value})")
    if made is not None:
        out.print(f"one-time password (shown once): {made}", markup=False)


@app.command()
def remove(name: NameArgument, home: HomeOption = None) -> None:
    """Delete a person's account and end their sessions."""
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        with engine.begin() as connection:
            operators.remove(connection, load_signing_key(deployment.keys_dir), name)
    finally:
        engine.dispose()
    out.print(f"removed {name}")


@app.command()
def reset(name: NameArgument, home: HomeOption = None) -> None:
    """For a lost phone or password: clear the second factor, end the sessions and print a
    one-time password; the next sign-in enrols a new authenticator app."""
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        with engine.begin() as connection:
            made = operators.reset(connection, load_signing_key(deployment.keys_dir), name)
    finally:
        engine.dispose()
    out.print(f"reset {name}; one-time password (shown once): {made}", markup=False)


@app.command("list")
def list_(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """Who may use the console, their role, and whether they have set up a second factor."""
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        with engine.connect() as connection:
            accounts = operators.list_accounts(connection)
    finally:
        engine.dispose()
    if as_json:
        rows = [
            {"name": a.name, "role": a.role.value, "second_factor": a.second_factor}
            for a in accounts
        ]
        out.print(json.dumps(rows), markup=False)
        return
    if not accounts:
        out.print("no operators yet: `goodthings operator add NAME --role operator`")
    for a in accounts:
        state = "second factor set up" if a.second_factor else "second factor not set up yet"
        out.print(f"{a.name}  {a.role.value}  {state}", markup=False)
