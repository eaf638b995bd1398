"""Brute force: failures counted per device and per address, exponential lockout, an alert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.security.credentials import issue_token
from goodthings.security.lockout import Lockout, Scope
from goodthings.web.app import create_app
from templates import init_from_template

PACK = b'[{"bt": 1790000000, "n": "temperature", "u": "Cel", "v": 21.0}]'
ADDRESS = (Scope.address, "192.0.2.7")
DEVICE = (Scope.device, "meter-1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lockout_starts_at_the_threshold_and_doubles_up_to_the_cap() -> None:
    clock = Clock()
    lockout = Lockout(threshold=3, base=2.0, cap=10.0, clock=clock)
    assert lockout.failed(ADDRESS) == [] and lockout.failed(ADDRESS) == []
    assert lockout.retry_after(ADDRESS) == 0
    waits = []
    for _ in range(4):
        [event] = lockout.failed(ADDRESS)
        waits.append(event.seconds)
    assert waits == [2.0, 4.0, 8.0, 10.0]
    assert lockout.retry_after(ADDRESS) == 10.0
    assert lockout.retry_after(DEVICE) == 0  # the other scope is untouched
    clock.now += 10.5
    assert lockout.retry_after(ADDRESS) == 0


def test_success_and_quiet_time_forget_failures() -> None:
    clock = Clock()
    lockout = Lockout(threshold=2, forget_after=60, clock=clock)
    lockout.failed(DEVICE)
    lockout.succeeded(DEVICE)
    assert lockout.failed(DEVICE) == []  # the count started again
    clock.now += 61
    assert lockout.failed(DEVICE) == []  # and again, after a quiet minute
    assert [e.failures for e in lockout.failed(DEVICE)] == [2]


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        client.app.state.hub.lockout = Lockout(threshold=3, base=30.0)  # type: ignore[attr-defined]
        yield client


def _post(client: TestClient, token: str) -> tuple[int, str, str | None]:
    response = client.post("/ingest", content=PACK, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.text, response.headers.get("Retry-After")


def test_http_failures_lock_the_address_out_and_alert_the_operator(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.begin() as connection:
        good = issue_token(connection, "thermostat-1")
    statuses = [_post(client, f"gtd_{'a' * 12}_guess{i}")[0] for i in range(3)]
    assert statuses == [401, 401, 401]
    status, body, retry = _post(client, good)  # even a good token, from a locked address
    assert status == 429 and "too many failed sign-ins from this address" in body
    assert retry is not None and int(retry) >= 29
    with hub.engine.connect() as connection:
        alerts = connection.execute(select(t.alerts.c.kind, t.alerts.c.message)).all()
        lockouts = connection.execute(
            select(ts.security_lockouts.c.scope, ts.security_lockouts.c.subject)
        ).all()
    assert [kind for kind, _ in alerts] == ["auth-lockout"]
    assert "3 failed sign-ins in a row from testclient" in alerts[0][1]
    assert lockouts == [("address", "testclient")]


def test_wrong_secrets_for_a_device_lock_that_device_out(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.begin() as connection:
        good = issue_token(connection, "thermostat-1")
    wrong = good[:-6] + "XXXXXX"
    for _ in range(3):
        assert _post(client, wrong)[0] == 401
    with hub.engine.connect() as connection:
        subjects = connection.execute(select(ts.security_lockouts.c.subject)).scalars().all()
        alert_devices = connection.execute(select(t.alerts.c.device_id)).scalars().all()
    assert sorted(subjects) == ["testclient", "thermostat-1"]
    assert "thermostat-1" in alert_devices
    hub.lockout.succeeded((Scope.address, "testclient"))  # another address now…
    status, body, _ = _post(client, good)
    assert status == 429 and "device 'thermostat-1' is locked out" in body


def test_a_recently_used_token_is_refused_while_its_address_is_locked(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.begin() as connection:
        good = issue_token(connection, "thermostat-1")
    assert _post(client, good)[0] == 202  # verified once: remembered for the next packs
    for i in range(3):
        assert _post(client, f"gtd_{'a' * 12}_guess{i}")[0] == 401
    status, body, retry = _post(client, good)
    assert status == 429 and "too many failed sign-ins from this address" in body
    assert retry is not None and int(retry) >= 29
    assert hub.lockout.retry_after((Scope.address, "testclient")) >= 29  # still locked


def test_a_success_does_not_reset_the_count_of_its_address(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.begin() as connection:
        good = issue_token(connection, "thermostat-1")
    for i in range(2):
        assert _post(client, f"gtd_{'a' * 12}_guess{i}")[0] == 401
    assert _post(client, good)[0] == 202  # a valid token between guesses…
    assert _post(client, f"gtd_{'a' * 12}_guess2")[0] == 401
    assert _post(client, good)[0] == 429  # …does not buy the address more guesses
