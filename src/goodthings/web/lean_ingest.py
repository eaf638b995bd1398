"""`POST /ingest` answered in front of the FastAPI application: the devices' hot path, lean.

Every pack a device sends over HTTP used to cross FastAPI's routing (a regular expression per
route until one matched), its dependency resolution, a `Request` and a `JSONResponse`: a third
of a hub worker's time under `goodthings bench`. This ASGI middleware takes `POST /ingest`
before any of that, reads the few headers it needs straight from the ASGI scope, and hands the
body to the parser as the bytes that came. Everything else, `GET /ingest` included (405 as
before), goes on to the application untouched.

The route the OpenAPI document describes is still FastAPI's (`web.ingest.ingest`): it is kept
with its declaration and its dependencies, and answers exactly as this one does (both call
`web.ingest.answer_pack`, and both authenticate through `web.deps.authenticate_device`), so the
document, the schemathesis run over it and every status code stay what they were. The metrics
middleware sits outside this one and sees the same route label (`/ingest`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import orjson
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from goodthings.web.deps import authenticate_device, hub_of
from goodthings.web.ingest import Answer, IngestEndpoint, answer_pack
from goodthings.web.refusals import Refused

PATH = "/ingest"

_JSON = (b"content-type", b"application/json")


class LeanIngest:
    """ASGI middleware: `POST /ingest` here, everything else to `app`."""

    def __init__(self, app: ASGIApp, route: object) -> None:
        self.app = app
        self.route = route
        """The FastAPI route of /ingest, left in the scope as the router would leave it, so
        that the request metrics label the request by it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        app = scope["app"]
        hub = hub_of(app)
        endpoint = app.state.ingest
        assert isinstance(endpoint, IngestEndpoint)
        authorization, content_type, declared = _headers(scope["headers"])
        client = scope.get("client")
        try:
            device = await authenticate_device(
                hub, _bearer(authorization), client[0] if client else "unknown"
            )
        except Refused as refused:
            await _send(send, Answer(refused.status, {"error": refused.message}, refused.headers))
            return
        answer = await answer_pack(endpoint, device, content_type, declared, _body(receive))
        await _send(send, answer)


def _headers(headers: Sequence[tuple[bytes, bytes]]) -> tuple[str | None, str | None, str | None]:
    """Authorization, Content-Type and Content-Length, the first of each (as Starlette reads
    them); ASGI servers give header names in lower case."""
    authorization = content_type = declared = None
    for name, value in headers:
        if name == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif name == b"content-type":
            if content_type is None:
                content_type = value.decode("latin-1")
        elif name == b"content-length" and declared is None:
            declared = value.decode("latin-1")
    return authorization, content_type, declared


def _bearer(authorization: str | None) -> str:
    """The token of `Authorization: Bearer <token>`, read as FastAPI's `HTTPBearer` reads it
    (RFC 6750 §2.1); empty for a missing header or another scheme."""
    if not authorization:
        return ""
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if not scheme or not credentials or scheme.lower() != "bearer":
        return ""
    return credentials


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body's chunks as they arrive; ClientDisconnect when the device hangs up."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _send(send: Send, answer: Answer) -> None:
    body = b"" if answer.body is None else orjson.dumps(answer.body)
    headers = [(b"content-length", str(len(body)).encode())]
    if answer.body is not None:
        headers.append(_JSON)
    headers.extend((name.lower().encode("latin-1"), value.encode("latin-1"))
                   for name, value in answer.headers.items())  # fmt: skip
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
