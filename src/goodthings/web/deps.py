"""What a route needs, handed to it by FastAPI (`Depends`) instead of fetched by hand in each:
the hub, the operator's token, the device that sends, each token read through the security
scheme the OpenAPI document declares for it (the console's signed-in person is
`web.console_deps`, an application's token `web.access`). A dependency that refuses raises
`Refused`, answered once by the handler `create_app` installs.
"""

from __future__ import annotations

import hmac
import math
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from goodthings.runtime import Hub
from goodthings.security import Authentication, Busy
from goodthings.security.lockout import Key, LockEvent, Scope, record_lockouts
from goodthings.web.refusals import ApiRefused, Refused


def hub_of(app: Starlette) -> Hub:
    """The running hub `create_app` opened for this application."""
    hub = app.state.hub
    if not isinstance(hub, Hub):
        raise TypeError(f"app.state.hub holds {type(hub).__name__}, not the running Hub")
    return hub


async def _hub(request: Request) -> Hub:
    return hub_of(request.app)


HubDep = Annotated[Hub, Depends(_hub)]


DEVICE_TOKEN = HTTPBearer(
    scheme_name="deviceToken",
    description="The device's own token, from `goodthings device token`",
    auto_error=False,
)
OPERATOR_TOKEN = HTTPBearer(
    scheme_name="operatorToken",
    description="The operator's script token (keys/operator.token)",
    auto_error=False,
)
"""Security schemes in the OpenAPI document, so that a generated client knows where each token
goes. `auto_error=False`: a missing or other-scheme header reaches the route as None, and the
route refuses in its own words (RFC 6750 §3 for applications, plain sentences for devices)."""


def _bearer(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """RFC 6750 §2.1: the token of `Authorization: Bearer <token>`; None for another scheme."""
    return credentials.credentials.strip() if credentials is not None else None


async def _device_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(DEVICE_TOKEN)],
) -> str | None:
    return _bearer(credentials)


async def _operator_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(OPERATOR_TOKEN)],
) -> str | None:
    return _bearer(credentials)


def is_operator_token(hub: Hub, presented: str | None) -> bool:
    """Whether `presented` is the operator's token (keys/operator.token), in constant time."""
    return bool(presented) and hmac.compare_digest(presented or "", hub.operator_token)


async def _operator(hub: HubDep, token: Annotated[str | None, Depends(_operator_token)]) -> Hub:
    """The API takes the operator token as a bearer token only (a cookie could be replayed by
    another site's form)."""
    if not is_operator_token(hub, token):
        raise ApiRefused(
            401,
            "send the operator token (keys/operator.token) as 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": "Bearer"},
        )
    return hub


Operator = Annotated[Hub, Depends(_operator)]
"""The hub, for a request that carries the operator's token as a bearer token."""


async def authenticate_device(hub: Hub, token: str, host: str) -> str:
    """The device a token belongs to; refuses with 401, 429 while locked out, or 503 while
    every credential check is taken for too long.

    A locked address is refused before its token is looked at, remembered or not: while an
    address is locked nothing from it is accepted. A success clears the device's count only,
    so a valid token cannot buy its address more guesses at other credentials.
    """
    address: Key = (Scope.address, host)
    wait = hub.lockout.retry_after(address)
    if wait:
        hub.lockout.refused(address)
        raise _locked(wait, "too many failed sign-ins from this address")
    device = hub.tokens.cached(token) if token else None
    if device is None:
        try:
            auth = (
                await run_in_threadpool(hub.tokens.verify, token)
                if token
                else Authentication(None, None)
            )
        except Busy as busy:
            seconds = str(max(1, math.ceil(busy.wait)))
            raise Refused(503, f"{busy}; retry later", {"Retry-After": seconds}) from None
        if auth.device is None:
            keys = [address] + ([(Scope.device, auth.claimed)] if auth.claimed else [])
            events = hub.lockout.failed(*keys)
            if events:
                await run_in_threadpool(_record, hub, events)
            raise Refused(
                401,
                "send the device's token as 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": "Bearer"},
            )
        device = auth.device
    wait = hub.lockout.retry_after((Scope.device, device))
    if wait:
        raise _locked(wait, f"device {device!r} is locked out after failed sign-ins")
    hub.lockout.succeeded((Scope.device, device))
    return device


async def _device(
    request: Request, hub: HubDep, token: Annotated[str | None, Depends(_device_token)]
) -> str:
    return await authenticate_device(hub, token or "", client_host(request))


def client_host(request: Request) -> str:
    """The address a request came from, as the lockout counts it."""
    return request.client.host if request.client else "unknown"


DeviceId = Annotated[str, Depends(_device)]
"""The id of the device whose token the request carries."""


def _locked(wait: float, why: str) -> Refused:
    seconds = max(1, math.ceil(wait))
    return Refused(429, f"{why}; retry after {seconds} s", {"Retry-After": str(seconds)})


def _record(hub: Hub, events: list[LockEvent]) -> None:
    with hub.engine.begin() as connection:
        record_lockouts(connection, events)
