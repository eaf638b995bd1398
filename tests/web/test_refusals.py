"""Every route refuses the same way for the same reason: the dependencies (hub, bearer token,
operator, device, portal session) decide once, and each refusal is answered in one place."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from goodthings.core.config import Home
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from goodthings.web.deps import hub_of
from portal_helpers import BASE, sign_in
from templates import init_from_template

OPERATOR_ROUTES = [
    ("post", "/api/v1/subjects/alex/consents"),
    ("get", "/api/v1/subjects/alex/consents"),
    ("post", "/api/v1/security/reports/1/state"),
]
DEVICE_ROUTES = [("post", "/ingest"), ("get", "/device/policy"), ("post", "/birth")]
CONSOLE_PAGES = ["/console/security", "/console/devices/new"]
PORTAL_PAGES = ["/portal/history", "/portal/activity", "/portal/export", "/portal/erase"]
PORTAL_FORMS = [
    "/portal/sign-out",
    "/portal/stop",
    "/portal/hold-key",
    "/portal/recipient",
    "/portal/export",
    "/portal/erase",
]
NOT_BEARER = [None, "Basic b3BlcmF0b3I6eA==", "Bearer", "bearer wrong-token", "Token abc"]


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home), base_url=BASE) as client:
        yield client


@pytest.fixture
def hub(client: TestClient) -> Hub:
    return hub_of(client.app)  # type: ignore[arg-type]


def _headers(authorization: str | None) -> dict[str, str]:
    return {} if authorization is None else {"Authorization": authorization}


@pytest.mark.parametrize(("method", "path"), OPERATOR_ROUTES)
@pytest.mark.parametrize("authorization", NOT_BEARER)
def test_operator_routes_refuse_anything_but_the_operator_bearer_token(
    client: TestClient, method: str, path: str, authorization: str | None
) -> None:
    answer = client.request(method, path, headers=_headers(authorization), json={})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {
        "detail": "send the operator token (keys/operator.token) as 'Authorization: Bearer <token>'"
    }


def test_the_operator_bearer_token_is_accepted_in_any_case_of_the_scheme(
    client: TestClient, hub: Hub
) -> None:
    for scheme in ("Bearer", "bearer", "BEARER"):
        answer = client.get(
            "/api/v1/subjects/alex/consents",
            headers={"Authorization": f"{scheme}  {hub.operator_token} "},
        )
        assert answer.status_code == 200, scheme


@pytest.mark.parametrize(("method", "path"), DEVICE_ROUTES)
@pytest.mark.parametrize("authorization", NOT_BEARER)
def test_device_routes_refuse_without_a_device_token(
    client: TestClient, method: str, path: str, authorization: str | None
) -> None:
    answer = client.request(method, path, headers=_headers(authorization), content=b"[]")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"error": "send the device's token as 'Authorization: Bearer <token>'"}


def test_the_operator_token_is_not_a_device_token(client: TestClient, hub: Hub) -> None:
    answer = client.post("/ingest", headers={"Authorization": f"Bearer {hub.operator_token}"})
    assert answer.status_code == 401


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_send_a_stranger_to_the_sign_in_page(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    assert answer.content == b""


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_refuse_the_operator_token_in_the_cookie_or_the_header(
    client: TestClient, hub: Hub, path: str
) -> None:
    """The token is for scripts; people sign in with their own accounts (issue 15)."""
    header = client.get(
        path, headers={"Authorization": f"Bearer {hub.operator_token}"}, follow_redirects=False
    )
    assert (header.status_code, header.headers["location"]) == (303, "/console/login")
    client.cookies.set("gt_operator", hub.operator_token, path="/console")
    cookie = client.get(path, follow_redirects=False)
    assert (cookie.status_code, cookie.headers["location"]) == (303, "/console/login")


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_portal_pages_without_a_session_go_back_to_the_start(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/portal")
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", PORTAL_FORMS)
def test_portal_forms_without_a_session_go_back_to_the_start(client: TestClient, path: str) -> None:
    answer = client.post(path, data={"csrf": "anything"}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/portal")


@pytest.mark.parametrize("path", PORTAL_FORMS)
def test_portal_forms_with_a_wrong_csrf_token_get_the_refusal_page(
    client: TestClient, hub: Hub, path: str
) -> None:
    sign_in(client, hub, "alex")
    answer = client.post(path, data={"csrf": "forged", "confirm": "yes"}, follow_redirects=False)
    assert answer.status_code == 403
    assert "The form was too old or came from somewhere else." in answer.text
    assert answer.headers["x-frame-options"] == "DENY"
    assert client.get("/portal/history").status_code == 200, "the session is still good"
