"""The people's portal: sign in with a link or code, see what is collected, choose, and see
who used your data. Server-rendered; every form carries a CSRF token. Download and erasure are
in `portal_rights`.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from goodthings.core.errors import PolicyError
from goodthings.portal import activity, sparkline, view
from goodthings.rights import objections, signin
from goodthings.rights.consent import records as consent
from goodthings.rights.consent import stop_everything
from goodthings.rights.own_reads import record_own_read
from goodthings.rights.receipts import consent as receipts
from goodthings.web import portal_rights
from goodthings.web._portal_common import (
    CSRF_COOKIE,
    HEADERS,
    SESSION_COOKIE,
    FormSession,
    MaybeSession,
    PortalSession,
    context_of,
    gettext_for,
    language_of,
    limiter_of,
    render,
    set_cookie,
    to_start,
)
from goodthings.web.deps import HubDep

router = APIRouter(prefix="/portal", include_in_schema=False)

# --- signing in -------------------------------------------------------------------------------


def _sign_in_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "portal/sign_in.html", {"csrf": csrf, "error": error}, status)
    set_cookie(response, CSRF_COOKIE, csrf, 3600)
    return response


@router.get("", response_class=HTMLResponse)
def start(request: Request, hub: HubDep, session: MaybeSession) -> Response:
    if session is None:
        return _sign_in_page(request)
    with hub.engine.connect() as connection, hub.read_engine().connect() as rows:
        streams = view.streams_about(
            connection, hub.keyring, session.subject_id, language_of(request), rows
        )
        operator = view.responsible(connection)
        cut_off = view.cut_off(connection, streams)
    shown = sum(len(stream.latest) for stream in streams)
    if shown:
        record_own_read(hub.engine, hub.signer, session.subject_id, shown)
    context = context_of(request, session, "collected")
    context.update(
        streams=streams,
        chart_for=lambda s: sparkline(
            s.latest, s.description or s.name, s.unit, s.name, language_of(request)
        ),
        inferences=view.inferences(streams),
        cut_off=cut_off,
        operator=operator,
        level_words=view.level_words,
        saved=request.query_params.get("saved"),
    )
    return render(request, "portal/collected.html", context)


@router.get("/sign-in/{link}", response_class=HTMLResponse)
def confirm_link(request: Request, link: str) -> HTMLResponse:
    """A page with one button: link scanners that follow the link do not use it up."""
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "portal/confirm.html", {"csrf": csrf, "link": link})
    set_cookie(response, CSRF_COOKIE, csrf, 3600)
    return response


def _sign_in(
    request: Request, hub: HubDep, csrf: str, *, link: str | None, code: str | None
) -> Response:
    _ = gettext_for(request)
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf):
        return _sign_in_page(
            request,
            _("Your browser did not send the sign-in form back as expected. Try again."),
            403,
        )
    client = request.client.host if request.client else "unknown"
    wait = limiter_of(request).allow(client)
    if wait:
        response = _sign_in_page(
            request,
            _("Too many tries. Please wait %(seconds)d seconds, then try again.")
            % {"seconds": int(wait) + 1},
            429,
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    settings = hub.home.settings
    try:
        _subject, token = signin.sign_in(
            hub.engine,
            hub.signer,
            link=link,
            code=code,
            valid_for=timedelta(hours=settings.portal_session_hours),
        )
    except signin.SignInError as exc:
        return _sign_in_page(request, str(exc), 400)
    response = RedirectResponse("/portal", status_code=303, headers=HEADERS)
    set_cookie(response, SESSION_COOKIE, token, int(settings.portal_session_hours * 3600))
    response.delete_cookie(CSRF_COOKIE, path="/portal")
    return response


@router.post("/sign-in/{link}")
def use_link(
    request: Request, hub: HubDep, link: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    return _sign_in(request, hub, csrf, link=link, code=None)


@router.post("/sign-in")
def use_code(
    request: Request,
    hub: HubDep,
    code: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    return _sign_in(request, hub, csrf, link=None, code=code)


@router.post("/sign-out")
def sign_out(hub: HubDep, session: FormSession) -> Response:
    signin.sign_out(hub.engine, hub.signer, session.subject_id, session.token)
    response = to_start()
    response.delete_cookie(SESSION_COOKIE, path="/portal")
    return response


# --- choices ----------------------------------------------------------------------------------


@router.post("/choices")
def change_choice(
    request: Request,
    hub: HubDep,
    session: FormSession,
    stream: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
    level: Annotated[str, Form()] = "off",
    recipient: Annotated[str, Form()] = "",
) -> Response:
    _ = gettext_for(request)
    on = level not in {"off", ""}
    change = consent.ConsentChange(
        session.subject_id,
        stream,
        purpose,
        recipient or None,
        level if on and not recipient else "exact",
        method="portal",
        manage_at=f"{hub.home.settings.public_url.rstrip('/')}/portal",
    )
    try:
        (consent.give if on else consent.withdraw)(hub.engine, hub.signer, change)
    except PolicyError as exc:
        return render(
            request,
            "portal/message.html",
            {"title": _("That choice cannot be made"), "message": str(exc)},
            status=422,
        )
    return RedirectResponse(
        f"/portal?saved={stream}#stream-{stream.replace('/', '-')}", status_code=303
    )


@router.post("/objections")
def object_to_automation(
    request: Request,
    hub: HubDep,
    session: FormSession,
    stream: Annotated[str, Form()],
    withdraw: Annotated[str, Form()] = "",
) -> Response:
    _ = gettext_for(request)
    try:
        objections.record(
            hub.engine,
            hub.signer,
            session.subject_id,
            stream,
            withdraw=withdraw == "yes",
            method="portal",
        )
    except PolicyError as exc:
        return render(
            request,
            "portal/message.html",
            {"title": _("That objection cannot be recorded"), "message": str(exc)},
            status=422,
        )
    return RedirectResponse(
        f"/portal?saved={stream}#stream-{stream.replace('/', '-')}", status_code=303
    )


@router.post("/stop")
def stop(hub: HubDep, session: FormSession) -> Response:
    stop_everything(hub.engine, hub.signer, session.subject_id, method="portal")
    return RedirectResponse("/portal?saved=everything", status_code=303)


@router.get("/history", response_class=HTMLResponse)
def history(request: Request, hub: HubDep, session: PortalSession) -> Response:
    with hub.engine.connect() as connection:
        records = list(reversed(consent.history(connection, session.subject_id)))
        describe = view.describe_choice(connection, language_of(request))
    context = context_of(request, session, "history")
    context.update(records=records, level_words=view.level_words, describe=describe)
    return render(request, "portal/history.html", context)


@router.get("/receipts/{receipt_id}.json")
def receipt(request: Request, hub: HubDep, session: PortalSession, receipt_id: str) -> Response:
    _ = gettext_for(request)
    with hub.engine.connect() as connection:
        document = receipts.document(connection, session.subject_id, receipt_id)
    if document is None:
        return render(
            request,
            "portal/message.html",
            {
                "title": _("No such receipt"),
                "message": _("This receipt is not one of yours."),
            },
            status=404,
        )
    return Response(
        document,
        media_type="application/json",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="receipt-{receipt_id}.json"',
        },
    )


@router.get("/activity", response_class=HTMLResponse)
def who_used(
    request: Request, hub: HubDep, session: PortalSession, week: Annotated[int, Query(ge=0)] = 0
) -> Response:
    with hub.engine.connect() as connection:
        shown = activity.week(connection, session.subject_id, week, language=language_of(request))
    context = context_of(request, session, "activity")
    context.update(week=shown, weeks_back=week)
    return render(request, "portal/activity.html", context)


router.include_router(portal_rights.router)
