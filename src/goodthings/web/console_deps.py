"""Who is using the console, handed to a route by FastAPI: a signed-in person of the right role.

A page declares its roles once (`Depends(viewer(Role.operator, Role.auditor))`); a posted form
uses `actor(...)` instead, which also checks the form's CSRF token. The shared operator token
opens none of this: it is for scripts (the API, /metrics), never for the pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from goodthings.security import ConsoleSession, Role
from goodthings.security.console_sessions import SIGNED_IN
from goodthings.security.console_sessions import find as find_session
from goodthings.web._portal_common import HEADERS
from goodthings.web.deps import HubDep
from goodthings.web.refusals import Redirected, Refused

SESSION_COOKIE = "gt_console"
LOGIN = "/console/login"


def session_of(request: Request, hub: HubDep) -> ConsoleSession | None:
    """The console session the request's cookie names, at any stage, or None."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    with hub.engine.connect() as connection:
        return find_session(connection, session_id)


MaybeConsoleSession = Annotated[ConsoleSession | None, Depends(session_of)]


async def _signed_in(session: MaybeConsoleSession) -> ConsoleSession:
    if session is None or session.stage != SIGNED_IN:
        raise Redirected(LOGIN)
    return session


SignedIn = Annotated[ConsoleSession, Depends(_signed_in)]
"""A person who has given password and code; anyone else goes to the sign-in page."""


class ConsoleRefused(Refused):
    """A signed-in person asking for what their role, or their form, does not allow: a page
    saying so, with status 403 (or 404 for what does not exist, 409 for what cannot be done)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(status, message)

    def answer(self, request: Request) -> Response:
        response: Response = request.app.state.templates.TemplateResponse(
            request,
            "console_refused.html",
            {"message": self.message, "status": self.status},
            status_code=self.status,
        )
        response.headers.update(HEADERS)
        return response


def _allowed(session: ConsoleSession, roles: tuple[Role, ...]) -> ConsoleSession:
    if session.role not in roles:
        raise ConsoleRefused(
            f"Signed in as {session.operator} ({session.role.value}): this needs the role "
            f"{' or '.join(role.value for role in roles)}."
        )
    return session


def viewer(*roles: Role) -> Callable[[ConsoleSession], Awaitable[ConsoleSession]]:
    """A page's dependency: the signed-in person, if their role is one of `roles` (else 403)."""

    async def dependency(session: SignedIn) -> ConsoleSession:
        return _allowed(session, roles)

    return dependency


def actor(*roles: Role) -> Callable[[ConsoleSession, str], Awaitable[ConsoleSession]]:
    """A posted form's dependency: as `viewer`, and the form's CSRF token must match (else 403)."""

    async def dependency(session: SignedIn, csrf: Annotated[str, Form()] = "") -> ConsoleSession:
        _allowed(session, roles)
        if not session.csrf_ok(csrf):
            raise ConsoleRefused(
                "The form was too old or came from somewhere else: reload the page and try again."
            )
        return session

    return dependency


EVERYONE = (Role.operator, Role.dpo, Role.auditor)
"""Every role: for read-only pages each of them may see."""
