"""Signing in to the console: name and password, then a code from an authenticator app.

The first sign-in of a new or reset account asks for a password of the person's own and
enrols the app (its otpauth URI as a QR code), confirmed by one code. Failed passwords and
codes count against the account and the address (`security.lockout`); while either is locked
nothing is checked, so the right password and code are refused too. Each sign-in and sign-out
is in the ledger as `operator:NAME`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from goodthings.runtime import Hub
from goodthings.security import Busy, ConsoleSession, PasswordRefused, operators
from goodthings.security import console_sessions as sessions
from goodthings.security.lockout import Key, Scope, record_lockouts
from goodthings.web._portal_common import HEADERS
from goodthings.web.console_deps import EVERYONE, LOGIN, SESSION_COOKIE, MaybeConsoleSession, actor
from goodthings.web.deps import HubDep

router = APIRouter(include_in_schema=False)
CODE = "/console/login/code"
HOME = "/console"


def _page(request: Request, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, "console_login.html", {"error": None, **context}, status_code=status
    )
    response.headers.update(HEADERS)
    return response


def _keys(request: Request, name: str) -> list[Key]:
    address = request.client.host if request.client else "unknown"
    return [(Scope.address, address), (Scope.operator, name)]


def _locked(
    request: Request, hub: Hub, keys: list[Key], context: dict[str, Any]
) -> Response | None:
    wait = hub.lockout.retry_after(*keys)
    if not wait:
        return None
    seconds = max(1, math.ceil(wait))
    response = _page(
        request,
        {**context, "error": f"Too many failed sign-ins: try again in {seconds} seconds."},
        429,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def _failed(hub: Hub, keys: list[Key]) -> None:
    events = hub.lockout.failed(*keys)
    if events:
        with hub.engine.begin() as connection:
            record_lockouts(connection, events)


def _set_cookie(response: Response, session_id: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=True,  # as the portal: a proxy that ends TLS must not make it a plain cookie
    )


@router.get("/console/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _page(request, {"step": "password"})


@router.post("/console/login")
async def login(
    request: Request,
    hub: HubDep,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """The first step: name and password; a pending session until the code is given."""
    name = name.strip()
    context = {"step": "password", "name": name}
    keys = _keys(request, name)
    if (locked := _locked(request, hub, keys, context)) is not None:
        return locked

    def check() -> str | None:
        with hub.engine.begin() as connection:
            if not operators.check_sign_in(connection, hub.tokens.slots, name, password):
                return None
            return sessions.start(connection, name, sessions.PASSWORD_STAGE)

    try:
        session_id = await run_in_threadpool(check)
    except Busy as busy:
        return _page(request, {**context, "error": f"{busy}; try again shortly."}, 503)
    if session_id is None:
        await run_in_threadpool(_failed, hub, keys)
        return _page(request, {**context, "error": "That name and password do not match."}, 401)
    response = RedirectResponse(CODE, status_code=303, headers=HEADERS)
    _set_cookie(response, session_id, int(sessions.PASSWORD_STAGE_FOR.total_seconds()))
    return response


@router.get("/console/login/link/{link_id}")
def sign_in_link(
    request: Request, hub: HubDep, link_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """A one-time link in place of name and password (the demo prints one); the code is still
    asked for. A used, unknown or expired link goes to the ordinary sign-in page."""
    with hub.engine.begin() as connection:
        session_id = sessions.open_link(connection, link_id)
    if session_id is None:
        return RedirectResponse(LOGIN, status_code=303, headers=HEADERS)
    response = RedirectResponse(CODE, status_code=303, headers=HEADERS)
    _set_cookie(response, session_id, int(sessions.PASSWORD_STAGE_FOR.total_seconds()))
    return response


def _code_context(hub: Hub, session: ConsoleSession) -> dict[str, Any]:
    with hub.engine.begin() as connection:
        account = operators.find(connection, session.operator)
        assert account is not None  # a session's account exists: sessions go with it
        context: dict[str, Any] = {
            "step": "code",
            "csrf": session.csrf,
            "new_password": account.password_one_time,
            "enrol": not account.second_factor,
        }
        if not account.second_factor:
            secret = operators.enrolment_secret(connection, session.operator, hub.totp_key)
            uri = operators.otpauth_uri(session.operator, secret)
            context |= {"uri": uri, "secret": secret, "qr": segno.make(uri).svg_inline(scale=4)}
    return context


class _WrongCode(Exception):
    """The code was wrong or used: undo the step's transaction."""


def _pending(session: ConsoleSession | None) -> ConsoleSession | None:
    return session if session is not None and session.stage == sessions.PASSWORD_STAGE else None


@router.get("/console/login/code", response_class=HTMLResponse)
async def code_form(request: Request, hub: HubDep, session: MaybeConsoleSession) -> Response:
    pending = _pending(session)
    if pending is None:
        return RedirectResponse(LOGIN, status_code=303, headers=HEADERS)
    return _page(request, await run_in_threadpool(_code_context, hub, pending))


@router.post("/console/login/code")
async def code(
    request: Request,
    hub: HubDep,
    session: MaybeConsoleSession,
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    """The second step: a code (and, the first time, the person's own password)."""
    pending = _pending(session)
    if pending is None or not pending.csrf_ok(csrf):
        return RedirectResponse(LOGIN, status_code=303, headers=HEADERS)
    context = await run_in_threadpool(_code_context, hub, pending)
    keys = _keys(request, pending.operator)
    if (locked := _locked(request, hub, keys, context)) is not None:
        return locked

    def finish() -> str:
        with hub.engine.begin() as connection:
            if context["new_password"]:
                operators.set_password(connection, pending.operator, new_password)
            if not operators.use_code(connection, pending.operator, code, hub.totp_key):
                raise _WrongCode  # and the new password is not kept either
            sessions.end(connection, pending.session_id)
            started = sessions.start(connection, pending.operator, sessions.SIGNED_IN)
            actor_name = f"operator:{pending.operator}"
            operators.record(connection, hub.signer, actor_name, "console.sign_in", actor_name)
            return started

    try:
        session_id = await run_in_threadpool(finish)
    except PasswordRefused as refused:
        return _page(request, {**context, "error": f"Choose another password: {refused}"}, 400)
    except _WrongCode:
        await run_in_threadpool(_failed, hub, keys)
        return _page(request, {**context, "error": "That code is not right, or was used."}, 401)
    await run_in_threadpool(hub.lockout.succeeded, (Scope.operator, pending.operator))
    response = RedirectResponse(HOME, status_code=303, headers=HEADERS)
    _set_cookie(response, session_id, int(sessions.SIGNED_IN_FOR.total_seconds()))
    return response


@router.post("/console/logout")
async def logout(
    request: Request, hub: HubDep, session: Annotated[ConsoleSession, Depends(actor(*EVERYONE))]
) -> Response:
    def end() -> None:
        with hub.engine.begin() as connection:
            sessions.end(connection, session.session_id)
            who = f"operator:{session.operator}"
            operators.record(connection, hub.signer, who, "console.sign_out", who)

    await run_in_threadpool(end)
    response = RedirectResponse(LOGIN, status_code=303, headers=HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response
