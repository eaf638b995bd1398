"""Vulnerability disclosure: security.txt (RFC 9116) from the manifest, reports and triage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.security.securitytxt import build
from goodthings.web.app import create_app
from templates import init_from_template


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        yield client


def _fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
    return fields


def test_security_txt_follows_rfc_9116(client: TestClient) -> None:
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    fields = _fields(response.text)
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.connect() as connection:
        spec = connection.execute(select(t.operator.c.spec)).scalar_one()
    disclosure = spec["vulnerability_disclosure"]
    # §2.5.3 Contact (required, a URI), §2.5.5 Expires (required, once), §2.5.7 Policy
    assert fields["Contact"][0].removeprefix("mailto:") == disclosure["contact"].removeprefix(
        "mailto:"
    )
    assert fields["Contact"][0].startswith(("mailto:", "https:", "tel:"))
    # The deployment's configured public address, not the request's (RFC 9116 §2.5.3).
    assert fields["Contact"][1] == "http://127.0.0.1:8080/security/report"
    assert fields["Policy"] == [disclosure["policy_url"]]
    assert fields["Canonical"] == ["http://127.0.0.1:8080/.well-known/security.txt"]
    [expires] = fields["Expires"]
    when = datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(days=30) < when - datetime.now(UTC) < timedelta(days=365)


def test_a_bare_email_contact_becomes_a_mailto_uri() -> None:
    spec = {
        "legal_name": "Maple Court Co-op",
        "vulnerability_disclosure": {"contact": "security@example.org", "policy_url": "https://x"},
    }
    text = build(spec, "https://hub.example/", datetime(2026, 1, 1, 15, 30, tzinfo=UTC))
    assert "Contact: mailto:security@example.org\n" in text
    assert "Expires: 2026-06-30T00:00:00Z\n" in text


def test_reports_are_received_then_triaged_forward_only(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    received = client.post(
        "/api/v1/security/reports",
        json={"summary": "Tokens work after retirement", "details": "Steps: …", "contact": "r@x"},
    )
    assert received.status_code == 201
    number = received.json()["report"]
    assert received.json()["state"] == "received"
    path = f"/api/v1/security/reports/{number}/state"
    assert client.post(path, json={"state": "confirmed"}).status_code == 401
    operator = {"Authorization": f"Bearer {hub.operator_token}"}
    for state in ["confirmed", "fixed", "published"]:
        moved = client.post(path, json={"state": state}, headers=operator)
        assert moved.status_code == 200 and moved.json()["state"] == state
    back = client.post(path, json={"state": "confirmed"}, headers=operator)
    assert back.status_code == 409 and "can only move forward" in back.json()["detail"]
    empty = client.post("/api/v1/security/reports", json={"summary": " ", "details": "x"})
    assert empty.status_code == 400 and "short summary" in empty.json()["detail"]
    with hub.engine.connect() as connection:
        kinds = connection.execute(select(t.alerts.c.kind)).scalars().all()
    assert kinds == ["vulnerability-report"]


def test_the_report_form_works_without_javascript(client: TestClient) -> None:
    form = client.get("/security/report")
    assert form.status_code == 200 and 'name="details"' in form.text
    sent = client.post(
        "/security/report",
        content=b"summary=Open+port&details=Telnet+on+23&contact=",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert sent.status_code == 201 and "report 1 received" in sent.text
    refused = client.post(
        "/security/report",
        content=b"summary=&details=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status_code == 400 and "give a short summary" in refused.text
