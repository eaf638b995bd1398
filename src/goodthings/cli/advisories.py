"""`goodthings advisories`: security advisories matched against the fleet, and support periods."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.cli._progress import counted
from goodthings.deployment import open_store
from goodthings.security import (
    affected_devices,
    list_advisories,
    read_advisory,
    store_advisories,
    support_status,
)
from goodthings.security.advisories import Affected

app = typer.Typer(
    help="Import security advisories and see which devices they affect.", no_args_is_help=True
)


@app.command(name="import")
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Advisory files: OSV records or CSAF 2.0 advisories, in JSON.",
            exists=True,
            dir_okay=False,
        ),
    ],
    home: HomeOption = None,
) -> None:
    """Read advisories (OSV or CSAF JSON) and list the devices each one affects."""
    engine = open_store(home_of(home))
    try:
        advisories = []
        with counted(err, "Reading") as step:  # all readable, or none stored
            for done, path in enumerate(files):
                step(done, len(files), path.name)
                advisories.append(read_advisory(path))
        with counted(err, "Storing") as step, engine.begin() as connection:
            store_advisories(connection, advisories, step=step)
        with engine.connect() as connection:
            for advisory in advisories:
                hits = affected_devices(connection, advisory.id)
                out.print(
                    f"{advisory.id} ({advisory.format}, {advisory.severity}): {advisory.summary}",
                    markup=False,
                )
                for note in advisory.notes:
                    out.print(f"  note: {note}", markup=False)
                if advisory.withdrawn:
                    out.print(f"  withdrawn on {advisory.withdrawn.date()}: it affects nothing")
                elif not hits:
                    out.print("  no device of this deployment is affected")
                for hit in hits:
                    out.print(f"  affected: {hit.device} ({_what(hit)})", markup=False)
    finally:
        engine.dispose()


@app.command(name="list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")] = False,
    home: HomeOption = None,
) -> None:
    """Every imported advisory with the devices it affects, and devices past their support period."""
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            advisories = list_advisories(connection)
            hits = affected_devices(connection)
            support = support_status(connection)
    finally:
        engine.dispose()
    today = date.today()
    unsupported = [s for s in support if s.past_support(today)]
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "advisories": [
                        {
                            "id": advisory.id,
                            "severity": advisory.severity,
                            "summary": advisory.summary,
                            "url": advisory.url,
                            "withdrawn": advisory.withdrawn.isoformat()
                            if advisory.withdrawn
                            else None,
                            "affected": [
                                _affected_json(h) for h in hits if h.advisory == advisory.id
                            ],
                        }
                        for advisory in advisories
                    ],
                    "past_support": [
                        {
                            "device": s.device,
                            "model": s.model,
                            "support_until": s.support_until.isoformat(),
                        }
                        for s in unsupported
                    ],
                }
            )
        )
        return
    if not advisories:
        out.print("No advisories imported yet: `goodthings advisories import FILE`.")
    for advisory in advisories:
        affected = [h for h in hits if h.advisory == advisory.id]
        out.print(f"{advisory.severity.upper():8} {advisory.id}: {advisory.summary}", markup=False)
        if advisory.withdrawn:
            out.print(f"         withdrawn on {advisory.withdrawn.date()}: it affects nothing")
            continue
        devices = ", ".join(f"{h.device} ({_what(h)})" for h in affected) or "none"
        out.print(f"         affected devices: {devices}", markup=False)
    if unsupported:
        out.print("Past their support period (no more security updates):")
        for status in unsupported:
            out.print(f"  {status.device} ({status.model}): support ended {status.support_until}")
    else:
        out.print("Every device is within its model's support period.")


def _what(hit: Affected) -> str:
    """What of the device is affected, in words: its firmware or a component of its model."""
    if hit.component:
        return f"component {hit.component} {hit.version} of model {hit.model}"
    return f"{hit.model} firmware {hit.version}"


def _affected_json(hit: Affected) -> dict[str, str | None]:
    if hit.component:
        return {
            "device": hit.device,
            "model": hit.model,
            "component": hit.component,
            "version": hit.version,
        }
    return {"device": hit.device, "model": hit.model, "firmware": hit.version}
