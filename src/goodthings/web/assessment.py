"""The public summary of the latest assessment, and its label as a badge: what a sign's reader
or a buyer sees, without signing in. It shows only what the signed report says, and no label
once the report is stale or earns none, and nothing of a report whose signature does not
verify."""

from __future__ import annotations

from datetime import datetime
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from goodthings.assessment import label_standing, latest_signed
from goodthings.assessment.label import badge_svg
from goodthings.assessment.render import headline
from goodthings.web.deps import HubDep

router = APIRouter(tags=["assessment"])

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>How this deployment was assessed</title>
<style>body {{ margin: 0 auto; max-width: 40rem; padding: 1rem; font: 1rem/1.5 system-ui, sans-serif; color: #1b1b1b; }}</style>
</head><body><main>
<h1>How this deployment was assessed</h1>
{body}
</main></body></html>
"""


@router.get("/assessment", response_class=HTMLResponse, include_in_schema=False)
def assessment_summary(hub: HubDep) -> HTMLResponse:
    signed = latest_signed(hub.home.root)
    if signed is None:
        body = "<p>This deployment has not been assessed yet.</p>"
        return HTMLResponse(_PAGE.format(body=body))
    report = signed["report"]
    standing = label_standing(hub.home.root)
    if not standing.verified:  # its headline and counts are not the report's any more
        body = f"<p>No label is shown: {escape(standing.why_not)}.</p>"
        return HTMLResponse(_PAGE.format(body=body))
    measured_at = datetime.fromisoformat(report["measured_at"])
    summary = report["summary"]
    parts = [
        f"<p>{escape(headline(report))}</p>",
        f"<p>Assessed {measured_at:%d %B %Y} against {len(report['verdicts'])} controls: "
        f"{summary['pass']} met, {summary['fail']} not met, {summary['not applicable']} not "
        f"applicable, {summary['inconclusive']} left to the operator's statement or an "
        "auditor.</p>",
    ]
    if standing.label is not None:
        words = escape(standing.label.in_words())
        parts.append(f'<p><img src="/assessment/label.svg" alt="{words}"></p>')
    else:
        parts.append(f"<p>No label is shown: {escape(standing.why_not)}.</p>")
    key = escape(str(signed["signature"]["key_id"]))
    parts.append(
        f"<p>The report is signed with key <code>{key}</code>. Anyone can check it: ask the "
        "operator for the bundle and run <code>goodthings assess verify</code>.</p>"
    )
    return HTMLResponse(_PAGE.format(body="\n".join(parts)))


@router.get("/assessment/label.svg", include_in_schema=False)
def assessment_label(hub: HubDep) -> Response:
    standing = label_standing(hub.home.root)
    if standing.label is None:
        return Response(
            f"No current label: {standing.why_not}.", status_code=404, media_type="text/plain"
        )
    return Response(
        badge_svg(standing.label),
        media_type="image/svg+xml",
        headers={"Cache-Control": "max-age=3600"},
    )
