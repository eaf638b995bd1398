"""Device security on the web: birth messages, security.txt, vulnerability reports, the
operator's fleet-security page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

import segno
from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from goodthings.core.errors import GoodthingsError
from goodthings.core.manifest import load_manifest
from goodthings.deployment import add_device
from goodthings.security import (
    BirthError,
    ConsoleSession,
    Issued,
    Role,
    fleet_security,
    operators,
    parse_birth,
    record_birth,
)
from goodthings.security.disclosure import (
    MAX_DETAILS,
    MAX_SUMMARY,
    ReportError,
    ReportState,
    UnknownReport,
    operator_spec,
    submit_report,
    triage,
)
from goodthings.security.securitytxt import SecurityTxtError, build, clearsign
from goodthings.web.console_deps import EVERYONE, actor, viewer
from goodthings.web.console_frame import page
from goodthings.web.deps import DeviceId, HubDep, Operator, hub_of
from goodthings.web.ratelimit import RateLimiter
from goodthings.web.refusals import DEVICE_AUTH_RESPONSES, ApiProblem, ApiRefused, DeviceProblem

_log = logging.getLogger(__name__)
router = APIRouter(tags=["security"])


def _templates(request: Request) -> Any:
    return request.app.state.templates


_BIRTH = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["firmware"],
                "properties": {"firmware": {"type": "string", "maxLength": 64, "pattern": r"\S"}},
                "example": {"firmware": "5.1.0"},
            }
        }
    },
}


@router.post(
    "/birth",
    status_code=204,
    response_class=Response,
    response_model=None,
    tags=["devices"],
    summary="Report the device's firmware",
    openapi_extra={"requestBody": _BIRTH},
    responses={
        **DEVICE_AUTH_RESPONSES,
        204: {"description": "Recorded"},
        400: {"model": DeviceProblem, "description": "Not a birth message"},
    },
)
async def birth(request: Request, hub: HubDep, device: DeviceId) -> Any:
    """A device's birth message after it starts: JSON `{"firmware": "5.1.0"}`, with its token."""
    body = await request.body()
    try:
        version = parse_birth(body[:4096])
    except BirthError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)

    def store() -> None:
        with hub.engine.begin() as connection:
            record_birth(connection, device, version)
        if hub.monitor is not None:
            hub.monitor.birth(device, version)

    await run_in_threadpool(store)
    return Response(status_code=204)


@router.get("/.well-known/security.txt", response_class=PlainTextResponse, include_in_schema=False)
def security_txt_file(hub: HubDep) -> PlainTextResponse:
    """RFC 9116, from the manifest's operator.vulnerability_disclosure and the deployment's
    public address (never the request's Host header), signed when a key is configured."""
    with hub.engine.connect() as connection:
        spec = operator_spec(connection)
    if spec is None:
        raise HTTPException(404, "no manifest has been applied yet")
    settings = hub.home.settings
    try:
        text = build(spec, settings.public_url, datetime.now(UTC))
        if settings.security_txt_key is not None:
            text = clearsign(text, settings.security_txt_key)
    except SecurityTxtError as exc:
        _log.warning("security.txt is not served: %s", exc)
        return PlainTextResponse(
            "security.txt is not available until the operator fixes the hub's configuration; "
            "the hub's log says what to change.\n",
            status_code=503,
            media_type="text/plain; charset=utf-8",
        )
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


@router.get("/security/report", response_class=HTMLResponse, include_in_schema=False)
def report_form(request: Request) -> HTMLResponse:
    return _templates(request).TemplateResponse(  # type: ignore[no-any-return]
        request,
        "security_report.html",
        {"max_summary": MAX_SUMMARY, "max_details": MAX_DETAILS, "error": None, "values": {}},
    )


class _TooManyReports(ReportError):
    """Five reports from one address, then one a minute."""


def _submit(request: Request, summary: str, details: str, contact: str | None) -> int:
    hub = hub_of(request.app)
    address = request.client.host if request.client else "unknown"
    limiter = getattr(request.app.state, "report_limiter", None)
    if limiter is None:  # five reports, then one a minute, per address
        limiter = request.app.state.report_limiter = RateLimiter(rate=1 / 60, burst=5)
    if limiter.allow(address):
        raise _TooManyReports(
            "too many reports from this address; please wait a minute and try again"
        )
    with hub.engine.begin() as connection:
        return submit_report(connection, summary, details, contact)


@router.post("/security/report", response_class=HTMLResponse, include_in_schema=False)
async def report_submitted(request: Request) -> HTMLResponse:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    try:
        number = await run_in_threadpool(
            _submit, request, form.get("summary", ""), form.get("details", ""), form.get("contact")
        )
    except ReportError as exc:
        return _templates(request).TemplateResponse(  # type: ignore[no-any-return]
            request,
            "security_report.html",
            {
                "max_summary": MAX_SUMMARY,
                "max_details": MAX_DETAILS,
                "error": str(exc),
                "values": form,
            },
            status_code=400,
        )
    return _templates(request).TemplateResponse(  # type: ignore[no-any-return]
        request, "security_report_received.html", {"number": number}, status_code=201
    )


class ReportIn(BaseModel):
    # Each must hold more than spaces. The document says so; the hub checks it itself (after
    # stripping), to answer 400 in plain words rather than pydantic's pattern message.
    summary: str = Field(
        max_length=MAX_SUMMARY,
        json_schema_extra={"pattern": r"\S"},
        examples=["Device tokens accepted after retirement"],
    )
    details: str = Field(max_length=MAX_DETAILS, json_schema_extra={"pattern": r"\S"})
    contact: str | None = Field(default=None, description="How to reach you (optional)")


@router.post(
    "/api/v1/security/reports",
    status_code=201,
    responses={
        400: {"model": ApiProblem, "description": "The report is empty or too long"},
        429: {
            "model": ApiProblem,
            "description": "Too many reports from this address; retry after Retry-After seconds",
        },
    },
)
async def report_api(request: Request, body: ReportIn) -> dict[str, Any]:
    """Report a vulnerability; the answer carries the report's number."""
    try:
        number = await run_in_threadpool(_submit, request, body.summary, body.details, body.contact)
    except _TooManyReports as exc:
        raise ApiRefused(429, str(exc), {"Retry-After": "60"}) from None
    except ReportError as exc:
        raise ApiRefused(400, str(exc)) from None
    return {"report": number, "state": ReportState.received.value}


class TriageIn(BaseModel):
    state: ReportState


@router.post(
    "/api/v1/security/reports/{report_id}/state",
    responses={
        401: {"model": ApiProblem, "description": "No operator token"},
        404: {"model": ApiProblem, "description": "No report has this number"},
        409: {"model": ApiProblem, "description": "The report is already in this state or past it"},
    },
)
def report_triage(
    report_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: TriageIn, hub: Operator
) -> dict[str, Any]:
    """Move a report forward: received, confirmed, fixed, published (operator only)."""
    try:
        with hub.engine.begin() as connection:
            report = triage(connection, report_id, body.state)
    except UnknownReport as exc:
        raise ApiRefused(404, str(exc)) from None
    except ReportError as exc:
        raise ApiRefused(409, str(exc)) from None
    return {"report": report.id, "state": report.state.value, "updated_at": report.updated_at}


@router.get("/console/security", response_class=HTMLResponse, include_in_schema=False)
def fleet_page(
    request: Request, hub: HubDep, session: Annotated[ConsoleSession, Depends(viewer(*EVERYONE))]
) -> Any:
    with hub.engine.connect() as connection:
        fleet = fleet_security(connection)
    return page(request, "fleet_security.html", session, {"fleet": fleet, "now": datetime.now(UTC)})


def _new_device_form(
    request: Request, session: ConsoleSession, error: str | None, values: dict[str, str]
) -> Any:
    hub = hub_of(request.app)
    manifest = load_manifest(hub.home.manifest_path).manifest
    return _templates(request).TemplateResponse(
        request,
        "device_new.html",
        {
            "models": [m.id for m in manifest.device_models],
            "places": [p.id for p in manifest.places],
            "error": error,
            "values": values,
            "session": session,
        },
        status_code=400 if error else 200,
    )


@router.get("/console/devices/new", response_class=HTMLResponse, include_in_schema=False)
def new_device(
    request: Request, session: Annotated[ConsoleSession, Depends(viewer(Role.operator))]
) -> Any:
    return _new_device_form(request, session, None, {})


@router.post("/console/devices/new", response_class=HTMLResponse, include_in_schema=False)
async def add_device_from_console(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(actor(Role.operator))],
    device: Annotated[str, Form()] = "",
    model: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
) -> Any:
    """The console's way of `goodthings device add`: the same service, the credential shown once,
    and a ledger entry naming who added it."""
    form = {"device": device.strip(), "model": model.strip(), "place": place.strip()}

    def add() -> Issued:
        issued = add_device(
            hub.engine,
            hub.home.manifest_path,
            device_id=form.get("device", ""),
            model=form.get("model", ""),
            place=form.get("place", ""),
            key=hub.password_key,
        )
        with hub.engine.begin() as connection:
            who = f"operator:{session.operator}"
            operators.record(
                connection, hub.signer, who, "console.device_add", f"device:{issued.device_id}"
            )
        return issued

    try:
        issued = await run_in_threadpool(add)
    except GoodthingsError as exc:
        return _new_device_form(request, session, str(exc), form)
    qr = segno.make(issued.secret, error="m").svg_inline(scale=5)
    response = _templates(request).TemplateResponse(
        request, "device_added.html", {"issued": issued, "qr": qr}, status_code=201
    )
    response.headers["Cache-Control"] = "no-store"  # the credential is shown once, never cached
    return response
