"""`goodthings advisories`: security advisories matched against the fleet, and support periods."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.deployment import open_store
from goodthings.security import (
    affected_devices,
    list_advisories,
    read_advisory,
    store_advisory,
    support_status,
)

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
        advisories = [read_advisory(path) for path in files]  # all readable, or none stored
        with engine.begin() as connection:
            for advisory in advisories:
                store_advisory(connection, advisory)
        with engine.connect() as connection:
            for advisory in advisories:
                hits = affected_devices(connection, advisory.id)
                out.print(
                    f"{advisory.id} ({advisory.format}, {advisory.severity}): {advisory.summary}",
                    markup=False,
                )
                if not hits:
                    out.print("  no device of this deployment is affected")
                for hit in hits:
                    out.print(f"  affected: {hit.device} ({hit.model} {hit.version})", markup=False)
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
                            "id": advisory_id,
                            "severity": severity,
                            "summary": summary,
                            "url": url,
                            "affected": [
                                {"device": h.device, "model": h.model, "firmware": h.version}
                                for h in hits
                                if h.advisory == advisory_id
                            ],
                        }
                        for advisory_id, severity, summary, url in advisories
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
    for advisory_id, severity, summary, _url in advisories:
        affected = [h for h in hits if h.advisory == advisory_id]
        out.print(f"{severity.upper():8} {advisory_id}: {summary}", markup=False)
        devices = ", ".join(f"{h.device} ({h.version})" for h in affected) or "none"
        out.print(f"         affected devices: {devices}", markup=False)
    if unsupported:
        out.print("Past their support period (no more security updates):")
        for status in unsupported:
            out.print(f"  {status.device} ({status.model}): support ended {status.support_until}")
    else:
        out.print("Every device is within its model's support period.")
