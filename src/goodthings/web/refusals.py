"""Refusing a request: one exception, raised wherever the reason is found (a dependency, a
route), answered once by `answer_refused`. Each kind answers the way its clients have always
read it:

    Refused        {"error": message}: devices and their HTTP ingest
    ├── ApiRefused {"detail": message}: the operator API, like FastAPI's own errors
    └── Redirected an empty 303 to another page: browsers without a sign-in

(the portal adds its own kind, a page in its look, in `web._portal_common`).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel


class DeviceProblem(BaseModel):
    """The body of a refusal to a device, for the OpenAPI document."""

    error: str


class ApiProblem(BaseModel):
    """The body of a refusal of the API, for the OpenAPI document."""

    detail: str


DEVICE_AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": DeviceProblem, "description": "No token, or a token the hub does not know"},
    429: {
        "model": DeviceProblem,
        "description": "Locked out after failed sign-ins, or sending too fast; retry after "
        "Retry-After seconds",
    },
    503: {
        "model": DeviceProblem,
        "description": "The hub is checking many credentials at once; retry after Retry-After "
        "seconds",
    },
}
"""What every route that takes a device's token may answer before it looks at the request."""


class Refused(Exception):
    """The hub will not serve this request: the status, the message and the headers to send."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def answer(self, request: Request) -> Response:
        return JSONResponse(
            {"error": self.message}, status_code=self.status, headers=self.headers or None
        )


class ApiRefused(Refused):
    """A refusal of the operator API, in the shape of FastAPI's own errors."""

    def answer(self, request: Request) -> Response:
        return JSONResponse(
            {"detail": self.message}, status_code=self.status, headers=self.headers or None
        )


class Redirected(Refused):
    """Send the browser to `location` instead (303 See Other)."""

    def __init__(self, location: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(303, f"see {location}", headers)
        self.location = location

    def answer(self, request: Request) -> Response:
        return RedirectResponse(self.location, status_code=303, headers=self.headers or None)


async def answer_refused(request: Request, exc: Exception) -> Response:
    """The exception handler: every refusal becomes its answer here, and only here."""
    if not isinstance(exc, Refused):
        raise exc
    return exc.answer(request)
