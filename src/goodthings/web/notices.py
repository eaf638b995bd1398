"""Notices at `/notice/...`: open to anyone, no sign-in, HTML for people and JSON-LD for machines.

JSON-LD is served for `format=json`, or, without `format`, when the Accept header prefers
`application/ld+json` to `text/html` (RFC 9110 §12.5.1 quality values; a tie goes to HTML,
since browsers send `*/*`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from goodthings.assessment import current_label
from goodthings.core.errors import DeploymentError
from goodthings.policy import IDENTIFIER_CATEGORIES
from goodthings.transparency.notices import (
    LANGUAGES,
    NoticeNotFound,
    Scope,
    ScopeKind,
    negotiate,
    render_html,
    to_jsonld,
)
from goodthings.transparency.notices import published as notices
from goodthings.web.deps import HubDep

router = APIRouter(tags=["notices"])

Lang = Annotated[
    str | None, Query(description=f"Language: {', '.join(LANGUAGES)}; else Accept-Language")
]
Format = Annotated[
    Literal["html", "json"] | None,
    Query(description="html for people, json for JSON-LD; else the Accept header decides"),
]
_JSONLD = "application/ld+json"
_HTML = "text/html"


class JSONLDResponse(JSONResponse):
    media_type = "application/ld+json"


class Problem(BaseModel):
    detail: str


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/ld+json": {"schema": {"type": "object"}},
        },
        "description": (
            "The notice: HTML for people, or JSON-LD (format=json, or Accept: application/ld+json)"
        ),
    },
    404: {
        "description": "No such place, device, stream or language",
        "content": {"application/json": {"schema": Problem.model_json_schema()}},
    },
}


def _quality(accept: str, media_type: str) -> float:
    """The q `accept` gives `media_type`: that of its most specific matching range (RFC 9110)."""
    ranges = {media_type: 3, f"{media_type.split('/')[0]}/*": 2, "*/*": 1}
    specificity, quality = 0, 0.0
    for entry in accept.split(","):
        name, *parameters = (part.strip() for part in entry.split(";"))
        rank = ranges.get(name.lower(), 0)
        if rank > specificity:
            specificity, quality = rank, _q(parameters)
    return quality


def _q(parameters: list[str]) -> float:
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_jsonld(accept: str | None) -> bool:
    """Whether an Accept header prefers JSON-LD to HTML (a tie goes to HTML)."""
    if not accept:
        return False
    return _quality(accept, _JSONLD) > _quality(accept, _HTML)


def _serve(
    hub: HubDep,
    scope: Scope,
    lang: str | None,
    format: str | None,
    accept_language: str | None,
    accept: str | None,
) -> Response:
    if lang is not None and lang not in LANGUAGES:
        raise HTTPException(
            404, f"no notices in {lang!r}; the languages are {', '.join(LANGUAGES)}"
        )
    language = lang or negotiate(accept_language)
    try:
        with hub.engine.begin() as connection:
            notice = notices.current_notice(connection, scope)
            notices.record_version(connection, notice)
    except (NoticeNotFound, DeploymentError) as exc:
        raise HTTPException(404, str(exc)) from None
    label = current_label(hub.home.root)
    # The report that earned the label is in the ETag: a revalidating cache loses it with it.
    shown = "" if label is None else f"-label-{label.measured_at:%Y%m%d%H%M%S}"
    headers = {
        "ETag": f'"{notice.hash}{shown}"',
        "Content-Language": language,
        "Vary": "Accept, Accept-Language",
    }
    if format == "json" or (format is None and wants_jsonld(accept)):
        return JSONLDResponse(to_jsonld(notice, language), headers=headers)
    identifiers = any(s.data_category in IDENTIFIER_CATEGORIES for s in notice.streams)
    place = scope.id if scope.kind is ScopeKind.place else None
    if scope.kind is ScopeKind.device and notice.places:
        place = notice.places[0].id
    page = render_html(
        notice,
        language,
        optout_action="/passers-by" if identifiers and place else None,
        optout_place=place or "",
        label=None if label is None else label.in_words(language),
    )
    return HTMLResponse(page, headers=headers)


@router.get("/notice", response_class=HTMLResponse, responses=_ANSWERS)
def deployment_notice(
    request: Request,
    hub: HubDep,
    lang: Lang = None,
    format: Format = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    """What the whole deployment collects, why, who receives it and for how long."""
    # Not a declared parameter: OpenAPI 3 says tools ignore one named Accept.
    return _serve(hub, Scope(), lang, format, accept_language, request.headers.get("accept"))


@router.get("/notice/versions/{digest}", responses={404: {"model": Problem}})
def notice_version(hub: HubDep, digest: str) -> dict[str, Any]:
    """A notice version shown earlier (or consented under), by its hash, as it was."""
    with hub.engine.connect() as connection:
        content = notices.recorded_version(connection, digest)
    if content is None:
        raise HTTPException(404, f"no notice version {digest!r} has been shown by this hub")
    return {"hash": digest, "notice": content}


@router.get("/notice/{kind}/{scope_id:path}", response_class=HTMLResponse, responses=_ANSWERS)
def scoped_notice(
    request: Request,
    hub: HubDep,
    kind: Literal["place", "device", "stream"],
    scope_id: str,
    lang: Lang = None,
    format: Format = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    """The notice of one place, device or stream (`name` or `model-id/name`)."""
    scope = Scope(ScopeKind(kind), scope_id)
    return _serve(hub, scope, lang, format, accept_language, request.headers.get("accept"))
