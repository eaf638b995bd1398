"""`GET /metrics` for Prometheus, behind the operator's script token, and the HTTP series.

The series of requests are labelled by route template (`/notice/{kind}/{scope_id:path}`),
never by the raw path, and by a method from a fixed list: a scraper's memory must not grow
with what clients choose to send. A console session opens none of this (`web.deps.Operator`
reads only a bearer token).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from goodthings.web.deps import Operator
from goodthings.web.refusals import ApiProblem

router = APIRouter(tags=["operations"])

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNMATCHED = "(unmatched)"
"""The route label of a request no route took (a 404 for an unknown path)."""


@router.get(
    "/metrics",
    response_class=Response,
    summary="The hub's metrics, for Prometheus",
    responses={
        200: {
            "description": "Prometheus text format 0.0.4, or OpenMetrics 1.0 when asked for in "
            "Accept",
            "content": {"text/plain": {}, "application/openmetrics-text": {}},
        },
        401: {"model": ApiProblem, "description": "No operator token"},
    },
)
def metrics(request: Request, hub: Operator) -> Response:
    """Every series the hub and its parts publish (docs/operations.md lists them)."""
    body, content_type = hub.metrics.exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


class HttpMetrics:
    """The request series, in the hub's registry: made once per application."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            "goodthings_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template",
            ["method", "route"],
            registry=registry,
        )
        self.responses = Counter(
            "goodthings_http_responses",
            "Answers given, by route template and status code",
            ["method", "route", "status"],
            registry=registry,
        )


class RequestTimer:
    """ASGI middleware: time every HTTP request and count its answer once it is sent."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers when the application raised before starting

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        began = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - began
            # The router leaves the route it chose in the scope (Starlette, FastAPI).
            route = getattr(scope.get("route"), "path", None) or _UNMATCHED
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.duration.labels(method, route).observe(elapsed)
            self.metrics.responses.labels(method, route, str(status)).inc()
