"""`goodthings objection`: a person's objection to automated decisions and profiling on a stream."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.keys import load_signing_key
from goodthings.deployment import open_store
from goodthings.rights.objections import history, record

app = typer.Typer(
    help="Record a person's objection to automated decisions and profiling.", no_args_is_help=True
)

Subject = Annotated[str, typer.Option("--subject", help="The person, by subject id.")]
Stream = Annotated[
    str, typer.Option("--stream", help="Stream name, or model-id/stream-name if ambiguous.")
]


def _record(home: HomeOption, subject: str, stream: str, *, withdraw: bool) -> None:
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        made = record(
            engine, load_signing_key(deployment.keys_dir), subject, stream, withdraw=withdraw
        )
    finally:
        engine.dispose()
    out.print(f"Recorded: {made.subject_id} {made.state} for {made.stream}; record {made.id}.")


@app.command()
def add(subject: Subject, stream: Stream, home: HomeOption = None) -> None:
    """Record that a person objects to automated use of a stream about them."""
    _record(home, subject, stream, withdraw=False)


@app.command()
def withdraw(subject: Subject, stream: Stream, home: HomeOption = None) -> None:
    """Record that a person no longer objects."""
    _record(home, subject, stream, withdraw=True)


@app.command()
def show(
    subject: Subject,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the history as JSON.")] = False,
) -> None:
    """Every objection change of a person, oldest first."""
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            changes = history(connection, subject)
    finally:
        engine.dispose()
    if as_json:
        out.print(
            json.dumps(
                [
                    {
                        "id": c.id,
                        "stream": c.stream,
                        "state": c.state,
                        "at": c.created_at.isoformat(),
                    }
                    for c in changes
                ]
            ),
            markup=False,
        )
        return
    if not changes:
        out.print(f"{subject} has no objections on record.")
    for change in changes:
        out.print(f"{change.created_at:%Y-%m-%d %H:%M} {change.stream}: {change.state}")
