"""What the portal's pages share: templates, headers, cookies, the session and its CSRF token.

Cookies are Secure, HttpOnly and SameSite=Strict; responses are never cached, never framed and
send no Referer (a sign-in link must not leak to another site).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from goodthings.core import ledger
from goodthings.core.store import tables as t
from goodthings.rights import signin
from goodthings.runtime.hub import Hub
from goodthings.web.ratelimit import RateLimiter

templates = Jinja2Templates(directory=str(files("goodthings.web") / "templates"))

SESSION_COOKIE = "gt_portal"
CSRF_COOKIE = "gt_csrf"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}
# Sign-in attempts per client address: a burst of 10, then one every 6 seconds.
_SIGN_IN_RATE, _SIGN_IN_BURST = 10 / 60, 10
# Everyone together: two attempts a second on average, 60 at once.
_ALL_RATE, _ALL_BURST = 2.0, 60


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


class SignInLimiter:
    """Per client address, and for everyone together: many addresses guessing codes at once
    are slowed down too (at the cost of slowing real sign-ins while that goes on)."""

    def __init__(self) -> None:
        self._each = RateLimiter(_SIGN_IN_RATE, _SIGN_IN_BURST)
        self._all = RateLimiter(_ALL_RATE, _ALL_BURST)

    def allow(self, client: str) -> float:
        """0 when this attempt may go ahead, else the seconds to wait."""
        return self._each.allow(client) or self._all.allow("*")


def limiter_of(request: Request) -> SignInLimiter:
    limiter = getattr(request.app.state, "portal_limiter", None)
    if limiter is None:
        limiter = request.app.state.portal_limiter = SignInLimiter()
    assert isinstance(limiter, SignInLimiter)
    return limiter


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(HEADERS)
    return response


def session_of(request: Request) -> tuple[str, str] | None:
    """(subject id, session token) of a signed-in person, else None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with hub_of(request).engine.connect() as connection:
        subject_id = signin.session_subject(connection, token)
    return None if subject_id is None else (subject_id, token)


def to_start() -> RedirectResponse:
    return RedirectResponse("/portal", status_code=303, headers=HEADERS)


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/portal", secure=True, httponly=True, samesite="strict"
    )


def person_of(request: Request, subject_id: str) -> Any:
    with hub_of(request).engine.connect() as connection:
        return (
            connection.execute(t.subjects.select().where(t.subjects.c.id == subject_id))
            .mappings()
            .one()
        )


def context_of(request: Request, subject_id: str, token: str, page: str) -> dict[str, Any]:
    return {
        "person": person_of(request, subject_id),
        "csrf": signin.csrf_token(token),
        "page": page,
    }


def csrf_checked(token: str, presented: str) -> bool:
    return signin.csrf_ok(token, presented)


def form_session(request: Request, csrf: str) -> tuple[str, str] | Response:
    """(subject id, session token) of the person a posted form speaks for, or the answer to
    send instead: back to the start without a session, a refusal when the CSRF token fails."""
    session = session_of(request)
    if session is None:
        return to_start()
    if not csrf_checked(session[1], csrf):
        return forbidden(request)
    return session


def forbidden(request: Request) -> HTMLResponse:
    return render(
        request,
        "portal/message.html",
        {
            "title": "That did not work",
            "message": "The form was too old or came from somewhere else. Go back, reload the "
            "page and try again.",
        },
        status=403,
    )


def record(request: Request, subject_id: str, action: str, **counts: int) -> None:
    hub = hub_of(request)
    with hub.engine.begin() as connection:
        ledger.append(
            connection,
            hub.signer,
            actor=f"subject:{subject_id}",
            action=action,
            target=f"subject:{subject_id}",
            counts=counts,
        )
