"""What the portal's pages share: templates, headers, cookies, the session and its CSRF token.

A page takes the signed-in person as a dependency: `PortalSession` (else back to the start)
or, for a posted form, `FormSession` (the same, and a refusal page when the CSRF token fails).

Cookies are Secure, HttpOnly and SameSite=Strict; responses are never cached, never framed and
send no Referer (a sign-in link must not leak to another site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from babel.dates import format_datetime
from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from goodthings.core.manifest import in_language
from goodthings.core.store import tables as t
from goodthings.portal import purpose_words, unit_words, value_words
from goodthings.portal.i18n import choose, translations
from goodthings.rights import signin
from goodthings.transparency.notices.render import duration_words
from goodthings.transparency.notices.render import translations as notice_translations
from goodthings.web.deps import HubDep, hub_of
from goodthings.web.ratelimit import RateLimiter
from goodthings.web.refusals import Redirected, Refused

SESSION_COOKIE = "gt_portal"
CSRF_COOKIE = "gt_csrf"
LANGUAGE_COOKIE = "gt_lang"
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


@cache
def templates_for(language: str) -> Jinja2Templates:
    """One template environment per language, its gettext installed once: a shared environment
    switched per request would mix languages between concurrent requests."""
    env = Environment(
        loader=FileSystemLoader(str(files("goodthings.web") / "templates")),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    portal, notices = translations(language), notice_translations(language)
    env.install_gettext_translations(portal, newstyle=True)  # type: ignore[attr-defined]

    def words(text: str | None) -> str:
        """Words that come from tables (levels, actions, DPV explanations): the portal's
        catalogue first, then the notices' (which has every DPV term), else as written."""
        if not text:
            return text or ""
        shown = portal.gettext(text)
        return shown if shown != text else notices.gettext(text)

    env.filters["words"] = words
    env.filters["unit"] = lambda unit: words(unit_words(unit))
    env.filters["purpose"] = lambda purpose: words(purpose_words(purpose))
    env.globals["value_words"] = lambda value, stream="", unit=None: value_words(
        value, stream, unit, language
    )
    env.globals["when"] = lambda moment, pattern="dd MMM y HH:mm:ss": format_datetime(
        moment, pattern, tzinfo=UTC, locale=language
    )
    env.filters["local"] = lambda text: in_language(text, language)
    env.globals["duration"] = lambda iso: duration_words(iso, language)
    env.globals["language"] = language
    return Jinja2Templates(env=env)


def language_of(request: Request) -> str:
    """The language a page is served in: `?lang=`, else the one chosen before, else the browser's."""
    return choose(
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )


def gettext_for(request: Request) -> Any:
    """The request's language's `gettext`, for words the Python code puts on a page."""
    return translations(language_of(request)).gettext


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    language = language_of(request)
    response = templates_for(language).TemplateResponse(
        request, name, {**context, "language": language}, status_code=status
    )
    response.headers.update(HEADERS)
    response.headers["Content-Language"] = language
    if request.query_params.get("lang") == language:
        set_cookie(response, LANGUAGE_COOKIE, language, 365 * 24 * 3600)
    return response


@dataclass(frozen=True)
class Session:
    """A signed-in person: whose session it is, and its token (the CSRF token derives from it)."""

    subject_id: str
    token: str


def _optional_session(request: Request, hub: HubDep) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with hub.engine.connect() as connection:
        subject_id = signin.session_subject(connection, token)
    return None if subject_id is None else Session(subject_id, token)


MaybeSession = Annotated[Session | None, Depends(_optional_session)]
"""The signed-in person, or None."""


async def _session(session: MaybeSession) -> Session:
    if session is None:
        raise Redirected("/portal", HEADERS)
    return session


PortalSession = Annotated[Session, Depends(_session)]
"""The signed-in person; without a session the browser goes back to the start."""


class FormRefused(Refused):
    """A posted form that is too old or came from another site: a page in the portal's look."""

    def __init__(self) -> None:
        super().__init__(403, "the form's CSRF token does not match the session")

    def answer(self, request: Request) -> Response:
        _ = gettext_for(request)
        return render(
            request,
            "portal/message.html",
            {
                "title": _("That did not work"),
                "message": _(
                    "The form was too old or came from somewhere else. Go back, reload "
                    "the page and try again."
                ),
            },
            status=403,
        )


async def _form_session(session: PortalSession, csrf: Annotated[str, Form()] = "") -> Session:
    if not signin.csrf_ok(session.token, csrf):
        raise FormRefused()
    return session


FormSession = Annotated[Session, Depends(_form_session)]
"""The person a posted form speaks for, its CSRF token checked."""


def to_start() -> RedirectResponse:
    return RedirectResponse("/portal", status_code=303, headers=HEADERS)


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/portal", secure=True, httponly=True, samesite="strict"
    )


def context_of(request: Request, session: Session, page: str) -> dict[str, Any]:
    """What every page of a signed-in person shows: who they are, the CSRF token, the tab."""
    with hub_of(request.app).engine.connect() as connection:
        person = (
            connection.execute(t.subjects.select().where(t.subjects.c.id == session.subject_id))
            .mappings()
            .one()
        )
    return {"person": person, "csrf": signin.csrf_token(session.token), "page": page}
