"""Who may use the console: people with accounts, each role only on its routes; the shared
operator token opens no page; every form carries a CSRF token; locked out means locked out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import BaseRoute

from console_helpers import add_account, csrf_of, next_code, password_step, secret_of, sign_in
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.runtime.hub import Hub
from goodthings.security import Lockout, Role, console_sessions
from goodthings.web.app import create_app
from goodthings.web.deps import hub_of
from portal_helpers import BASE
from templates import init_from_template

SIGN_IN_FORMS = {"/console/login", "/console/login/code"}
"""Posted before anyone is signed in: they check the password, then the code."""
AUDITOR_FORMS = {"/console/logout", "/console/ledger/export"}
"""The forms an auditor may post: they change nothing (the export is recorded in the ledger)."""


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home), base_url=BASE, follow_redirects=False) as client:
        yield client


@pytest.fixture
def hub(client: TestClient) -> Hub:
    return hub_of(client.app)  # type: ignore[arg-type]


def _every_route(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The app's routes, including those of included routers (FastAPI 0.165 includes a router
    lazily, as one entry holding the original)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _every_route(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def _console_routes(client: TestClient, method: str) -> list[str]:
    routes = {
        route.path
        for route in _every_route(client.app.routes)  # type: ignore[attr-defined]
        if route.path.startswith("/console")
        and method in route.methods
        and route.path not in SIGN_IN_FORMS
    }
    assert routes, f"the app has no console {method} routes"
    return sorted(routes)


def _console_forms(client: TestClient) -> list[str]:
    return _console_routes(client, "POST")


def test_the_shared_operator_token_opens_no_console_page(client: TestClient, hub: Hub) -> None:
    for path in _console_routes(client, "GET"):
        answer = client.get(path, headers={"Authorization": f"Bearer {hub.operator_token}"})
        assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    # Nor in the cookies the console used to take it from, or in its own session cookie.
    for cookie in ("gt_operator", "gt_console"):
        client.cookies.set(cookie, hub.operator_token, path="/console")
    for path in _console_routes(client, "GET"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    client.cookies.clear()
    # It still works for scripts: the API takes it.
    api = client.get(
        "/api/v1/subjects/alex/consents",
        headers={"Authorization": f"Bearer {hub.operator_token}"},
    )
    assert api.status_code == 200


def test_an_auditor_is_refused_every_console_form(client: TestClient, hub: Hub) -> None:
    add_account(hub, "audrey", Role.auditor)
    csrf = sign_in(client, hub, "audrey")
    forms = [path for path in _console_forms(client) if path not in AUDITOR_FORMS]
    assert "/console/devices/new" in forms
    for path in forms:
        answer = client.post(path, data={"csrf": csrf, "device": "meter-9"})
        assert answer.status_code == 403, path
        assert "Signed in as audrey (auditor): this needs the role " in answer.text
    assert "meter-9" not in hub.home.manifest_path.read_text()
    # Viewing is allowed; the add-device form is not shown to an auditor.
    page = client.get("/console/security")
    assert page.status_code == 200
    assert "Add a device" not in page.text


def test_every_console_form_needs_its_csrf_token(client: TestClient, hub: Hub) -> None:
    add_account(hub, "olu", Role.operator)
    csrf = sign_in(client, hub, "olu")
    for path in _console_forms(client):
        for token in ("", "0" * 64):
            answer = client.post(path, data={"csrf": token, "device": "meter-9"})
            assert answer.status_code == 403, path
    assert "meter-9" not in hub.home.manifest_path.read_text()
    still = client.get("/console/security")
    assert still.status_code == 200 and csrf_of(still.text) == csrf


def test_the_code_step_needs_the_csrf_token_of_its_own_sign_in(
    client: TestClient, hub: Hub
) -> None:
    add_account(hub, "olu", Role.operator)
    password_step(client, "olu")
    code = next_code(secret_of(hub, "olu"))
    answer = client.post("/console/login/code", data={"csrf": "0" * 64, "code": code})
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    assert client.get("/console/security").status_code == 303


def test_a_dpo_may_not_add_devices(client: TestClient, hub: Hub) -> None:
    add_account(hub, "dana", Role.dpo)
    csrf = sign_in(client, hub, "dana")
    assert client.get("/console/devices/new").status_code == 403
    assert client.post("/console/devices/new", data={"csrf": csrf}).status_code == 403


def test_a_password_alone_opens_nothing(client: TestClient, hub: Hub) -> None:
    add_account(hub, "olu", Role.operator)
    password_step(client, "olu")
    assert client.get("/console/security").headers["location"] == "/console/login"


def test_a_wrong_code_and_a_replayed_code_are_refused(client: TestClient, hub: Hub) -> None:
    add_account(hub, "olu", Role.operator)
    csrf = password_step(client, "olu")
    secret = secret_of(hub, "olu")
    wrong = client.post("/console/login/code", data={"csrf": csrf, "code": "000000"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    code = next_code(secret)
    used = client.post("/console/login/code", data={"csrf": csrf, "code": code})
    assert used.status_code == 303
    client.post("/console/logout", data={"csrf": csrf_of(client.get("/console/security").text)})
    assert client.get("/console/security").status_code == 303
    # The same code again, within its window: refused.
    csrf = password_step(client, "olu")
    replay = client.post("/console/login/code", data={"csrf": csrf, "code": code})
    assert replay.status_code == 401
    assert client.get("/console/security").status_code == 303


def test_locked_out_means_locked_out(client: TestClient, hub: Hub) -> None:
    hub.lockout = Lockout(threshold=3, base=3600)
    add_account(hub, "olu", Role.operator)
    for _ in range(3):
        answer = client.post("/console/login", data={"name": "olu", "password": "not it"})
        assert answer.status_code == 401
    right = client.post(
        "/console/login", data={"name": "olu", "password": "correct horse battery staple 42"}
    )
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert client.get("/console/security").status_code == 303
    with hub.engine.connect() as connection:
        kinds = connection.execute(select(t.alerts.c.kind)).scalars().all()
    assert "auth-lockout" in kinds


def test_wrong_codes_lock_the_account_and_then_the_right_code_is_refused(
    client: TestClient, hub: Hub
) -> None:
    hub.lockout = Lockout(threshold=3, base=3600)
    add_account(hub, "olu", Role.operator)
    csrf = password_step(client, "olu")
    for _ in range(3):
        client.post("/console/login/code", data={"csrf": csrf, "code": "000000"})
    code = next_code(secret_of(hub, "olu"))
    answer = client.post("/console/login/code", data={"csrf": csrf, "code": code})
    assert answer.status_code == 429
    assert client.get("/console/security").status_code == 303


def test_ledger_entries_name_the_operator(client: TestClient, hub: Hub) -> None:
    add_account(hub, "olu", Role.operator)
    csrf = sign_in(client, hub, "olu")
    added = client.post(
        "/console/devices/new",
        data={"csrf": csrf, "device": "meter-7", "model": "wattwise-m2", "place": "flat-4"},
    )
    assert added.status_code == 201
    client.post("/console/logout", data={"csrf": csrf})
    with hub.engine.connect() as connection:
        rows = connection.execute(select(t.ledger_entries.c.actor, t.ledger_entries.c.action)).all()
    assert ("operator:olu", "console.sign_in") in rows
    assert ("operator:olu", "console.device_add") in rows
    assert ("operator:olu", "console.sign_out") in rows


def test_the_session_cookie_is_a_server_side_id(client: TestClient, hub: Hub) -> None:
    add_account(hub, "olu", Role.operator)
    password_step(client, "olu")
    code = next_code(secret_of(hub, "olu"))
    csrf = csrf_of(client.get("/console/login/code").text)
    answer = client.post("/console/login/code", data={"csrf": csrf, "code": code})
    cookie = answer.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/console", "Max-Age="):
        assert attribute.lower() in cookie.lower()
    assert hub.operator_token not in cookie


def test_a_sign_in_link_stands_in_for_the_password_only_and_works_once(
    client: TestClient, hub: Hub
) -> None:
    add_account(hub, "olu", Role.operator)
    with hub.engine.begin() as connection:
        link = console_sessions.sign_in_link(connection, "olu")
    client.cookies.set("gt_console", link, path="/console")  # as a cookie it opens nothing
    assert client.get("/console").headers["location"] == "/console/login"
    assert client.get("/console/login/code").headers["location"] == "/console/login"
    client.cookies.clear()
    opened = client.get(f"/console/login/link/{link}")
    assert (opened.status_code, opened.headers["location"]) == (303, "/console/login/code")
    assert client.get("/console").headers["location"] == "/console/login"  # the code is due
    csrf = csrf_of(client.get("/console/login/code").text)
    code = next_code(secret_of(hub, "olu"))
    signed_in = client.post("/console/login/code", data={"csrf": csrf, "code": code})
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/console")
    client.cookies.clear()
    again = client.get(f"/console/login/link/{link}")
    assert (again.status_code, again.headers["location"]) == (303, "/console/login")
