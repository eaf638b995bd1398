"""The console's pages on what is collected and who receives it: streams and consent in
aggregate, applications and recipients (with replaying a dead letter), and the manifest's
versions with a diff and the plan `apply` would carry out, read only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from goodthings.console import applications, manifest_versions, streams
from goodthings.core.errors import GoodthingsError
from goodthings.core.manifest import load_manifest
from goodthings.deployment import describe, plan_for
from goodthings.rights.sharing import UnknownDelivery, replay
from goodthings.security import ConsoleSession, Role, operators
from goodthings.web._portal_common import HEADERS
from goodthings.web.console_deps import EVERYONE, ConsoleRefused, actor, viewer
from goodthings.web.console_frame import page
from goodthings.web.deps import HubDep

router = APIRouter(include_in_schema=False)
OPERATORS = (Role.operator, Role.auditor)


@router.get("/console/streams", response_class=HTMLResponse)
async def streams_page(
    request: Request, hub: HubDep, session: Annotated[ConsoleSession, Depends(viewer(*EVERYONE))]
) -> HTMLResponse:
    def read() -> list[streams.StreamSummary]:
        with hub.engine.connect() as connection:
            return streams.streams(connection)

    return page(
        request, "console/streams.html", session, {"streams": await run_in_threadpool(read)}
    )


@router.get("/console/applications", response_class=HTMLResponse)
async def applications_page(
    request: Request, hub: HubDep, session: Annotated[ConsoleSession, Depends(viewer(*OPERATORS))]
) -> HTMLResponse:
    def read() -> applications.Sharing:
        with hub.engine.connect() as connection:
            return applications.sharing(connection)

    return page(request, "console/applications.html", session, {"s": await run_in_threadpool(read)})


@router.post("/console/applications/replay")
async def replay_dead_letter(
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(actor(Role.operator))],
    delivery: Annotated[int, Form(ge=1, le=2**31 - 1)] = 1,
) -> Response:
    """A dead letter back in the queue, due now; `share.replay` and who asked are in the ledger."""

    def run() -> None:
        replay(hub.engine, hub.signer, delivery)
        with hub.engine.begin() as connection:
            who = f"operator:{session.operator}"
            operators.record(
                connection, hub.signer, who, "console.share_replay", f"delivery:{delivery}"
            )

    try:
        await run_in_threadpool(run)
    except UnknownDelivery as exc:
        raise ConsoleRefused(str(exc), 404) from None
    return RedirectResponse("/console/applications", status_code=303, headers=HEADERS)


@router.get("/console/manifest", response_class=HTMLResponse)
async def manifest_page(
    request: Request,
    hub: HubDep,
    session: Annotated[ConsoleSession, Depends(viewer(*OPERATORS))],
    old: Annotated[int | None, Query(ge=1)] = None,
    new: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    def read() -> dict[str, Any]:
        with hub.engine.connect() as connection:
            listed = manifest_versions.versions(connection)
            shown: list[str] = []
            if old is not None and new is not None:
                before = manifest_versions.text_of(connection, old)
                after = manifest_versions.text_of(connection, new)
                if before is None or after is None:
                    raise ConsoleRefused("There is no such version of the manifest.", 404)
                shown = manifest_versions.diff(
                    before, after, f"version {old}", f"version {new}"
                ) or ["The two versions are the same."]
            try:
                plan = list(describe(plan_for(connection, load_manifest(hub.home.manifest_path))))
                problem = None
            except GoodthingsError as exc:
                plan, problem = [], str(exc)
        return {
            "versions": listed,
            "diff": shown,
            "plan": plan,
            "problem": problem,
            "old": old,
            "new": new,
        }

    return page(request, "console/manifest.html", session, await run_in_threadpool(read))
