"""Passers-by opt out of identifier sensors from a place's notice page, without signing in."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from goodthings.core.keys import load_secret_root
from goodthings.rights.passersby import IdentifierKey, held, normalise, opt_out
from goodthings.transparency.notices import LANGUAGES, render_passersby_answer
from goodthings.web.deps import HubDep, hub_of
from goodthings.web.ratelimit import RateLimiter

router = APIRouter(tags=["notices"])


def _limiter(request: Request) -> RateLimiter:
    """Asking what is held reveals whether an address was seen: slow down anyone trying many."""
    limiter: RateLimiter | None = getattr(request.app.state, "passersby_limiter", None)
    if limiter is None:
        limiter = RateLimiter(rate=0.2, burst=10)
        request.app.state.passersby_limiter = limiter
    return limiter


def _key(request: Request) -> IdentifierKey:
    key: IdentifierKey | None = getattr(request.app.state, "passersby_key", None)
    if key is None:
        key = IdentifierKey(load_secret_root(hub_of(request.app).home.keys_dir))
        request.app.state.passersby_key = key
    return key


@router.post(
    "/passers-by",
    response_class=HTMLResponse,
    responses={400: {"content": {"text/html": {}}}, 429: {"content": {"text/html": {}}}},
)
def passers_by(
    request: Request,
    hub: HubDep,
    address: Annotated[
        str,
        Form(
            description="The phone's Wi-Fi or Bluetooth address (a mistake gets a page saying so)",
            json_schema_extra={"pattern": r"^[\s:.\-]*([0-9A-Fa-f][\s:.\-]*){12}$"},
        ),
    ],
    action: Annotated[Literal["opt-out", "held"], Form()] = "opt-out",
    place: Annotated[str, Form(description="The place whose notice the form was on")] = "",
    lang: Annotated[str, Form()] = "en",
) -> HTMLResponse:
    """Opt a phone out (its readings are dropped and erased), or ask what is held about it."""
    language = lang if lang in LANGUAGES else "en"
    back = (f"/notice/place/{place}" if place else "/notice") + (
        "" if language == "en" else f"?lang={language}"
    )
    client = request.client.host if request.client else "unknown"
    if _limiter(request).allow(client):
        return HTMLResponse("Too many requests; try again in a minute.", status_code=429)
    try:
        normalise(address)
    except ValueError:
        return HTMLResponse(
            render_passersby_answer(language, "invalid", 0, (), back), status_code=400
        )
    key = _key(request)
    if action == "held":
        found = held(hub.engine, hub.keyring, key, hub.signer, address)
        page = render_passersby_answer(language, "held", found.readings, found.places, back)
    else:
        erased = opt_out(hub.engine, hub.keyring, key, hub.signer, address, place or None)
        page = render_passersby_answer(language, "opted-out", erased, (), back)
    return HTMLResponse(page)
