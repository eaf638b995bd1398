"""Poison over HTTP: a device's bad pack is answered 400 with where it is wrong, never 500, and
is in the record of refused packs; the next good pack is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from goodthings.core.config import Home
from goodthings.core.store import select_refused
from goodthings.core.store import tables as t
from goodthings.security.tokens import issue_token
from goodthings.web.app import create_app
from templates import init_from_template

GOOD = json.dumps([{"bt": 1_790_000_000, "n": "temperature", "u": "Cel", "v": 21.0}]).encode()
POISON = {
    # (body, content type, the start of the error the device gets)
    "NaN then a trailing comma": (
        b'[{"n":"temperature","v":NaN},]',
        "application/senml+json",
        "record 0, field 'v': NaN is not a JSON number",
    ),
    "NaN and deep nesting": (
        b'[{"n":"x","v":NaN,"x":' + b"[" * 5000 + b"]" * 5000 + b"}]",
        "application/senml+json",
        "record 0: NaN is not a JSON number",
    ),
    "a name twice": (
        b'[{"n":"temperature","v":1,"v":2}]',
        "application/senml+json",
        "record 0, field 'v': the member name \"v\" appears twice",
    ),
    "garbage bytes": (bytes(range(256)), "application/senml+json", "the payload is not UTF-8"),
    "a CBOR bomb": (b"\x81" * 100_000, "application/senml+cbor", "record 0: invalid CBOR"),
}


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        yield client


@pytest.mark.parametrize(("body", "media", "error"), list(POISON.values()), ids=list(POISON))
def test_poison_is_answered_400_with_its_place_and_recorded(
    client: TestClient, body: bytes, media: str, error: str
) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.begin() as connection:
        token = issue_token(connection, "thermostat-1")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": media}
    response = client.post("/ingest", content=body, headers=headers)
    assert response.status_code == 400
    assert str(response.json()["error"]).startswith(error)
    headers["Content-Type"] = "application/senml+json"
    assert client.post("/ingest", content=GOOD, headers=headers).status_code == 202
    with hub.engine.connect() as connection:
        (record,) = select_refused(connection)
        stored = connection.execute(select(func.count()).select_from(t.readings)).scalar_one()
    assert (record.device_id, record.refusal, record.size) == (
        "thermostat-1",
        "malformed",
        len(body),
    )
    assert stored == 1
