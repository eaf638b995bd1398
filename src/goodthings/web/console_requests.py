"""People's requests with their legal deadlines, for the data protection officer: the register,
recording a request that came by letter or email, answering it, extending a deadline with a
reason. Each change is in the ledger as `operator:NAME`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from goodthings.console import requests as register
from goodthings.console.requests import Kind, RequestError
from goodthings.console.requests import Request as SubjectRequest
from goodthings.runtime import Hub
from goodthings.security import ConsoleSession, Role, operators
from goodthings.web._portal_common import HEADERS
from goodthings.web.console_deps import actor, viewer
from goodthings.web.console_frame import page
from goodthings.web.deps import HubDep

router = APIRouter(include_in_schema=False)
PATH = "/console/requests"
CHANNELS = ("letter", "email", "phone", "in person")
Change = Callable[[Connection], str]
"""A change to the register in a transaction; returns the request's reference."""


def _listed(hub: Hub) -> list[SubjectRequest]:
    with hub.engine.connect() as connection:
        return register.all_requests(connection)


async def _register_page(
    request: Request,
    hub: Hub,
    session: ConsoleSession,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    listed = await run_in_threadpool(_listed, hub)
    return page(
        request,
        "console/requests.html",
        session,
        {
            "requests": listed,
            "now": datetime.now(UTC),
            "kinds": list(Kind),
            "channels": CHANNELS,
            "today": datetime.now(UTC).date().isoformat(),
            "error": error,
        },
        status=status,
        current=PATH,
    )


@router.get(PATH, response_class=HTMLResponse)
async def requests_page(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(viewer(Role.dpo))],
) -> HTMLResponse:
    return await _register_page(request, hub, session)


def _change(hub: Hub, session: ConsoleSession, action: str, change: Change) -> None:
    """Run `change(connection) -> reference` and record `action` in the same transaction."""
    with hub.engine.begin() as connection:
        reference = change(connection)
        who = f"operator:{session.operator}"
        operators.record(connection, hub.signer, who, action, f"request:{reference}")


async def _done(
    request: Request, hub: Hub, session: ConsoleSession, action: str, change: Change
) -> Response:
    try:
        await run_in_threadpool(_change, hub, session, action, change)
    except RequestError as exc:
        return await _register_page(request, hub, session, str(exc), 400)
    return RedirectResponse(PATH, status_code=303, headers=HEADERS)


@router.post(f"{PATH}/record")
async def record(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(actor(Role.dpo))],
    kind: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    received: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        chosen = Kind(kind)
        day = date.fromisoformat(received) if received else datetime.now(UTC).date()
    except ValueError:
        return await _register_page(
            request, hub, session, "Choose what was asked for and give the day it arrived.", 400
        )
    if channel not in CHANNELS:
        return await _register_page(request, hub, session, "Choose how the request came.", 400)
    moment = datetime.combine(day, time(), UTC)
    return await _done(
        request,
        hub,
        session,
        "console.request_record",
        lambda c: register.record(c, chosen, subject, moment, channel, note, session.operator),
    )


@router.post(f"{PATH}/answer")
async def answer(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(actor(Role.dpo))],
    reference: Annotated[str, Form()] = "",
    sent: Annotated[str, Form()] = "",
) -> Response:
    def change(connection: Connection) -> str:
        register.answer(connection, reference, sent)
        return reference

    return await _done(request, hub, session, "console.request_answer", change)


@router.post(f"{PATH}/extend")
async def extend(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(actor(Role.dpo))],
    reference: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    def change(connection: Connection) -> str:
        register.extend(connection, reference, reason, session.operator)
        return reference

    return await _done(request, hub, session, "console.request_extend", change)
