"""Application access: `POST /oauth/token` (client credentials) and `GET /api/v1/readings`."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials, OAuth2
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection

from goodthings.core.keys import load_secret_root
from goodthings.core.store import moment_of
from goodthings.rights.access import (
    MAX_READINGS,
    AccessError,
    Grant,
    ReadingsQuery,
    TokenSigner,
    authenticate,
    read_readings,
)
from goodthings.web.deps import HubDep, hub_of

router = APIRouter(tags=["applications"])


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the RFC 6750 token type)
    expires_in: int = Field(description="Seconds until the token expires")
    scope: str = Field(description="The purposes the token allows, separated by spaces")


class OAuthError(BaseModel):
    error: str
    error_description: str


class ReadingOut(BaseModel):
    device: str
    stream: str = Field(description="model-id/stream-name")
    time: datetime | None = Field(
        description="null when the stored time is not a valid date (stored before the hub "
        "checked times)"
    )
    value: float | str | bool | None
    level: Literal["exact", "coarse", "aggregate"]
    count: int = Field(description="How many readings the value summarises (aggregate level)")


class ReadingsOut(BaseModel):
    purpose: str
    readings: list[ReadingOut]
    withheld: dict[str, int] = Field(
        description="Devices whose readings the gate withheld for this purpose, by reason"
    )
    truncated: bool = Field(description="More readings matched than the limit; narrow from/to")
    ledger_seq: int = Field(description="The ledger entry that records this read")


def _signer(request: Request) -> TokenSigner:
    signer: TokenSigner | None = getattr(request.app.state, "access_tokens", None)
    if signer is None:
        signer = TokenSigner(load_secret_root(hub_of(request.app).home.keys_dir))
        request.app.state.access_tokens = signer
    return signer


async def answer_access_error(request: Request, exc: Exception) -> JSONResponse:
    """RFC 6749 §5.2 and RFC 6750 §3: every refusal of an application, answered here once."""
    if not isinstance(exc, AccessError):
        raise exc
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{exc.code}"'
    return JSONResponse(
        {"error": exc.code, "error_description": str(exc)}, status_code=exc.status, headers=headers
    )


class _ClientBasic(HTTPBasic):
    """RFC 6749 §2.3.1: client id and secret in an HTTP Basic header, declared as a security
    scheme. A header that is not valid Basic counts as absent, so the form fields are looked at
    and a refusal is RFC 6749's `invalid_client`, not FastAPI's own."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, encoded = get_authorization_scheme_param(request.headers.get("authorization"))
        if scheme.lower() != "basic":
            return None
        try:
            client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return HTTPBasicCredentials(username=client_id, password=secret)


CLIENT_BASIC = _ClientBasic(
    scheme_name="clientBasic",
    description="The application's id and secret (`goodthings application secret`)",
)
APPLICATION_TOKEN = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token")),
    scheme_name="applicationToken",
    description="A token from POST /oauth/token; its scopes are the purposes it was issued for",
    auto_error=False,
)


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    responses={400: {"model": OAuthError}, 401: {"model": OAuthError}},
    # RFC 6749 §2.3.1: HTTP Basic, or client_id and client_secret in the form (no scheme).
    openapi_extra={"security": [{"clientBasic": []}, {}]},
)
def token(
    request: Request,
    hub: HubDep,
    grant_type: Annotated[
        str,
        Form(
            description="RFC 6749 §4.4: client_credentials",
            json_schema_extra={"enum": ["client_credentials"]},
        ),
    ],
    client_id: Annotated[str | None, Form(description="The application's id")] = None,
    client_secret: Annotated[
        str | None, Form(description="From `goodthings application secret`")
    ] = None,
    scope: Annotated[str | None, Form(description="Purposes wanted, separated by spaces")] = None,
    basic: Annotated[HTTPBasicCredentials | None, Security(CLIENT_BASIC)] = None,
) -> JSONResponse:
    """Exchange an application's client credentials for a short-lived token scoped to purposes."""
    if grant_type != "client_credentials":
        raise AccessError(
            "only grant_type=client_credentials is supported", 400, "unsupported_grant_type"
        )
    credentials = (basic.username, basic.password) if basic else (client_id, client_secret)
    if not credentials[0] or not credentials[1]:
        raise AccessError(
            "send client_id and client_secret (form or HTTP Basic)", 401, "invalid_client"
        )
    with hub.engine.connect() as connection:
        purposes = authenticate(connection, credentials[0], credentials[1])
    wanted = scope.split() if scope else purposes
    if not wanted or not set(wanted) <= set(purposes):
        raise AccessError(
            f"the application may ask only for its declared purposes: {' '.join(purposes)}",
            400,
            "invalid_scope",
        )
    signer = _signer(request)
    body = TokenOut(
        access_token=signer.issue(credentials[0], wanted),
        expires_in=int(signer.lifetime),
        scope=" ".join(sorted(wanted)),
    )
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


async def _grant(
    request: Request, authorization: Annotated[str | None, Security(APPLICATION_TOKEN)]
) -> Grant:
    """What the application's access token allows; refused when there is none or it is bad."""
    scheme, token = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer":
        raise AccessError(
            "send 'Authorization: Bearer <token>' from POST /oauth/token", 401, "invalid_token"
        )
    return _signer(request).verify(token.strip())


def _seconds(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@router.get(
    "/api/v1/readings",
    response_model=ReadingsOut,
    responses={401: {"model": OAuthError}, 403: {"model": OAuthError}},
)
def readings(
    hub: HubDep,
    grant: Annotated[Grant, Depends(_grant)],
    stream: Annotated[str, Query(description="Stream name, or model-id/stream-name")],
    purpose: Annotated[str, Query(description="The DPV purpose the data is read for")],
    start: Annotated[
        datetime | None, Query(alias="from", description="Inclusive; ISO 8601")
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="Exclusive; ISO 8601")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_READINGS)] = 1000,
) -> JSONResponse:
    """Readings of a stream for one purpose: only what consent and policy allow, minimised."""
    result = read_readings(
        hub.engine,
        hub.keyring,
        hub.signer,
        grant,
        ReadingsQuery(stream, purpose, _seconds(start), _seconds(end), limit),
        stored=hub.read_engine(),
    )
    body = ReadingsOut(
        purpose=result.purpose,
        readings=[
            ReadingOut(
                device=r.device_id,
                stream=r.stream,
                time=moment_of(r.time),
                value=r.value,
                level=r.level,
                count=r.count,
            )
            for r in result.readings
        ],
        withheld=dict(result.withheld),
        truncated=result.truncated,
        ledger_seq=result.ledger_seq,
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
