"""`goodthings share`: deliver readings to recipients' webhooks; see and replay dead letters;
rotate a recipient's webhook secret."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import httpx2
import typer
from sqlalchemy import select

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import load_secret_root
from goodthings.core.store import tables as t
from goodthings.deployment import open_store
from goodthings.rights.sharing import (
    DEAD,
    DEFAULT_OVERLAP,
    WebhookSecrets,
    current_secret,
    deliver_due,
    listing,
    replay,
    rotate_secret,
    schedule,
)
from goodthings.runtime import Hub

app = typer.Typer(
    help="Share readings with the recipients the manifest declares.", no_args_is_help=True
)


@app.command()
def run(home: HomeOption = None) -> None:
    """Open deliveries for new readings and attempt every delivery that is due, once."""
    deployment = home_of(home)
    hub = Hub.open(deployment)
    try:
        created = schedule(hub.engine)
        secrets = WebhookSecrets(load_secret_root(deployment.keys_dir))
        with httpx2.Client(timeout=10.0) as client:
            attempted = deliver_due(hub.engine, hub.keyring, hub.signer, secrets, client)
    finally:
        hub.close()
    out.print(f"{created} new deliveries; {len(attempted)} attempted:")
    for delivery in attempted:
        detail = f", {delivery.last_error}" if delivery.last_error else ""
        out.print(
            f"  #{delivery.id} {delivery.recipient_id} {delivery.stream} ({delivery.purpose}): "
            f"{delivery.status}, {delivery.readings or 0} readings, attempt {delivery.attempts}{detail}",
            markup=False,
        )


@app.command("dead-letters")
def dead_letters(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """List deliveries that failed every attempt, newest first."""
    hub = Hub.open(home_of(home))
    try:
        with hub.engine.connect() as connection:
            dead = listing(connection, DEAD)
    finally:
        hub.close()
    if as_json:
        out.print(json.dumps([asdict(delivery) for delivery in dead]), markup=False)
        return
    if not dead:
        out.print("No dead letters.")
    for delivery in dead:
        out.print(
            f"#{delivery.id} {delivery.recipient_id} {delivery.stream} ({delivery.purpose}) "
            f"after {delivery.attempts} attempts: {delivery.last_error}",
            markup=False,
        )


@app.command("replay")
def replay_command(
    delivery_id: Annotated[
        int, typer.Argument(help="The dead letter's number, from dead-letters.")
    ],
    home: HomeOption = None,
) -> None:
    """Queue a dead-lettered delivery again; the next `share run` attempts it."""
    hub = Hub.open(home_of(home))
    try:
        replay(hub.engine, hub.signer, delivery_id)
    finally:
        hub.close()
    out.print(f"Delivery #{delivery_id} is queued again.")


@app.command()
def secret(
    recipient_id: Annotated[str, typer.Argument(help="The recipient, as named in the manifest.")],
    home: HomeOption = None,
) -> None:
    """Print the secret a recipient uses to check the signature of its deliveries."""
    deployment = home_of(home)
    hub = Hub.open(deployment)
    try:
        with hub.engine.connect() as connection:
            known = (
                connection.execute(
                    select(t.recipients.c.id).where(t.recipients.c.retired_at.is_(None))
                )
                .scalars()
                .all()
            )
    finally:
        hub.close()
    if recipient_id not in known:
        raise GoodthingsError(
            f"there is no recipient {recipient_id!r}; the recipients are: {', '.join(known) or 'none'}"
        )
    err.print(f"Webhook signing secret for {recipient_id} (give it to them over a safe channel):")
    engine = open_store(deployment)
    try:
        with engine.connect() as connection:
            shown = current_secret(
                connection, WebhookSecrets(load_secret_root(deployment.keys_dir)), recipient_id
            )
    finally:
        engine.dispose()
    out.print(shown, markup=False)


@app.command("rotate-secret")
def rotate_secret_command(
    recipient_id: Annotated[str, typer.Argument(help="The recipient, as named in the manifest.")],
    home: HomeOption = None,
    overlap_hours: Annotated[
        float,
        typer.Option(
            help="How long deliveries carry the old secret's signature as well, so the "
            "recipient can switch without losing one."
        ),
    ] = DEFAULT_OVERLAP / 3600,
) -> None:
    """Issue a new webhook secret for a recipient; the old one signs too during the overlap."""
    deployment = home_of(home)
    hub = Hub.open(deployment)
    try:
        rotated = rotate_secret(
            hub.engine,
            hub.signer,
            WebhookSecrets(load_secret_root(deployment.keys_dir)),
            recipient_id,
            overlap=overlap_hours * 3600,
        )
    finally:
        hub.close()
    until = datetime.fromtimestamp(rotated.previous_until, UTC).strftime("%Y-%m-%d %H:%M UTC")
    err.print(
        f"New webhook signing secret for {recipient_id} (generation {rotated.generation}; give "
        f"it to them over a safe channel). Until {until} each delivery is signed with the old "
        "secret and the new one; after that with the new one only:"
    )
    out.print(rotated.secret, markup=False)
