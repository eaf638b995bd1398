"""The console's assessment page: the latest signed report in words, for every role.

Everything shown comes from the signed report kept in the deployment's `assessments/`, never
from the live state again, so what an auditor reads here is what `goodthings assess verify`
checks in the exported bundle. The dashboard's card uses the same reading (`latest`), so the
two never disagree about when the deployment was last assessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from goodthings.assessment import latest_signed
from goodthings.assessment.label import LABEL_VALID, Label, label_of
from goodthings.assessment.render import headline
from goodthings.security import ConsoleSession
from goodthings.web.console_deps import EVERYONE, viewer
from goodthings.web.console_frame import page
from goodthings.web.deps import HubDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Latest:
    """The newest kept report, read for people: its label, its failures, what got worse."""

    report: dict[str, Any]
    key_id: str
    label: Label
    headline: str
    stale: bool
    """Older than the label's validity (30 days): the deployment should be assessed again."""
    failed: list[dict[str, Any]]
    worse: list[dict[str, str]]
    titles: dict[str, str]

    @property
    def label_shown(self) -> bool:
        return not self.stale and self.label.security_level >= 1

    @property
    def no_label_because(self) -> str:
        """Why no label is shown, in words; empty while one is."""
        reasons = []
        if self.stale:
            reasons.append(
                f"the report is older than {LABEL_VALID.days} days (it was valid until "
                f"{self.label.valid_until:%d %B %Y}): run `goodthings assess` again"
            )
        if self.label.security_level < 1:
            reasons.append(
                "it does not reach security level 1: a baseline control (no default passwords, "
                "a way to report problems, a declared support period) fails or could not be "
                "shown to pass"
            )
        return "; ".join(reasons)

    @property
    def in_brief(self) -> str:
        """The headline for the dashboard, where the detail is a link away, not below."""
        if self.failed:
            count = len(self.failed)
            return f"{count} control{'s are' if count != 1 else ' is'} not met."
        return self.headline

    @property
    def stands_out(self) -> bool:
        """What the dashboard flags, as it flags overdue requests: stale, or failing controls."""
        return self.stale or bool(self.failed)


def latest(root: Path, now: datetime | None = None) -> Latest | None:
    """The latest signed report kept for the deployment at `root`, or None before the first."""
    signed = latest_signed(root)
    if signed is None:
        return None
    report = signed["report"]
    label = label_of(report)
    changes = report.get("changes") or {}
    return Latest(
        report=report,
        key_id=str(signed["signature"]["key_id"]),
        label=label,
        headline=headline(report),
        stale=(now or datetime.now(UTC)) >= label.valid_until,
        failed=[v for v in report["verdicts"] if v["verdict"] == "fail"],
        worse=list(changes.get("worse", [])),
        titles={s["provision"]: s["title"] for s in report["conformance_statement"]},
    )


def shown(value: Any) -> str:
    """An evidence value as a person reads it: text as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@router.get("/console/assessment", response_class=HTMLResponse)
async def assessment_page(
    request: Request, hub: HubDep, session: Annotated[ConsoleSession, Depends(viewer(*EVERYONE))]
) -> HTMLResponse:
    found = await run_in_threadpool(latest, hub.home.root)
    return page(request, "console/assessment.html", session, {"latest": found, "shown": shown})
