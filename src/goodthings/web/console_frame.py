"""The console's frame: the sections a person's role opens, in the navigation of every page.

A package that adds a page to the console adds one `Section` to `SECTIONS` with the roles its
route names, writes a template that extends `console/layout.html`, and answers with `page(...)`
(docs/console.md, "Adding a page").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from goodthings.security import ConsoleSession, Role
from goodthings.web._portal_common import HEADERS


@dataclass(frozen=True)
class Section:
    path: str
    label: str
    roles: tuple[Role, ...]


_ALL = (Role.operator, Role.dpo, Role.auditor)
SECTIONS: list[Section] = [
    Section("/console", "Overview", _ALL),
    Section("/console/devices", "Devices", (Role.operator, Role.auditor)),
    Section("/console/security", "Fleet security", _ALL),
    Section("/console/streams", "Streams and consent", _ALL),
    Section("/console/applications", "Applications", (Role.operator, Role.auditor)),
    Section("/console/requests", "Requests", (Role.dpo,)),
    Section("/console/ledger", "Ledger", (Role.dpo, Role.auditor)),
    Section("/console/manifest", "Manifest", (Role.operator, Role.auditor)),
    Section("/console/assessment", "Assessment", _ALL),
]
"""In the order the navigation shows them; a section is shown to the roles it names."""


def sections_for(role: Role) -> list[Section]:
    return [section for section in SECTIONS if role in section.roles]


def page(
    request: Request,
    template: str,
    session: ConsoleSession,
    context: dict[str, Any],
    *,
    status: int = 200,
    current: str = "",
) -> HTMLResponse:
    """A console page in its frame: the person's sections, who is signed in, never cached."""
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            **context,
            "session": session,
            "sections": sections_for(session.role),
            "current": current or request.url.path,
        },
        status_code=status,
    )
    response.headers.update(HEADERS)
    return response
