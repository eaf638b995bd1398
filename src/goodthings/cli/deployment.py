"""`goodthings init` and `goodthings apply`: make a deployment and keep it in step with its manifest."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.cli.device import provision_on_broker
from goodthings.core.config import DEFAULT_PUBLIC_URL, Home, new_home, shown_url
from goodthings.core.errors import GoodthingsError
from goodthings.core.manifest import load_manifest
from goodthings.deployment import (
    EXAMPLES,
    ConfirmationNeeded,
    apply_manifest,
    checkout_of,
    describe,
    describe_warning,
    ignore_secrets,
    inference_warnings,
    init_deployment,
    manifest_path,
    open_store,
    plan_document,
)
from goodthings.security import CredentialKind, Issued, admin_session, revoke_retired


def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create the deployment (made if missing).")
    ],
    example: Annotated[
        str,
        typer.Option(help=f"Which example deployment to start from: {', '.join(EXAMPLES)}."),
    ] = "smart-home",
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="The database it runs on, e.g. postgresql://user@host/dbname (default: "
            "$GOODTHINGS_DATABASE_URL, else goodthings.db in DIR). Recorded in DIR/settings.env.",
            show_default=False,
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="Where people reach the hub, the start of the links and QR codes it hands out "
            f"(default: $GOODTHINGS_PUBLIC_URL, else {DEFAULT_PUBLIC_URL}). Recorded in "
            "DIR/settings.env.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a working deployment: manifest, settings, database, master key and signing key."""
    home = new_home(directory, database, public_url)
    result = init_deployment(home, example)
    out.print(f"Created a deployment from the {example!r} example in {home.root}")
    out.print(f"  manifest   {home.manifest_path}  (edit it, then run `goodthings apply`)")
    out.print(f"  settings   {home.settings_path}  (mode 0600; `goodthings deployment set`)")
    out.print(f"  database   {shown_url(home.database_url)}")
    out.print(f"  address    {home.settings.public_url}")
    out.print(f"  keys       {home.keys_dir}  (mode 0600; back them up, never share them)")
    out.print(f"Applied: {len(result.plan.changes)} declared items.")
    checkout = checkout_of(home.root)
    if checkout is not None:
        ignored = ignore_secrets(home)
        err.print(
            f"warning: {home.root} is inside the git checkout {checkout}. Never commit "
            f"{home.keys_dir.name}/ (the keys open every person's data) nor the settings or the "
            f"database; {ignored} now leaves them out.",
            markup=False,
        )
    out.print(f"Next: `goodthings serve --home {home.root}`")


def apply(
    home: HomeOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and change nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Go ahead with a plan that retires streams holding readings."),
    ] = False,
    manifest: Annotated[
        Path | None, typer.Option(help="A manifest other than the deployment's goodthings.yaml.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --dry-run: print the plan as one JSON document.")
    ] = False,
) -> None:
    """Validate the manifest and bring the store in line with it, printing the plan first."""
    if as_json and not dry_run:
        raise GoodthingsError("--json prints the plan without applying it: add --dry-run")
    deployment = home_of(home)
    loaded = load_manifest(manifest_path(deployment, manifest))
    for warning in loaded.warnings:
        err.print(f"warning: {warning}", markup=False)
    engine = open_store(deployment)
    try:
        plan = apply_manifest(engine, loaded, dry_run=True).plan
        if as_json:
            print(json.dumps(plan_document(plan), indent=2, ensure_ascii=False))
            return
        for line in describe(plan):
            out.print(line)
        with engine.connect() as connection:
            for inference in inference_warnings(connection, loaded):
                err.print(describe_warning(inference), markup=False)
        if dry_run or plan.empty:
            return
        confirmed = yes or (
            bool(plan.needs_confirmation)
            and sys.stdin.isatty()
            and typer.confirm("Apply this plan?")
        )
        try:
            applied = apply_manifest(engine, loaded, confirmed=confirmed, credential_added=True)
        except ConfirmationNeeded as exc:
            err.print(f"Nothing was changed: {exc}")
            raise typer.Exit(1) from None
        out.print("Applied.")
        _show_credentials(deployment, applied.credentials)
        _revoke_retired_on_broker(deployment, engine)
    finally:
        engine.dispose()


def _show_credentials(deployment: Home, credentials: dict[str, str]) -> None:
    """Each device the plan added got its own credential with the plan, shown once here."""
    for device_id, secret in credentials.items():
        out.print(
            f"Credential for new device {device_id}, shown once (HTTP bearer token; MQTT "
            f"username {device_id}, this as password): {secret}",
            markup=False,
        )
        provision_on_broker(deployment, Issued(device_id, CredentialKind.token, secret))


def _revoke_retired_on_broker(deployment: Home, engine: Engine) -> None:
    """With Mosquitto configured, remove the broker clients of devices no longer declared."""
    session = admin_session(deployment.settings)
    if session is None:
        return
    with session as dynsec, engine.connect() as connection:
        for device in revoke_retired(connection, dynsec):
            out.print(f"Broker: removed the client of retired device {device}.")
