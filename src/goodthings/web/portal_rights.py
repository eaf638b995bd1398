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

from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import held
from goodthings.rights import erasure, export, own_key
from goodthings.web._portal_common import (
    HEADERS,
    SESSION_COOKIE,
    FormSession,
    PortalSession,
    Session,
    context_of,
    gettext_for,
    render,
)
from goodthings.web.deps import HubDep, hub_of

router = APIRouter()

# --- export -----------------------------------------------------------------------------------


def _recipient_of(request: Request, subject_id: str) -> str | None:
    with hub_of(request.app).engine.connect() as connection:
        return own_key.recipient_of(connection, subject_id)


@router.get("/export", response_class=HTMLResponse)
def export_page(request: Request, session: PortalSession) -> Response:
    return _export_page(request, session)


@router.post("/hold-key")
def hold_key(
    request: Request, hub: HubDep, session: FormSession, confirm: Annotated[str, Form()] = ""
) -> Response:
    recipient = _recipient_of(request, session.subject_id)
    if confirm != "yes" or recipient is None:
        return _export_page(
            request, session, error="Save your age key first, then tick the box to confirm."
        )
    try:
        own_key.take_own_key(hub.engine, hub.keyring, hub.signer, session.subject_id, recipient)
    except held.HeldKeyError as exc:
        return _export_page(request, session, error=str(exc), held=True)
    return RedirectResponse("/portal/export", status_code=303)


@router.post("/recipient")
def register_recipient(
    request: Request, hub: HubDep, session: FormSession, age_key: Annotated[str, Form()] = ""
) -> Response:
    try:
        own_key.register_recipient(hub.engine, hub.signer, session.subject_id, age_key)
    except export.ExportError as exc:
        return _export_page(request, session, error=str(exc))
    return RedirectResponse("/portal/export", status_code=303)


@router.post("/export")
def download(request: Request, hub: HubDep, session: FormSession) -> Response:
    subject_id = session.subject_id
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
def erase_page(request: Request, hub: HubDep, session: PortalSession) -> Response:
    context = context_of(request, session, "erase")
    context.update(days=hub.home.settings.erasure_days)
    return render(request, "portal/erase.html", context)


@router.post("/erase")
def erase(
    request: Request, hub: HubDep, session: FormSession, confirm: Annotated[str, Form()] = ""
) -> Response:
    _ = gettext_for(request)
    subject_id = session.subject_id
    if confirm != "yes":
        context = context_of(request, session, "erase")
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
                "title": _("Your request is recorded"),
                "message": _(
                    "The operator has to check first whether the law requires them to keep "
                    "anything. They must erase your data by %(deadline)s at the latest, and you "
                    "will get a signed receipt."
                )
                % {"deadline": f"{deadline:%d/%m/%Y}"},
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
        )
    except GoodthingsError as exc:
        return render(
            request,
            "portal/message.html",
            {"title": _("Erasure could not finish"), "message": str(exc)},
            status=500,
        )
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
    session: Session,
    *,
    error: str | None = None,
    held: bool | None = None,
) -> Response:
    """The download page, with what went wrong (422) when a form on it failed."""
    context = context_of(request, session, "export")
    subject_id = session.subject_id
    context.update(
        recipient=_recipient_of(request, subject_id),
        held=hub_of(request.app).keyring.holds_own_key(subject_id) if held is None else held,
        error=error,
    )
    return render(request, "portal/export.html", context, status=422 if error else 200)
