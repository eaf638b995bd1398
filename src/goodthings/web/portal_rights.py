"""The portal's rights pages: download your data (optionally encrypted) and erase it."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import held
from goodthings.core.store import tables_portal as tp
from goodthings.rights import erasure, export
from goodthings.web._portal_common import (
    HEADERS,
    SESSION_COOKIE,
    context_of,
    form_session,
    hub_of,
    render,
    session_of,
    to_start,
)

router = APIRouter()

# --- export -----------------------------------------------------------------------------------


def _recipient_of(request: Request, subject_id: str) -> str | None:
    with hub_of(request).engine.connect() as connection:
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
    session = session_of(request)
    if session is None:
        return to_start()
    subject_id, token = session
    return _export_page(request, subject_id, token)


@router.post("/hold-key")
def hold_key(
    request: Request, confirm: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    session = form_session(request, csrf)
    if isinstance(session, Response):
        return session
    subject_id, token = session
    hub = hub_of(request)
    recipient = _recipient_of(request, subject_id)
    if confirm != "yes" or recipient is None:
        return _export_page(
            request,
            subject_id,
            token,
            error="Save your age key first, then tick the box to confirm.",
        )
    try:
        held.hold_own_key(hub.engine, hub.keyring, hub.signer, subject_id, recipient)
    except held.HeldKeyError as exc:
        return _export_page(request, subject_id, token, error=str(exc), held=True)
    hub.pipeline.refresh()
    return RedirectResponse("/portal/export", status_code=303)


@router.post("/recipient")
def register_recipient(
    request: Request, age_key: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    session = form_session(request, csrf)
    if isinstance(session, Response):
        return session
    subject_id, token = session
    hub = hub_of(request)
    key = age_key.strip()
    if key:
        try:
            export.parse_recipient(key)
        except export.ExportError as exc:
            return _export_page(request, subject_id, token, error=str(exc))
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
    session = form_session(request, csrf)
    if isinstance(session, Response):
        return session
    subject_id = session[0]
    hub = hub_of(request)
    recipient = _recipient_of(request, subject_id)
    actor = f"subject:{subject_id}"
    headers = {**HEADERS}
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
    counter = export.archive.ExportCount()

    def chunks() -> Iterator[bytes]:
        yield from export.iter_export(hub.engine, hub.keyring, subject_id, count=counter)
        export.archive.record_export(
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
    session = session_of(request)
    if session is None:
        return to_start()
    subject_id, token = session
    context = context_of(request, subject_id, token, "erase")
    context.update(days=hub_of(request).home.settings.erasure_days)
    return render(request, "portal/erase.html", context)


@router.post("/erase")
def erase(
    request: Request, confirm: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    session = form_session(request, csrf)
    if isinstance(session, Response):
        return session
    subject_id, token = session
    hub = hub_of(request)
    if confirm != "yes":
        context = context_of(request, subject_id, token, "erase")
        context.update(days=hub.home.settings.erasure_days, error="Tick the box to confirm.")
        return render(request, "portal/erase.html", context, status=422)
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
        return render(
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
        return render(
            request,
            "portal/message.html",
            {"title": "Erasure could not finish", "message": str(exc)},
            status=500,
        )
    hub.pipeline.refresh()
    encoded = base64.b64encode(outcome.receipt.encode()).decode()
    response = render(
        request,
        "portal/erased.html",
        {"outcome": outcome, "receipt_url": f"data:application/json;base64,{encoded}"},
    )
    response.delete_cookie(SESSION_COOKIE, path="/portal")
    return response


def _export_page(
    request: Request,
    subject_id: str,
    token: str,
    *,
    error: str | None = None,
    held: bool | None = None,
) -> Response:
    """The download page, with what went wrong (422) when a form on it failed."""
    context = context_of(request, subject_id, token, "export")
    context.update(
        recipient=_recipient_of(request, subject_id),
        held=hub_of(request).keyring.holds_own_key(subject_id) if held is None else held,
        error=error,
    )
    return render(request, "portal/export.html", context, status=422 if error else 200)
