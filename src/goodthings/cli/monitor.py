"""`goodthings monitor`: what abuse monitoring found, and which devices are cut off."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.keys import load_secret_root
from goodthings.deployment import open_store
from goodthings.rights.sharing import WebhookSecrets
from goodthings.runtime.alert_webhook import ALERTS
from goodthings.security.monitoring.report import alerts as list_alerts
from goodthings.security.monitoring.report import status as read_status

app = typer.Typer(
    help="What abuse monitoring found, and which devices are quarantined.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead.")]


@app.command()
def status(as_json: JsonOption = False, home: HomeOption = None) -> None:
    """Quarantined devices, detections of the last 24 hours, the busiest devices."""
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            found = read_status(connection)
    finally:
        engine.dispose()
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "quarantined": [
                        {
                            "device": q.device_id,
                            "since": q.at.isoformat(),
                            "by": q.actor,
                            "reason": q.reason,
                            "detection": q.detection_id,
                        }
                        for q in found.quarantined
                    ],
                    "detections_today": found.detections_today,
                    "busiest": [{"device": d, "messages": n} for d, n in found.busiest],
                }
            )
        )
        return
    if not found.quarantined:
        out.print("No device is quarantined.")
    for held in found.quarantined:
        out.print(
            f"QUARANTINED {held.device_id} since {held.at:%Y-%m-%d %H:%M} UTC by {held.actor}: "
            f"{held.reason}  (release: goodthings device release {held.device_id} --reason …)",
            markup=False,
        )
    if found.detections_today:
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(found.detections_today.items()))
        out.print(f"Detections in the last 24 hours: {counts} (goodthings monitor alerts)")
    else:
        out.print("No detections in the last 24 hours.")
    if found.busiest:
        busiest = ", ".join(f"{device} {n}" for device, n in found.busiest)
        out.print(f"Messages in the last 10 minutes: {busiest}", markup=False)


@app.command()
def alerts(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    as_json: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """The latest detections: what was found, why, with its evidence and what the hub did."""
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            found = list_alerts(connection, limit=limit)
    finally:
        engine.dispose()
    if as_json:
        out.print_json(json.dumps(found))
        return
    if not found:
        out.print("No detections yet.")
    for detection in found:
        about = detection["device_id"] or detection["source"]
        out.print(
            f"#{detection['id']} {detection['at'][:16]} {detection['severity']} "
            f"{detection['kind']} {about} → {detection['action']}: {detection['explanation']}",
            markup=False,
        )


@app.command(name="webhook-secret")
def webhook_secret(home: HomeOption = None) -> None:
    """Print the secret the alert webhook's receiver checks each POST's signature with."""
    deployment = home_of(home)
    err.print("Alert webhook signing secret (give it to the receiver over a safe channel):")
    out.print(WebhookSecrets(load_secret_root(deployment.keys_dir)).secret(ALERTS), markup=False)
