"""The lean door to `POST /ingest` (`web.lean_ingest`) answers as FastAPI's route did, and its
memory of device tokens lets nobody in who has been cut off."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from goodthings.core.config import Home, Settings
from goodthings.core.store import tables as t
from goodthings.security.credentials import revoke_all
from goodthings.security.tokens import TokenVerifier, issue_token
from goodthings.web.app import create_app
from goodthings.web.lean_ingest import LeanIngest
from templates import init_from_template

PACK = json.dumps([{"bt": 1_790_000_000, "n": "temperature", "u": "Cel", "v": 21.0}]).encode()
FOLLOWED = 0.05
"""How stale the token memory may be (TokenVerifier's follow_every), in seconds."""


@pytest.fixture
def deployment(home: Home) -> Home:
    init_from_template(home, "smart-home")
    settings = Settings(ingest_max_bytes=2000, ingest_rate=1000.0, ingest_burst=1000)
    return Home(home.root, settings=settings)


def _token(app: FastAPI, device: str = "thermostat-1") -> str:
    with app.state.hub.engine.begin() as connection:
        return issue_token(connection, device)


@pytest.fixture
def client(deployment: Home) -> Iterator[TestClient]:
    with TestClient(create_app(deployment)) as client:
        yield client


def _requests(token: str, other: str) -> list[tuple[bytes, dict[str, str]]]:
    """One request for every way /ingest answers before and after the writer."""
    bearer = {"Authorization": f"Bearer {token}"}
    return [
        (PACK, bearer),
        (PACK, {"Authorization": f"bearer   {token}  "}),  # the scheme in any case, spaces
        (PACK, {}),
        (PACK, {"Authorization": f"Basic {token}"}),
        (PACK, {"Authorization": "Bearer"}),
        (PACK, {"Authorization": "Bearer gt_nosuchtoken.secret"}),
        (PACK, {**bearer, "Content-Type": "text/plain"}),
        (PACK, {**bearer, "Content-Type": "application/json; charset=utf-8"}),
        (b"x" * 2001, bearer),
        (b"[{]", bearer),
        (json.dumps([{"n": "toaster", "v": 1}]).encode(), bearer),
        (b'[{"bt":1790000000,"n":"temperature","v":1,"v":2}]', bearer),  # a name twice
        (PACK, {"Authorization": f"Bearer {other}"}),
    ]


def test_the_lean_door_answers_every_request_as_the_application_does(
    deployment: Home, tmp_path: Path
) -> None:
    second = Home(tmp_path / "second", settings=deployment.settings)
    init_from_template(second, "smart-home")
    lean_app = create_app(deployment)
    plain_app = create_app(second)
    # The same application without the lean door: every request goes to FastAPI's route.
    plain_app.user_middleware = [m for m in plain_app.user_middleware if m.cls is not LeanIngest]
    with TestClient(lean_app) as lean, TestClient(plain_app) as plain:
        sent = zip(
            _requests(_token(lean_app), _token(lean_app, "meter-1")),
            _requests(_token(plain_app), _token(plain_app, "meter-1")),
            strict=True,
        )
        answers = []
        for (body, headers), (_, plain_headers) in sent:
            one = lean.post("/ingest", content=body, headers=headers)
            two = plain.post("/ingest", content=body, headers=plain_headers)
            answers.append(one.status_code)
            assert one.status_code == two.status_code, (body[:40], headers)
            assert one.json() == two.json()
            for name in ("retry-after", "www-authenticate", "content-type"):
                assert one.headers.get(name) == two.headers.get(name), name
        # Each kind of answer was met: accepted, unauthenticated, 415, 413, 400, 403.
        assert {202, 401, 415, 413, 400, 403} <= set(answers)
        assert lean.get("/ingest").status_code == 405  # other methods go on to FastAPI


def test_a_revoked_token_is_refused_once_the_memory_followed_the_store(
    client: TestClient,
) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    token = _token(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.post("/ingest", content=PACK, headers=bearer).status_code == 202
    with app.state.hub.engine.begin() as connection:
        revoke_all(connection, "thermostat-1")
    time.sleep(FOLLOWED * 2)
    answer = client.post("/ingest", content=PACK, headers=bearer)
    assert answer.status_code == 401, answer.text


def test_a_token_revoked_by_hand_in_the_database_is_refused_too(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    token = _token(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.post("/ingest", content=PACK, headers=bearer).status_code == 202
    with app.state.hub.engine.begin() as connection:
        connection.execute(update(t.device_tokens).values(revoked_at=datetime.now(UTC)))
    time.sleep(FOLLOWED * 2)
    assert client.post("/ingest", content=PACK, headers=bearer).status_code == 401


def test_the_gates_refresh_makes_the_memory_forget_a_revoked_token(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    hub = app.state.hub
    hub.tokens = TokenVerifier(hub.engine, follow_every=3600)  # followed only when asked
    token = _token(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.post("/ingest", content=PACK, headers=bearer).status_code == 202
    assert hub.tokens.cached(token) == "thermostat-1"
    with hub.engine.begin() as connection:
        revoke_all(connection, "thermostat-1")
    assert hub.tokens.cached(token) == "thermostat-1"  # not followed yet
    hub.pipeline.refresh()  # what the writer does before a group, every 50 ms
    assert hub.tokens.cached(token) is None
    assert client.post("/ingest", content=PACK, headers=bearer).status_code == 401
