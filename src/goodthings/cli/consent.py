"""`goodthings consent give|withdraw|show`: a person's choices, recorded by the operator."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.keys import load_signing_key
from goodthings.deployment import open_store
from goodthings.rights.consent import records, shared_agreements, waiting_words

app = typer.Typer(help="Record a person's consent, or show their choices.", no_args_is_help=True)

Subject = Annotated[str, typer.Option("--subject", help="The person, by subject id.")]
Stream = Annotated[
    str, typer.Option("--stream", help="Stream name, or model-id/stream-name if ambiguous.")
]
Purpose = Annotated[str, typer.Option("--purpose", help="The DPV purpose, e.g. ServiceProvision.")]
Recipient = Annotated[
    str | None, typer.Option("--recipient", help="Consent to share with this recipient only.")
]


ByRepresentative = Annotated[
    bool,
    typer.Option(
        "--by-representative",
        help="The person's representative (manifest: represented_by) decided, on their behalf.",
    ),
]
AsJson = Annotated[
    bool,
    typer.Option("--json", help="Print the record and, for a shared place, the agreement so far."),
]


def _change(
    state: str, home: HomeOption, change: records.ConsentChange, as_json: bool = False
) -> None:
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        signer = load_signing_key(deployment.keys_dir)
        action = records.give if state == "given" else records.withdraw
        record = action(engine, signer, change)
        with engine.connect() as connection:
            shared = (
                shared_agreements(connection, record.subject_id, record.stream, record.purpose)
                if record.recipient is None
                else []
            )
    finally:
        engine.dispose()
    if as_json:
        shared_out = [
            {**asdict(w), "complete": w.complete, "words": waiting_words(w)} for w in shared
        ]
        document = {**_as_dict(record), "shared": shared_out}
        print(json.dumps(document, default=str, indent=2, ensure_ascii=False))
        return
    target = f" with {record.recipient}" if record.recipient else ""
    out.print(
        f"Recorded: {record.subject_id} {record.state} consent for {record.stream} "
        f"({record.purpose}{target}) at level {record.level}; record {record.id}."
    )
    if record.given_by is not None:
        out.print(f"Given by {record.given_by} on behalf of {record.subject_id}.", markup=False)
    for waiting in shared:
        out.print(waiting_words(waiting), markup=False)


@app.command()
def give(
    subject: Subject,
    stream: Stream,
    purpose: Purpose,
    recipient: Recipient = None,
    level: Annotated[
        str, typer.Option(help="How much detail: exact, coarse or aggregate (as offered).")
    ] = "exact",
    home: HomeOption = None,
    by_representative: ByRepresentative = False,
    as_json: AsJson = False,
) -> None:
    """Record that a person agreed to a purpose for one of their streams."""
    change = records.ConsentChange(
        subject, stream, purpose, recipient, level, by_representative=by_representative
    )
    _change("given", home, change, as_json)


@app.command()
def withdraw(
    subject: Subject,
    stream: Stream,
    purpose: Purpose,
    recipient: Recipient = None,
    home: HomeOption = None,
    by_representative: ByRepresentative = False,
    as_json: AsJson = False,
) -> None:
    """Record that a person withdrew their consent; collection stops within the gate's bound."""
    change = records.ConsentChange(
        subject, stream, purpose, recipient, by_representative=by_representative
    )
    _change("withdrawn", home, change, as_json)


@app.command()
def show(
    subject: Subject,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Every consent change a person made, oldest first."""
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            changes = records.history(connection, subject)
    finally:
        engine.dispose()
    if as_json:
        print(json.dumps([_as_dict(r) for r in changes], indent=2, default=str))
        return
    if not changes:
        out.print(f"{subject} has made no consent choices yet: purposes based on consent are off.")
    for r in changes:
        target = f" with {r.recipient}" if r.recipient else ""
        by = f"  by {r.given_by} on their behalf" if r.given_by else ""
        out.print(
            f"{r.created_at:%Y-%m-%d %H:%M:%S}  {r.state:<9}  {r.stream}  {r.purpose}{target}  "
            f"level {r.level}  via {r.method}{by}",
            markup=False,
        )


def _as_dict(record: records.ConsentRecord) -> dict[str, object]:
    return {key: getattr(record, key) for key in record.__dataclass_fields__}
