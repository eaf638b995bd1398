"""`POST /ingest`: each answer a device can get, and what each one means for its data."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from goodthings.core.config import Home, Settings
from goodthings.core.store import tables as t
from goodthings.ingest.batch import Refusal
from goodthings.security.tokens import issue_token
from goodthings.web.app import create_app
from goodthings.web.ingest import refusal_status, router
from templates import init_from_template

PACK = json.dumps([{"bt": 1_790_000_000, "n": "temperature", "u": "Cel", "v": 21.0}]).encode()


@pytest.fixture
def deployment(home: Home) -> Home:
    init_from_template(home, "smart-home")
    settings = Settings(ingest_max_bytes=2000, ingest_rate=1.0, ingest_burst=3)
    return Home(home.root, settings=settings)


@pytest.fixture
def client(deployment: Home) -> Iterator[TestClient]:
    with TestClient(create_app(deployment)) as client:
        yield client


@pytest.fixture
def token(client: TestClient) -> str:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.begin() as connection:
        return issue_token(connection, "thermostat-1")


def stored(client: TestClient) -> int:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.readings)).scalar_one())


def post(
    client: TestClient, token: str | None, body: bytes, **headers: str
) -> tuple[int, dict[str, object]]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = client.post("/ingest", content=body, headers=headers)
    return response.status_code, response.json()


def test_202_with_counts(client: TestClient, token: str) -> None:
    status, body = post(client, token, PACK)
    assert status == 202
    assert body == {"received": 1, "stored": 1, "minimised": 0, "dropped": {}, "ledger_entry": 1}
    assert stored(client) == 1


def test_cbor_packs_are_accepted(client: TestClient, token: str) -> None:
    import cbor2

    body = cbor2.dumps([{-3: 1_790_000_000, 0: "temperature", 2: 21.0}])
    status, answer = post(client, token, body, **{"Content-Type": "application/senml+cbor"})
    assert (status, answer["stored"]) == (202, 1)


@pytest.mark.parametrize("media", ["application/senml+xml", "application/sensml+xml"])
def test_xml_packs_are_accepted(client: TestClient, token: str, media: str) -> None:
    body = (
        b'<sensml xmlns="urn:ietf:params:xml:ns:senml">'
        b'<senml bt="1790000000" n="temperature" v="21.0"/></sensml>'
    )
    status, answer = post(client, token, body, **{"Content-Type": media})
    assert (status, answer["stored"]) == (202, 1)


def test_a_sensml_json_stream_is_accepted(client: TestClient, token: str) -> None:
    body = b'[{"bt": 1790000000, "n": "temperature", "v": 21.0}]'
    status, answer = post(client, token, body, **{"Content-Type": "application/sensml+json"})
    assert (status, answer["stored"]) == (202, 1)


def test_400_names_the_record_and_field_and_stores_nothing(client: TestClient, token: str) -> None:
    bad = b'[{"n": "temperature", "v": 21.0}, {"n": "temperature", "v": true}]'
    status, body = post(client, token, bad)
    assert status == 400
    assert str(body["error"]).startswith("record 1, field 'v':")
    assert stored(client) == 0


@pytest.mark.parametrize("moment", ["1e300", "-1e300", str(2**64)])
def test_400_for_a_time_the_hub_cannot_live_with_and_the_pages_still_answer(
    client: TestClient, token: str, moment: str
) -> None:
    bad = f'[{{"n": "temperature", "v": 21.0}}, {{"n": "temperature", "v": 22.0, "t": {moment}}}]'
    status, body = post(client, token, bad.encode())
    assert status == 400
    assert str(body["error"]).startswith("record 1, field 't': the time ")
    assert stored(client) == 0
    assert client.get("/").status_code == 200


def test_400_for_a_unit_that_does_not_match_the_stream(client: TestClient, token: str) -> None:
    bad = b'[{"n": "temperature", "u": "%RH", "v": 40.0}]'
    status, body = post(client, token, bad)
    assert status == 400
    assert str(body["error"]).startswith(
        "record 0, field 'u': unit '%RH' does not match stream 'temperature' (Cel)"
    )
    assert stored(client) == 0


def test_two_records_without_a_time_are_two_readings(client: TestClient, token: str) -> None:
    pack = b'[{"n": "temperature", "v": 21.0}, {"n": "temperature", "v": 21.5}]'
    status, body = post(client, token, pack)
    assert (status, body["stored"], body["dropped"]) == (202, 2, {})


@pytest.mark.parametrize("token_value", [None, "gtd_not-a-real-token", "Basic abc"])
def test_401_without_a_known_token(client: TestClient, token_value: str | None) -> None:
    status, body = post(client, token_value, PACK)
    assert status == 401 and "Bearer" in str(body["error"])
    assert stored(client) == 0


def test_403_for_a_stream_the_device_does_not_have(client: TestClient, token: str) -> None:
    status, body = post(client, token, b'[{"n": "heart_rate", "v": 60}]')
    assert status == 403 and "has no stream 'heart_rate'" in str(body["error"])


def test_413_above_the_size_limit(client: TestClient, token: str) -> None:
    big = json.dumps([{"n": "temperature", "v": 21.0, "t": i} for i in range(200)]).encode()
    status, body = post(client, token, big)
    assert status == 413 and "at most 2000 bytes" in str(body["error"])
    assert stored(client) == 0


def test_415_for_another_media_type(client: TestClient, token: str) -> None:
    status, _ = post(client, token, PACK, **{"Content-Type": "text/plain"})
    assert status == 415


def test_429_past_the_rate_limit_with_retry_after(client: TestClient, token: str) -> None:
    statuses = []
    for offset in range(5):
        body = json.dumps([{"bt": 1_790_000_000 + offset, "n": "temperature", "v": 21.0}]).encode()
        response = client.post(
            "/ingest", content=body, headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
    assert statuses[:3] == [202, 202, 202]
    assert 429 in statuses[3:]
    assert stored(client) == statuses.count(202)


def test_a_retired_device_token_stops_working(client: TestClient, token: str) -> None:
    from goodthings.core.store.declared import retire
    from goodthings.security.tokens import TokenVerifier

    hub = client.app.state.hub  # type: ignore[attr-defined]
    assert post(client, token, PACK)[0] == 202
    with hub.engine.begin() as connection:
        retire(connection, "devices", ("thermostat-1",))
    hub.tokens = TokenVerifier(hub.engine, ttl=0)
    status, _ = post(client, token, PACK)
    assert status == 401


REFUSAL_STATUSES = {
    Refusal.malformed: 400,
    Refusal.unknown_stream: 403,
    Refusal.unknown_device: 404,
    Refusal.quarantined: 403,
    Refusal.unprocessable: 422,
}


@pytest.mark.parametrize("refusal", list(Refusal))
def test_each_reason_to_refuse_a_pack_is_answered_with_its_own_http_status(
    refusal: Refusal,
) -> None:
    assert refusal_status(refusal) == REFUSAL_STATUSES[refusal]
    # A quarantined device is forbidden as an undeclared stream is; the message says which.
    assert len(set(REFUSAL_STATUSES.values())) == len(Refusal) - 1


@pytest.mark.parametrize("path", ["/ingest", "/device/policy"])
def test_device_routes_resolve_their_dependencies_without_a_thread_hop(path: str) -> None:
    """FastAPI runs a plain `def` dependency in its thread pool: one hand-off per dependency
    per request, which cost the HTTP path a quarter of its throughput in `goodthings bench`."""
    (route,) = [r for r in router.routes if isinstance(r, APIRoute) and r.path == path]

    def calls(dependant: Dependant) -> Iterator[object]:
        for sub in dependant.dependencies:
            yield sub.call
            yield from calls(sub)

    found = list(calls(route.dependant))
    assert found, "the route has dependencies to check"
    blocking = [getattr(c, "__name__", c) for c in found if not _awaited(c)]
    assert blocking == []


def _awaited(call: object) -> bool:
    """As FastAPI decides: a coroutine function, or an object (a security scheme such as
    `HTTPBearer`) whose `__call__` is one."""
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 (the method itself is inspected)
    )
