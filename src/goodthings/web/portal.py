"""The people's portal: sign in with a link or code, see what is collected, choose, download,
erase, and see who used your data. Server-rendered; every form carries a CSRF token.

Cookies are Secure, HttpOnly and SameSite=Strict; responses are never cached, never framed and
send no Referer (a sign-in link must not leak to another site).
"""

from __future__ import annotations

import base64
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask

from goodthings import erasure, export
from goodthings.consent import service as consent
from goodthings.errors import GoodthingsError, PolicyError
from goodthings.hub import Hub
from goodthings.ledger import store as ledger
from goodthings.portal import activity, signin, view
from goodthings.portal.chart import sparkline
from goodthings.portal.choices import stop_everything
from goodthings.receipts import consent as receipts
from goodthings.store import tables as t
from goodthings.store import tables_portal as tp
from goodthings.web.ratelimit import RateLimiter

router = APIRouter(prefix="/portal", include_in_schema=False)
templates = Jinja2Templates(directory=str(files("goodthings.web") / "templates"))

SESSION_COOKIE = "gt_portal"
CSRF_COOKIE = "gt_csrf"
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
}
# Sign-in attempts per client address: a burst of 10, then one every 6 seconds.
_SIGN_IN_RATE, _SIGN_IN_BURST = 10 / 60, 10


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "portal_limiter", None)
    if limiter is None:
        limiter = request.app.state.portal_limiter = RateLimiter(_SIGN_IN_RATE, _SIGN_IN_BURST)
    assert isinstance(limiter, RateLimiter)
    return limiter


def _render(
    request: Request, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(_HEADERS)
    return response


def _session(request: Request) -> tuple[str, str] | None:
    """(subject id, session token) of a signed-in person, else None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with _hub(request).engine.connect() as connection:
        subject_id = signin.session_subject(connection, token)
    return None if subject_id is None else (subject_id, token)


def _to_start() -> RedirectResponse:
    return RedirectResponse("/portal", status_code=303, headers=_HEADERS)


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/portal", secure=True, httponly=True, samesite="strict"
    )


def _person(request: Request, subject_id: str) -> Any:
    with _hub(request).engine.connect() as connection:
        return (
            connection.execute(t.subjects.select().where(t.subjects.c.id == subject_id))
            .mappings()
            .one()
        )


def _common(request: Request, subject_id: str, token: str, page: str) -> dict[str, Any]:
    return {
        "person": _person(request, subject_id),
        "csrf": signin.csrf_token(token),
        "page": page,
    }


def _checked(token: str, presented: str) -> bool:
    return signin.csrf_ok(token, presented)


def _forbidden(request: Request) -> HTMLResponse:
    return _render(
        request,
        "portal/message.html",
        {
            "title": "That did not work",
            "message": "The form was too old or came from somewhere else. Go back, reload the "
            "page and try again.",
        },
        status=403,
    )


def _record(request: Request, subject_id: str, action: str, **counts: int) -> None:
    hub = _hub(request)
    with hub.engine.begin() as connection:
        ledger.append(
            connection,
            hub.signer,
            actor=f"subject:{subject_id}",
            action=action,
            target=f"subject:{subject_id}",
            counts=counts,
        )


# --- signing in -------------------------------------------------------------------------------


def _sign_in_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = _render(request, "portal/sign_in.html", {"csrf": csrf, "error": error}, status)
    _set_cookie(response, CSRF_COOKIE, csrf, 3600)
    return response


@router.get("", response_class=HTMLResponse)
def start(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _sign_in_page(request)
    subject_id, token = session
    hub = _hub(request)
    with hub.engine.connect() as connection:
        streams = view.streams_about(connection, hub.keyring, subject_id)
    context = _common(request, subject_id, token, "collected")
    context.update(
        streams=streams,
        chart_for=lambda s: sparkline(s.latest, s.description or s.name, s.unit),
        inferences=view.inferences(streams),
        level_words=view.level_words,
        saved=request.query_params.get("saved"),
    )
    return _render(request, "portal/collected.html", context)


@router.get("/sign-in/{link}", response_class=HTMLResponse)
def confirm_link(request: Request, link: str) -> HTMLResponse:
    """A page with one button: link scanners that follow the link do not use it up."""
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = _render(request, "portal/confirm.html", {"csrf": csrf, "link": link})
    _set_cookie(response, CSRF_COOKIE, csrf, 3600)
    return response


def _sign_in(request: Request, csrf: str, *, link: str | None, code: str | None) -> Response:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf):
        return _sign_in_page(
            request, "Your browser did not send the sign-in form back as expected. Try again.", 403
        )
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request).allow(client)
    if wait:
        response = _sign_in_page(
            request,
            f"Too many tries. Please wait {int(wait) + 1} seconds, then try again.",
            429,
        )
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    hub = _hub(request)
    settings = hub.home.settings
    try:
        with hub.engine.begin() as connection:
            subject_id = signin.redeem(connection, link=link, code=code)
            token = signin.start_session(
                connection, subject_id, timedelta(hours=settings.portal_session_hours)
            )
            ledger.append(
                connection,
                hub.signer,
                actor=f"subject:{subject_id}",
                action="portal.sign_in",
                target=f"subject:{subject_id}",
                counts={"by_link" if link else "by_code": 1},
            )
    except signin.SignInError as exc:
        return _sign_in_page(request, str(exc), 400)
    response = RedirectResponse("/portal", status_code=303, headers=_HEADERS)
    _set_cookie(response, SESSION_COOKIE, token, int(settings.portal_session_hours * 3600))
    response.delete_cookie(CSRF_COOKIE, path="/portal")
    return response


@router.post("/sign-in/{link}")
def use_link(request: Request, link: str, csrf: Annotated[str, Form()] = "") -> Response:
    return _sign_in(request, csrf, link=link, code=None)


@router.post("/sign-in")
def use_code(
    request: Request, code: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    return _sign_in(request, csrf, link=None, code=code)


@router.post("/sign-out")
def sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    if not _checked(token, csrf):
        return _forbidden(request)
    with _hub(request).engine.begin() as connection:
        signin.end_sessions(connection, token=token)
    _record(request, subject_id, "portal.sign_out")
    response = _to_start()
    response.delete_cookie(SESSION_COOKIE, path="/portal")
    return response


# --- choices ----------------------------------------------------------------------------------


@router.post("/choices")
def change_choice(
    request: Request,
    stream: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
    level: Annotated[str, Form()] = "off",
    recipient: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    if not _checked(token, csrf):
        return _forbidden(request)
    hub = _hub(request)
    on = level not in {"off", ""}
    change = consent.ConsentChange(
        subject_id,
        stream,
        purpose,
        recipient or None,
        level if on and not recipient else "exact",
        method="portal",
    )
    try:
        (consent.give if on else consent.withdraw)(hub.engine, hub.signer, change)
    except PolicyError as exc:
        return _render(
            request,
            "portal/message.html",
            {"title": "That choice cannot be made", "message": str(exc)},
            status=422,
        )
    hub.pipeline.refresh()
    return RedirectResponse(
        f"/portal?saved={stream}#stream-{stream.replace('/', '-')}", status_code=303
    )


@router.post("/stop")
def stop(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    if not _checked(token, csrf):
        return _forbidden(request)
    hub = _hub(request)
    stop_everything(hub.engine, hub.signer, subject_id, method="portal")
    hub.pipeline.refresh()
    return RedirectResponse("/portal?saved=everything", status_code=303)


@router.get("/history", response_class=HTMLResponse)
def history(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    with _hub(request).engine.connect() as connection:
        records = list(reversed(consent.history(connection, subject_id)))
    context = _common(request, subject_id, token, "history")
    context.update(records=records, level_words=view.level_words)
    return _render(request, "portal/history.html", context)


@router.get("/receipts/{receipt_id}.json")
def receipt(request: Request, receipt_id: str) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, _ = session
    with _hub(request).engine.connect() as connection:
        document = receipts.document(connection, subject_id, receipt_id)
    if document is None:
        return _render(
            request,
            "portal/message.html",
            {"title": "No such receipt", "message": "This receipt is not one of yours."},
            status=404,
        )
    return Response(
        document,
        media_type="application/json",
        headers={
            **_HEADERS,
            "Content-Disposition": f'attachment; filename="receipt-{receipt_id}.json"',
        },
    )


@router.get("/activity", response_class=HTMLResponse)
def who_used(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    with _hub(request).engine.connect() as connection:
        entries = activity.activity(connection, subject_id)
    context = _common(request, subject_id, token, "activity")
    context.update(entries=entries)
    return _render(request, "portal/activity.html", context)


# --- export -----------------------------------------------------------------------------------


def _recipient_of(request: Request, subject_id: str) -> str | None:
    with _hub(request).engine.connect() as connection:
        found = (
            connection.execute(
                tp.subject_recipients.select().where(
                    tp.subject_recipients.c.subject_id == subject_id
                )
            )
            .mappings()
            .first()
        )
    return None if found is None else str(found["age_recipient"])


@router.get("/export", response_class=HTMLResponse)
def export_page(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    context = _common(request, subject_id, token, "export")
    context.update(recipient=_recipient_of(request, subject_id), error=None)
    return _render(request, "portal/export.html", context)


@router.post("/recipient")
def register_recipient(
    request: Request, age_key: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    if not _checked(token, csrf):
        return _forbidden(request)
    hub = _hub(request)
    key = age_key.strip()
    if key:
        try:
            export.parse_recipient(key)
        except export.ExportError as exc:
            context = _common(request, subject_id, token, "export")
            context.update(recipient=_recipient_of(request, subject_id), error=str(exc))
            return _render(request, "portal/export.html", context, status=422)
    with hub.engine.begin() as connection:
        connection.execute(
            tp.subject_recipients.delete().where(tp.subject_recipients.c.subject_id == subject_id)
        )
        if key:
            connection.execute(
                tp.subject_recipients.insert().values(
                    subject_id=subject_id, age_recipient=key, created_at=datetime.now(UTC)
                )
            )
        ledger.append(
            connection,
            hub.signer,
            actor=f"subject:{subject_id}",
            action="portal.recipient",
            target=f"subject:{subject_id}",
            counts={"registered": int(bool(key))},
        )
    return RedirectResponse("/portal/export", status_code=303)


@router.post("/export")
def download(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    if not _checked(token, csrf):
        return _forbidden(request)
    hub = _hub(request)
    recipient = _recipient_of(request, subject_id)
    actor = f"subject:{subject_id}"
    headers = {**_HEADERS}
    if recipient is not None:
        # age needs a readable stream; spool to a private temporary file (disk, not memory).
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the background task)
        export.export_subject(
            hub.engine, hub.keyring, hub.signer, subject_id, spool, recipient=recipient, actor=actor
        )
        spool.seek(0)
        headers["Content-Disposition"] = 'attachment; filename="my-data.zip.age"'
        return StreamingResponse(
            _file_chunks(spool),
            media_type="application/octet-stream",
            headers=headers,
            background=BackgroundTask(spool.close),
        )
    counter = export.service.ExportCount()

    def chunks() -> Iterator[bytes]:
        yield from export.iter_export(hub.engine, hub.keyring, subject_id, count=counter)
        export.service.record_export(
            hub.engine, hub.signer, subject_id, counter.readings, actor=actor, encrypted=False
        )

    headers["Content-Disposition"] = 'attachment; filename="my-data.zip"'
    return StreamingResponse(chunks(), media_type="application/zip", headers=headers)


def _file_chunks(handle: Any) -> Iterator[bytes]:
    while chunk := handle.read(65536):
        yield chunk


# --- erasure ----------------------------------------------------------------------------------


@router.get("/erase", response_class=HTMLResponse)
def erase_page(request: Request) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    context = _common(request, subject_id, token, "erase")
    context.update(days=_hub(request).home.settings.erasure_days)
    return _render(request, "portal/erase.html", context)


@router.post("/erase")
def erase(
    request: Request, confirm: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    session = _session(request)
    if session is None:
        return _to_start()
    subject_id, token = session
    if not _checked(token, csrf):
        return _forbidden(request)
    hub = _hub(request)
    if confirm != "yes":
        context = _common(request, subject_id, token, "erase")
        context.update(days=hub.home.settings.erasure_days, error="Tick the box to confirm.")
        return _render(request, "portal/erase.html", context, status=422)
    settings = hub.home.settings
    if settings.erasure_review:
        erasure.request_erasure(
            hub.engine,
            hub.signer,
            subject_id,
            method="portal",
            days=settings.erasure_days,
            keep_aggregates=settings.erasure_keep_aggregates,
        )
        deadline = datetime.now(UTC) + timedelta(days=settings.erasure_days)
        return _render(
            request,
            "portal/message.html",
            {
                "title": "Your request is recorded",
                "message": "The operator has to check first whether the law requires them to "
                f"keep anything. They must erase your data by {deadline:%d %B %Y} at the latest, "
                "and you will get a signed receipt.",
            },
        )
    try:
        outcome = erasure.erase_subject(
            hub.engine,
            hub.keyring,
            hub.signer,
            subject_id,
            method="portal",
            days=settings.erasure_days,
            keep_aggregates=settings.erasure_keep_aggregates,
            after_withdrawal=hub.pipeline.refresh,
        )
    except GoodthingsError as exc:
        return _render(
            request,
            "portal/message.html",
            {"title": "Erasure could not finish", "message": str(exc)},
            status=500,
        )
    hub.pipeline.refresh()
    encoded = base64.b64encode(outcome.receipt.encode()).decode()
    response = _render(
        request,
        "portal/erased.html",
        {"outcome": outcome, "receipt_url": f"data:application/json;base64,{encoded}"},
    )
    response.delete_cookie(SESSION_COOKIE, path="/portal")
    return response
