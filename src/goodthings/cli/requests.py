"""`goodthings requests`: people's requests and their legal deadlines, as the console's
register shows them, for a script or a cron job that warns before a deadline passes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.console.requests import OPEN, all_requests
from goodthings.console.requests import extend as extend_request
from goodthings.core.keys import load_signing_key
from goodthings.deployment import open_store
from goodthings.security import operators

app = typer.Typer(help="People's requests and their deadlines.", no_args_is_help=True)


@app.command("list")
def list_(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open requests past their deadline.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
    home: HomeOption = None,
) -> None:
    """Open requests first, by deadline, then answered ones; exit 1 with --overdue when any is."""
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            found = all_requests(connection)
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    if overdue:
        found = [r for r in found if r.overdue(now)]
    if as_json:
        rows = [
            {
                "reference": r.reference,
                "kind": r.kind.value,
                "subject": r.subject,
                "received_at": r.received_at.isoformat(),
                "deadline": r.deadline.isoformat(),
                "state": r.state,
                "overdue": r.overdue(now),
                "extended": r.extension_reason is not None,
                "sent": r.sent,
            }
            for r in found
        ]
        out.print(json.dumps(rows), markup=False)
    elif not found:
        out.print("no overdue requests" if overdue else "no requests yet")
    for r in [] if as_json else found:
        late = " OVERDUE" if r.overdue(now) else ""
        state = f"due {r.deadline:%Y-%m-%d}{late}" if r.state == OPEN else f"answered: {r.sent}"
        out.print(f"{r.reference}  {r.kind.value}  {r.subject}  {state}", markup=False)
    if overdue and found:
        raise typer.Exit(1)


@app.command("extend")
def extend(
    reference: Annotated[
        str, typer.Argument(help="The request, as `requests list` names it (erasure:<id>).")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why it takes longer: the person is told this.")
    ],
    by: Annotated[str, typer.Option("--by", help="Who extends it, as the ledger records.")],
    home: HomeOption = None,
) -> None:
    """Extend an open request's deadline by two months, once, within its first deadline.

    GDPR Art. 12(3) allows it for complex or numerous requests, with the reason told to the
    person; the extension is kept in the register and the ledger, and the assessment's
    `erasure.on-time` and `requests.on-time` checks judge the request by it."""
    deployment = home_of(home)
    signer = load_signing_key(deployment.keys_dir)
    engine = open_store(deployment)
    try:
        with engine.begin() as connection:
            deadline = extend_request(connection, reference, reason, by)
            operators.record(
                connection,
                signer,
                f"operator:{by}",
                "console.request_extend",
                f"request:{reference}",
            )
    finally:
        engine.dispose()
    out.print(f"{reference}: deadline extended to {deadline:%Y-%m-%d}", markup=False)
