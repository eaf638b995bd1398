"""The hub's home page lists the deployment's devices and what each one measures."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from goodthings.core.config import Home
from goodthings.ingest.batch import Incoming
from goodthings.web.app import create_app
from templates import init_from_template


@pytest.fixture
def client(home: Home) -> TestClient:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        yield client  # type: ignore[misc]


def test_home_page_lists_every_device_and_stream(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "Flat 4, Maple Court" in html
    assert "Run by <strong>Maple Court Housing Co-operative Ltd</strong>" in html
    for device in (
        "Electricity meter",
        "Living-room thermostat",
        "Front door sensor",
        "Alex&#39;s wristband",
    ):
        assert device in html
    for stream in (
        "How much electricity the flat is using right now",
        "The air temperature in the living room",
        "Whether the front door is open or closed",
        "Your heart rate, measured by the wristband",
    ):
        assert stream in html
    assert "in <strong>Flat 4</strong>" in html and "flat-4" not in html
    assert "to handle payments, bills and receipts" in html and "PaymentManagement" not in html
    assert "(in °C)" in html and "Cel" not in html


def test_home_page_is_accessible_by_structure(client: TestClient) -> None:
    html = client.get("/").text
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert html.count("<h1>") == 1
    assert '<th scope="col">' in html and "<caption" in html
    assert 'href="#main"' in html


def test_health_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/static/goodthings.css").status_code == 200


def test_home_page_says_how_long_data_is_kept_in_words(client: TestClient) -> None:
    html = client.get("/").text
    assert '<td data-label="Kept for">30 days</td>' in html
    assert '<td data-label="Kept for">13 months</td>' in html
    assert "P30D" not in html and "P13M" not in html


def test_home_page_counts_the_readings_stored(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    pack = b'[{"bt": %d, "n": "temperature", "v": 21.0}, {"n": "temperature", "t": 1, "v": 21.5}]'
    hub.pipeline.ingest([Incoming("thermostat-1", pack % int(time.time()), time.time())])
    html = client.get("/").text
    row = html[html.index("The air temperature in the living room") :]
    assert '<td data-label="Readings stored">2<br>' in row[: row.index("</tr>")]
