"""`POST /oauth/token` and `GET /api/v1/readings` over HTTP: tokens, scopes, expiry, the gate."""

from __future__ import annotations

import base64
import json
import time

import pytest
from fastapi.testclient import TestClient

from goodthings.core.config import Home
from goodthings.ingest.batch import Incoming
from goodthings.rights.access import issue_secret
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from templates import init_from_template

START = 1_790_002_800.0


@pytest.fixture
def client(home: Home) -> TestClient:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        yield client  # type: ignore[misc]


def _hub(client: TestClient) -> Hub:
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    return hub


def _secret(client: TestClient, application: str) -> str:
    with _hub(client).engine.begin() as connection:
        return issue_secret(connection, application)


def _token(client: TestClient, application: str = "energy-dashboard", **extra: str) -> str:
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": application,
            "client_secret": _secret(client, application),
            **extra,
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return str(answer.json()["access_token"])


def _with_power_and_consent(client: TestClient) -> None:
    hub = _hub(client)
    records = [{"n": "power", "t": START + 60, "v": 432.0}]
    hub.pipeline.ingest([Incoming("meter-1", json.dumps(records).encode(), time.time())])
    for subject in ("alex", "sam"):
        change = consent.ConsentChange(subject, "power", "OptimisationForConsumer")
        consent.give(hub.engine, hub.signer, change)


def test_client_credentials_give_a_short_lived_token_for_the_declared_purposes(
    client: TestClient,
) -> None:
    secret = _secret(client, "energy-dashboard")
    basic = base64.b64encode(f"energy-dashboard:{secret}".encode()).decode()
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "OptimisationForConsumer"
    assert 0 < body["expires_in"] <= 300


def test_secrets_are_stored_hashed(client: TestClient, home: Home) -> None:
    secret = _secret(client, "wellbeing")
    assert secret.startswith("gts_")
    assert secret.encode() not in (home.root / "goodthings.db").read_bytes()


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_secret": "gts_wrong"}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "scope": "ResearchAndDevelopment"},
            400,
            "invalid_scope",
        ),
    ],
)
def test_token_mistakes(client: TestClient, form: dict[str, str], status: int, error: str) -> None:
    secret = _secret(client, "energy-dashboard")
    data = {"client_id": "energy-dashboard", "client_secret": secret, **form}
    answer = client.post("/oauth/token", data=data)
    assert answer.status_code == status
    assert answer.json()["error"] == error


def test_readings_through_the_gate_with_a_ledger_entry(client: TestClient) -> None:
    _with_power_and_consent(client)
    token = _token(client)
    answer = client.get(
        "/api/v1/readings",
        params={
            "stream": "power",
            "purpose": "OptimisationForConsumer",
            "from": "2026-09-01T00:00:00Z",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(r["device"], r["value"], r["level"]) for r in body["readings"]] == [
        ("meter-1", 432.0, "exact")
    ]
    assert body["ledger_seq"] > 0


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"stream": "power", "purpose": "ResearchAndDevelopment"}, 403, "insufficient_scope"),
        ({"stream": "heart_rate", "purpose": "OptimisationForConsumer"}, 403, "access_denied"),
    ],
)
def test_readings_outside_the_token_are_refused(
    client: TestClient, params: dict[str, str], status: int, error: str
) -> None:
    _with_power_and_consent(client)
    answer = client.get(
        "/api/v1/readings", params=params, headers={"Authorization": f"Bearer {_token(client)}"}
    )
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert "readings" not in answer.json()


def test_expired_forged_and_missing_tokens_are_refused(client: TestClient) -> None:
    _with_power_and_consent(client)
    token = _token(client)
    signer = client.app.state.access_tokens  # type: ignore[attr-defined]
    expired = signer.issue("energy-dashboard", ["OptimisationForConsumer"], now=time.time() - 600)
    body, _, mac = token.partition(".")
    forged = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
    params = {"stream": "power", "purpose": "OptimisationForConsumer"}
    for presented in (expired, forged, "nonsense"):
        answer = client.get(
            "/api/v1/readings", params=params, headers={"Authorization": f"Bearer {presented}"}
        )
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert client.get("/api/v1/readings", params=params).status_code == 401
