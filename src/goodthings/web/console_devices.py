"""The console's devices: a list, a page per device, and the operator's actions on one (rotate
its credential, issue a certificate, retire it), each behind a confirming page and in the ledger
as `operator:NAME`. The actions call the same functions as `goodthings device ...`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from goodthings.console.devices import DeviceDetail, DeviceSummary, device, devices
from goodthings.core.errors import GoodthingsError
from goodthings.deployment import retire_device
from goodthings.runtime import Hub
from goodthings.security import (
    BrokerAclError,
    ConsoleSession,
    Issued,
    Role,
    admin_session,
    credentials,
    issue_device_certificate,
    operators,
)
from goodthings.security.broker_acl import DynsecGate
from goodthings.security.certificates import IssuedCertificate
from goodthings.security.monitoring import quarantine as cut_off
from goodthings.security.monitoring import release as let_back
from goodthings.web.console_deps import ConsoleRefused, actor, viewer
from goodthings.web.console_frame import page
from goodthings.web.deps import HubDep

router = APIRouter(include_in_schema=False)
SEE = viewer(Role.operator, Role.auditor)
ACT = actor(Role.operator)
DeviceParam = Annotated[str, Path(max_length=63)]
GRACE = timedelta(hours=24)

ACTIONS = {
    "rotate": (
        "Rotate the credential",
        "A new credential is made and shown once. The device's current credentials keep "
        "working for 24 hours so it can switch, then stop.",
    ),
    "certificate": (
        "Issue a certificate",
        "A client certificate and its private key for mutual TLS, signed by the deployment's "
        "own authority, shown once: copy them onto the device.",
    ),
    "retire": (
        "Retire the device",
        "The device is taken out of the manifest and every credential it has stops working at "
        "once. Its readings and its history in the ledger are kept until their retention ends.",
    ),
}


def _record(hub: Hub, session: ConsoleSession, action: str, device_id: str) -> None:
    with hub.engine.begin() as connection:
        who = f"operator:{session.operator}"
        operators.record(connection, hub.signer, who, action, f"device:{device_id}")


def _detail(hub: Hub, device_id: str) -> DeviceDetail:
    with hub.engine.connect() as connection:
        found = device(connection, device_id)
    if found is None:
        raise ConsoleRefused(f"There is no current device {device_id!r}.", 404)
    return found


@router.get("/console/devices", response_class=HTMLResponse)
async def device_list(
    request: Request, hub: HubDep, session: Annotated[ConsoleSession, Depends(SEE)]
) -> HTMLResponse:
    def read() -> list[DeviceSummary]:
        with hub.engine.connect() as connection:
            return devices(connection)

    now = datetime.now(UTC)
    listed = await run_in_threadpool(read)
    return page(request, "console/devices.html", session, {"devices": listed, "now": now})


@router.get("/console/devices/{device_id}", response_class=HTMLResponse)
async def device_page(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(SEE)],
    device_id: DeviceParam,
) -> HTMLResponse:
    detail = await run_in_threadpool(_detail, hub, device_id)
    return page(
        request,
        "console/device.html",
        session,
        {"d": detail, "now": datetime.now(UTC), "actions": ACTIONS},
        current="/console/devices",
    )


@router.get("/console/devices/{device_id}/{action}", response_class=HTMLResponse)
async def confirm(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(viewer(Role.operator))],
    device_id: DeviceParam,
    action: str,
) -> HTMLResponse:
    """The confirming step: what the action will do, and a button that does it."""
    if action not in ACTIONS:
        raise ConsoleRefused(f"There is no action {action!r} on a device.", 404)
    detail = await run_in_threadpool(_detail, hub, device_id)
    title, explanation = ACTIONS[action]
    return page(
        request,
        "console/device_confirm.html",
        session,
        {"d": detail, "action": action, "title": title, "explanation": explanation},
        current="/console/devices",
    )


def _shown_once(response: HTMLResponse) -> HTMLResponse:
    response.headers["Cache-Control"] = "no-store"  # a secret shown once is never cached
    return response


@router.post("/console/devices/{device_id}/rotate", response_class=HTMLResponse)
async def rotate(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(ACT)],
    device_id: DeviceParam,
) -> HTMLResponse:
    def run() -> tuple[Issued, str | None]:
        with hub.engine.begin() as connection:
            issued = credentials.rotate(connection, device_id, grace=GRACE)
        _record(hub, session, "console.device_rotate", device_id)
        return issued, _provision(hub, issued)

    try:
        issued, broker_problem = await run_in_threadpool(run)
    except GoodthingsError as exc:
        raise ConsoleRefused(str(exc), 409) from None
    qr = segno.make(issued.secret, error="m").svg_inline(scale=5)
    return _shown_once(
        page(
            request,
            "console/device_secret.html",
            session,
            {"issued": issued, "qr": qr, "broker_problem": broker_problem},
            current="/console/devices",
        )
    )


def _provision(hub: Hub, issued: Issued) -> str | None:
    """Give the new credential to Mosquitto's dynamic-security plugin when one is configured;
    the problem in words when the broker could not be told."""
    try:
        broker = admin_session(hub.home.settings)
        if broker is None:
            return None
        with broker as dynsec:
            dynsec.provision_device(issued.device_id, issued.secret)
    except BrokerAclError as exc:
        return f"the broker was not updated ({exc}); rotate again once it is up"
    return None


@router.post("/console/devices/{device_id}/certificate", response_class=HTMLResponse)
async def certificate(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(ACT)],
    device_id: DeviceParam,
) -> HTMLResponse:
    def run() -> IssuedCertificate:
        with hub.engine.connect() as connection:
            credentials.require_device(connection, device_id)
        issued = issue_device_certificate(hub.home.keys_dir, device_id)
        _record(hub, session, "console.device_certificate", device_id)
        return issued

    try:
        issued = await run_in_threadpool(run)
    except GoodthingsError as exc:
        raise ConsoleRefused(str(exc), 409) from None
    return _shown_once(
        page(
            request,
            "console/device_certificate.html",
            session,
            {
                "device_id": device_id,
                "certificate": issued.certificate_pem.decode(),
                "key": issued.key_pem.decode(),
                "ca": issued.ca_pem.decode(),
                "not_after": issued.not_after,
            },
            current="/console/devices",
        )
    )


@router.post("/console/devices/{device_id}/retire")
async def retire(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(ACT)],
    device_id: DeviceParam,
) -> Response:
    def run() -> int:
        revoked = retire_device(hub.engine, hub.home.manifest_path, device_id)
        _record(hub, session, "console.device_retire", device_id)
        return revoked

    try:
        revoked = await run_in_threadpool(run)
    except GoodthingsError as exc:
        raise ConsoleRefused(str(exc), 409) from None
    return page(
        request,
        "console/device_retired.html",
        session,
        {"device_id": device_id, "revoked": revoked},
        current="/console/devices",
    )


Reason = Annotated[str, Form(min_length=1, max_length=500)]


@router.post("/console/devices/{device_id}/quarantine")
async def quarantine_device(
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(ACT)],
    device_id: DeviceParam,
    reason: Reason,
) -> Response:
    """Cut a device off at once, with the reason the people concerned will read."""
    await _cut_or_release(hub, session, device_id, reason, cut=True)
    return RedirectResponse(f"/console/devices/{device_id}", status_code=303)


@router.post("/console/devices/{device_id}/release")
async def release_device(
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(ACT)],
    device_id: DeviceParam,
    reason: Reason,
) -> Response:
    """Let a quarantined device send again; only an operator, with a reason."""
    await _cut_or_release(hub, session, device_id, reason, cut=False)
    return RedirectResponse(f"/console/devices/{device_id}", status_code=303)


async def _cut_or_release(
    hub: Hub, session: ConsoleSession, device_id: str, reason: str, *, cut: bool
) -> None:
    """The same functions as `goodthings device quarantine|release`, as `operator:NAME`."""
    act = cut_off if cut else let_back
    try:
        await run_in_threadpool(
            lambda: act(
                hub.engine,
                hub.signer,
                device_id,
                reason=reason,
                actor=f"operator:{session.operator}",
                brokers=[DynsecGate(lambda: admin_session(hub.home.settings))],
            )
        )
    except GoodthingsError as exc:
        raise ConsoleRefused(str(exc), 409) from None
