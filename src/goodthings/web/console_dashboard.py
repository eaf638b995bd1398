"""The console's first page: the deployment at a glance, for every role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from goodthings.console import bar_chart
from goodthings.console.dashboard import SILENT_AFTER, Dashboard, dashboard
from goodthings.security import ConsoleSession
from goodthings.web.console_assessment import latest
from goodthings.web.console_deps import EVERYONE, viewer
from goodthings.web.console_frame import page
from goodthings.web.deps import HubDep

router = APIRouter(include_in_schema=False)


@router.get("/console", response_class=HTMLResponse)
async def overview(
    request: Request, hub: HubDep, session: Annotated[ConsoleSession, Depends(viewer(*EVERYONE))]
) -> HTMLResponse:
    def read() -> Dashboard:
        with hub.engine.connect() as connection:
            return dashboard(connection)

    glance = await run_in_threadpool(read)
    assessed = await run_in_threadpool(latest, hub.home.root)
    chart = bar_chart(
        glance.per_minute,
        title="Readings per minute, last hour",
        unit="readings",
        axis="minute (UTC)",
    )
    return page(
        request,
        "console/dashboard.html",
        session,
        {
            "glance": glance,
            "chart": chart,
            "silent_hours": SILENT_AFTER.total_seconds() / 3600,
            "assessed": assessed,
        },
    )
