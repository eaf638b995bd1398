"""`POST /ingest`: devices send SenML packs over HTTP with their bearer token.

The handler reads the pack, hands it to the hub's writer and awaits its own result: no thread
per request. The writer stores every pack waiting (other requests', the MQTT bridge's) in one
transaction, and settles this request's future from its own thread once that is committed, so
a 202 still means stored. When the store fails, or the hub is shutting down, the answer is 503
with Retry-After: nothing of the pack was stored, and the device sends it again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any, assert_never

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from goodthings.ingest import SENML_CBOR, SENML_JSON, BatchOutcome, Incoming, Refusal, WriterClosed
from goodthings.ingest.senml import MEDIA_TYPES
from goodthings.runtime import Hub
from goodthings.web.deps import DeviceId
from goodthings.web.ratelimit import RateLimiter
from goodthings.web.refusals import DEVICE_AUTH_RESPONSES, DeviceProblem

router = APIRouter(tags=["devices"])
logger = logging.getLogger(__name__)

_ACCEPTED_TYPES = MEDIA_TYPES
_RETRY_AFTER = "5"
"""Seconds a device waits before sending again a pack the hub could not store (503)."""


def refusal_status(refusal: Refusal) -> int:
    """The HTTP status that says to a device why its pack was refused."""
    match refusal:
        case Refusal.malformed:
            return 400
        case Refusal.unknown_stream:
            return 403
        case Refusal.unknown_device:
            return 404
        case Refusal.quarantined:
            return 403
        case Refusal.unprocessable:
            return 422
        case _:
            assert_never(refusal)


class IngestEndpoint:
    """Holds what the route needs between requests: the hub and the rate limiter."""

    def __init__(self, hub: Hub) -> None:
        settings = hub.home.settings
        self.hub = hub
        self.max_bytes = settings.ingest_max_bytes
        self.limiter = RateLimiter(settings.ingest_rate, settings.ingest_burst)
        self._settler: LoopSettler | None = None

    def settler(self, loop: asyncio.AbstractEventLoop) -> LoopSettler:
        """The settler of `loop`: a server runs one loop; tests that run another get theirs
        (a settler replaced still drains what it holds: its wake-up refers to it)."""
        settler = self._settler
        if settler is None or settler.loop is not loop:
            settler = self._settler = LoopSettler(loop)
        return settler


async def _endpoint(request: Request) -> IngestEndpoint:
    endpoint = request.app.state.ingest
    assert isinstance(endpoint, IngestEndpoint)
    return endpoint


Endpoint = Annotated[IngestEndpoint, Depends(_endpoint)]


class IngestAccepted(BaseModel):
    """The body of a 202, for the OpenAPI document."""

    received: int = Field(description="Readings in the pack")
    stored: int = Field(description="Rows written: one per reading, or one per window")
    minimised: int = Field(description="Readings kept at less detail than sent")
    dropped: dict[str, int] = Field(description="Readings not stored, by the gate's reason")
    ledger_entry: int | None = Field(description="The ledger entry that records the pack")


_SENML_PACK = {
    "description": "A SenML pack (RFC 8428): an array of records, as JSON or CBOR",
    "required": True,
    "content": {
        SENML_JSON: {
            "schema": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": True},
                "example": [{"bn": "thermostat-1:", "bt": 1790000000, "n": "temperature",
                             "u": "Cel", "v": 21.5}],
            }
        },
        SENML_CBOR: {"schema": {"type": "string", "format": "binary"}},
    },
}  # fmt: skip


@router.post(
    "/ingest",
    status_code=202,
    summary="Send readings (a SenML pack)",
    openapi_extra={"requestBody": _SENML_PACK},
    responses={
        **DEVICE_AUTH_RESPONSES,
        202: {
            "model": IngestAccepted,
            "description": "Accepted: counts of readings stored, minimised and dropped",
        },
        400: {"model": DeviceProblem, "description": "The pack is malformed; nothing was stored"},
        403: {
            "model": DeviceProblem,
            "description": "The pack names a stream this device does not have",
        },
        404: {
            "model": DeviceProblem,
            "description": "The device is no longer part of this deployment",
        },
        413: {"model": DeviceProblem, "description": "The pack is larger than the hub accepts"},
        415: {
            "model": DeviceProblem,
            "description": "The body is neither SenML JSON nor SenML CBOR",
        },
        422: {
            "model": DeviceProblem,
            "description": "The hub could not store this pack (it logs why); nothing was stored",
        },
        503: {
            "model": DeviceProblem,
            "description": "The store is unavailable or the hub is shutting down; nothing was "
            "stored: send the pack again after Retry-After seconds",
        },
    },
)
async def ingest(
    request: Request,
    endpoint: Endpoint,
    device: DeviceId,
) -> Any:
    """Store what the gate allows of a SenML pack (RFC 8428), JSON or CBOR."""
    answer = await answer_pack(
        endpoint,
        device,
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
    )
    if answer.body is None:
        return Response(status_code=answer.status)
    return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers or None)


@dataclass(frozen=True, slots=True)
class Answer:
    """What `/ingest` answers, whichever door the request came through (`web.lean_ingest` or
    the FastAPI route): a status, a JSON body (None: nobody is left to read one) and headers."""

    status: int
    body: dict[str, object] | None
    headers: dict[str, str] = field(default_factory=dict)


def _problem(status: int, message: str, **headers: str) -> Answer:
    return Answer(status, {"error": message}, headers)


async def answer_pack(
    endpoint: IngestEndpoint,
    device: str,
    content_type: str | None,
    declared: str | None,
    chunks: AsyncIterator[bytes],
) -> Answer:
    """The answer to an authenticated device's pack: rate limit, media type, size, then the
    writer's outcome once the pack's group is committed."""
    wait = endpoint.limiter.allow(device)
    if wait:
        return _problem(
            429,
            f"device {device!r} is sending too fast; retry later",
            **{"Retry-After": str(max(1, math.ceil(wait)))},
        )
    # The body's media type is in the request body's declaration, not a header parameter:
    # OpenAPI 3 says tools ignore a declared Content-Type parameter.
    media = (content_type or SENML_JSON).split(";")[0].strip().lower()
    if media not in _ACCEPTED_TYPES:
        return _problem(415, f"send SenML ({', '.join(sorted(_ACCEPTED_TYPES))}), not {media!r}")
    if declared is not None and declared.isdigit() and int(declared) > endpoint.max_bytes:
        return _problem(413, f"a pack may be at most {endpoint.max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in chunks:
            parts.append(chunk)
            size += len(chunk)
            if size > endpoint.max_bytes:
                return _problem(413, f"a pack may be at most {endpoint.max_bytes} bytes")
    except ClientDisconnect:
        # A flaky link, not a fault of the hub: one line, and nobody left to answer.
        logger.warning(
            "device %r disconnected after %d of %s bytes of its pack; nothing stored",
            device,
            size,
            declared if declared is not None and declared.isdigit() else "unknown",
        )
        return Answer(400, None)
    body = parts[0] if len(parts) == 1 else b"".join(parts)
    item = Incoming(device, body, time.time(), media if media != "application/json" else SENML_JSON)
    try:
        outcome = await _stored(endpoint, item)
    except WriterClosed:
        return _problem(
            503,
            "the hub is shutting down; nothing of the pack was stored: send it again",
            **{"Retry-After": _RETRY_AFTER},
        )
    if isinstance(outcome, Exception):
        return _problem(
            503,
            "the hub could not store the pack just now (its log says why); nothing of it was "
            "stored: send it again",
            **{"Retry-After": _RETRY_AFTER},
        )
    result = outcome.results[0]
    if result.refusal is not None:
        return _problem(refusal_status(result.refusal), result.error or result.refusal)
    return Answer(
        202,
        {
            "received": result.received,
            "stored": result.stored,
            "minimised": result.minimised,
            "dropped": dict(result.dropped),
            "ledger_entry": result.ledger_seq,
        },
    )


@router.get(
    "/device/policy",
    summary="What this device may collect now",
    responses={
        **DEVICE_AUTH_RESPONSES,
        404: {
            "model": DeviceProblem,
            "description": "The device is no longer part of this deployment",
        },
    },
)
async def device_policy(endpoint: Endpoint, device: DeviceId) -> Any:
    """The same policy MQTT devices receive retained on gt/<device>/policy, for HTTP devices."""
    await run_in_threadpool(endpoint.hub.pipeline.refresh)
    policy = endpoint.hub.pipeline.policies().get(device)
    if policy is None:
        return JSONResponse(
            {"error": f"device {device!r} is not part of this deployment any more"},
            status_code=404,
        )
    return Response(policy.to_json(), media_type="application/json")


async def _stored(endpoint: IngestEndpoint, item: Incoming) -> BatchOutcome | Exception:
    """The pack's outcome once its group is committed, or the error that failed the group."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[BatchOutcome | Exception] = loop.create_future()
    settler = endpoint.settler(loop)
    endpoint.hub.writer.submit([item], lambda outcome: settler.settle(future, outcome))
    return await future


class LoopSettler:
    """Hands outcomes from the writer's thread to one event loop, a wake-up per group.

    Waking a loop from another thread writes to its self-pipe and costs a system call; a group
    of fifty packs used to wake it fifty times (a sixth of a worker's time under the bench).
    Outcomes are queued here and one wake-up drains every outcome queued until it runs.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._queued: list[
            tuple[asyncio.Future[BatchOutcome | Exception], BatchOutcome | Exception]
        ] = []

    def settle(
        self, future: asyncio.Future[BatchOutcome | Exception], outcome: BatchOutcome | Exception
    ) -> None:
        """On the writer's thread: queue the outcome; wake the loop unless already woken."""
        with self._lock:
            self._queued.append((future, outcome))
            if len(self._queued) > 1:
                return  # a wake-up is on its way and will take this one too
        self.loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            queued, self._queued = self._queued, []
        for future, outcome in queued:
            if not future.done():  # cancelled when the device hung up while waiting
                future.set_result(outcome)
