"""Notices are served to anyone at /notice/..., in HTML and JSON-LD; consents record their version."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from goodthings.core.config import Home
from goodthings.web.app import create_app
from templates import init_from_template


@pytest.fixture
def client(home: Home) -> TestClient:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        yield client  # type: ignore[misc]


def _operator(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.app.state.hub.operator_token}"}  # type: ignore[attr-defined]


def test_deployment_notice_needs_no_sign_in(client: TestClient) -> None:
    page = client.get("/notice")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Flat 4, Maple Court: what we collect and why" in page.text
    assert page.headers["etag"].strip('"') in page.text


@pytest.mark.parametrize(
    "path", ["/notice/place/flat-4", "/notice/device/band-alex", "/notice/stream/wattwise-m2/power"]
)
def test_place_device_and_stream_notices(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert "What we collect" in page.text


def test_json_ld_version_of_a_notice(client: TestClient) -> None:
    answer = client.get("/notice/device/band-alex", params={"format": "json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/ld+json")
    document = answer.json()
    assert document["goodthings:scope"] == {
        "goodthings:scopeKind": "device",
        "dct:identifier": "band-alex",
    }
    purposes = {
        p["dpv:hasPurpose"]["@id"] for p in document["dpv:hasProcess"] if "dpv:hasPurpose" in p
    }
    assert purposes == {"https://w3id.org/dpv#ServicePersonalisation"}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/ld+json", "application/ld+json"),
        ("text/html;q=0.5, application/ld+json", "application/ld+json"),
        ("application/ld+json, */*;q=0.1", "application/ld+json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("application/ld+json;q=0.5, text/html", "text/html"),
        ("application/ld+json, text/html", "text/html"),  # a tie goes to people
        ("*/*", "text/html"),
        ("application/ld+json;q=0, */*", "text/html"),
    ],
)
def test_the_accept_header_chooses_json_ld_or_html(
    client: TestClient, accept: str, media_type: str
) -> None:
    answer = client.get("/notice/place/flat-4", headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(media_type)
    assert "Accept" in answer.headers["vary"]


def test_format_in_the_query_wins_over_the_accept_header(client: TestClient) -> None:
    asked = client.get(
        "/notice", params={"format": "html"}, headers={"Accept": "application/ld+json"}
    )
    assert asked.headers["content-type"].startswith("text/html")


def test_language_from_query_or_browser(client: TestClient) -> None:
    asked = client.get("/notice/place/flat-4", params={"lang": "fr"})
    assert '<html lang="fr">' in asked.text and asked.headers["content-language"] == "fr"
    browser = client.get("/notice", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert "Ce que nous recueillons" in browser.text
    assert client.get("/notice", params={"lang": "xx"}).status_code == 404


def test_unknown_scope_is_404_with_the_known_ones(client: TestClient) -> None:
    missing = client.get("/notice/place/garage")
    assert missing.status_code == 404
    assert "its places are: flat-4" in missing.json()["detail"]


def test_served_versions_are_kept_and_consents_record_the_one_shown(client: TestClient) -> None:
    shown = client.get("/notice/place/flat-4").headers["etag"].strip('"')
    kept = client.get(f"/notice/versions/{shown}")
    assert kept.status_code == 200
    assert kept.json()["notice"]["scope"] == {"kind": "place", "id": "flat-4"}
    body = {"stream": "presence", "purpose": "OptimisationForConsumer", "state": "given"}
    given = client.post(
        "/api/v1/subjects/sam/consents",
        json={**body, "notice_hash": shown},
        headers=_operator(client),
    )
    assert given.status_code == 201, given.text
    assert given.json()["notice_hash"] == shown
    default = client.post("/api/v1/subjects/sam/consents", json=body, headers=_operator(client))
    deployment_version = client.get("/notice").headers["etag"].strip('"')
    assert default.json()["notice_hash"] == deployment_version
    unknown = client.post(
        "/api/v1/subjects/sam/consents",
        json={**body, "notice_hash": "0" * 64},
        headers=_operator(client),
    )
    assert unknown.status_code == 404
    assert "there is no notice version" in unknown.json()["detail"]
    assert client.get(f"/notice/versions/{'0' * 64}").status_code == 404


def test_a_french_notice_gives_the_label_in_french(client: TestClient, home: Home) -> None:
    """The badge's alternative text is the label in the notice's language, dates included."""
    from typer.testing import CliRunner

    from goodthings.cli import app

    CliRunner().invoke(app, ["assess", "--home", str(home.root)])
    french = client.get("/notice?lang=fr").text
    assert 'src="/assessment/label.svg"' in french
    assert "niveau de sécurité" in french and "security level" not in french
