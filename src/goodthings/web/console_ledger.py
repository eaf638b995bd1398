"""The ledger in the console, for the data protection officer and the auditor: entries by
actor, action, subject and time, a page at a time; the signed checkpoints; verification on
demand, with the result in words; a range exported as JSON lines (the export is in the
ledger too, as who took which range)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from goodthings.console import ledger_browser
from goodthings.console.ledger_browser import Filters, Page
from goodthings.core import ledger
from goodthings.runtime import Hub
from goodthings.security import ConsoleSession, Role, operators
from goodthings.web._portal_common import HEADERS
from goodthings.web.console_deps import ConsoleRefused, actor, viewer
from goodthings.web.console_frame import page
from goodthings.web.deps import HubDep

router = APIRouter(include_in_schema=False)
PATH = "/console/ledger"
READERS = (Role.dpo, Role.auditor)
Text = Annotated[str, Query(max_length=200)]


def _day(text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConsoleRefused(
            f"The {what} day {text!r} is not a date like 2026-01-31.", 400
        ) from None


@router.get(PATH, response_class=HTMLResponse)
async def browse(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(viewer(*READERS))],
    actor_: Annotated[str, Query(alias="actor", max_length=200)] = "",
    action: Text = "",
    subject: Text = "",
    since: Text = "",
    until: Text = "",
    before: Annotated[int | None, Query(ge=1)] = None,
    verify: bool = False,
) -> HTMLResponse:
    filters = Filters(actor_, action, subject, _day(since, "first"), _day(until, "last"))

    def read() -> tuple[Page, list[str], list[ledger.Checkpoint], ledger.Head]:
        with hub.engine.connect() as connection:
            return (
                ledger_browser.browse(connection, filters, before),
                ledger_browser.actions(connection),
                ledger.checkpoints(connection)[-10:][::-1],
                ledger.head(connection),
            )

    found, actions, checkpoints, head = await run_in_threadpool(read)
    verdict = None
    if verify:
        result = await run_in_threadpool(ledger.check, hub.engine, hub.signer.public_key())
        verdict = (result.ok, ledger_browser.in_words(result))
    query = {"actor": actor_, "action": action, "subject": subject, "since": since, "until": until}
    return page(
        request,
        "console/ledger.html",
        session,
        {
            "page": found,
            "actions": actions,
            "checkpoints": checkpoints,
            "head": head,
            "key_id": ledger.key_id(hub.signer.public_key()),
            "filters": query,
            "verdict": verdict,
        },
        current=PATH,
    )


def _export(hub: Hub, session: ConsoleSession, first: int, last: int) -> list[str]:
    with hub.engine.begin() as connection:
        lines = list(ledger_browser.export_lines(connection, first, last))
        who = f"operator:{session.operator}"
        operators.record(
            connection, hub.signer, who, "console.ledger_export", f"ledger:{first}-{last}"
        )
    return lines


@router.post(f"{PATH}/export")
async def export(
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(actor(*READERS))],
    first: Annotated[int, Form(ge=1)] = 1,
    last: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    """Entries `first` to `last` as a JSON-lines file, for an auditor's own tools."""
    if last < first:
        raise ConsoleRefused("The last entry must come after the first.", 400)
    lines = await run_in_threadpool(_export, hub, session, first, last)
    return StreamingResponse(
        iter(lines),
        media_type="application/jsonl",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="ledger-{first}-{last}.jsonl"',
        },
    )
