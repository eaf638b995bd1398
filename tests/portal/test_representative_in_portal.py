"""When a representative (the care home's example: Ann Hughes for her mother Margaret) gives or
withdraws consent, the person's history and "who used your data" say so, by name, in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from goodthings.core.config import Home
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import BASE, sign_in
from templates import init_from_template

ANN = "Ann Hughes (daughter, lasting power of attorney for health and welfare)"


@pytest.fixture
def care_home(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, Hub]]:
    override = None if database_url.startswith("sqlite") else database_url
    home = Home(tmp_path / "care-home", override)
    init_from_template(home, "care-home")
    app = create_app(home)
    with TestClient(app, base_url=BASE) as client:
        yield client, app.state.hub


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def _change(hub: Hub, give: bool, by_representative: bool) -> None:
    change = consent.ConsentChange(
        "margaret", "in_bed", "AcademicResearch", by_representative=by_representative
    )
    (consent.give if give else consent.withdraw)(hub.engine, hub.signer, change)


def test_the_history_says_the_representative_gave_and_withdrew_by_name(
    care_home: tuple[TestClient, Hub],
) -> None:
    client, hub = care_home
    _change(hub, give=True, by_representative=True)
    _change(hub, give=False, by_representative=True)
    _change(hub, give=True, by_representative=False)
    sign_in(client, hub, "margaret")
    history = _text(client.get("/portal/history").text)
    assert f"Given by your representative, {ANN}, on your behalf, through the operator" in history
    assert f"Withdrawn by your representative, {ANN}, on your behalf" in history
    assert history.count("by your representative") == 2, "the operator's own change is not hers"
    french = _text(client.get("/portal/history", headers={"Accept-Language": "fr"}).text)
    assert f"Donné par votre représentant, {ANN}, en votre nom" in french


def test_who_used_your_data_names_the_representative(care_home: tuple[TestClient, Hub]) -> None:
    client, hub = care_home
    _change(hub, give=True, by_representative=True)
    sign_in(client, hub, "margaret")
    page = _text(client.get("/portal/activity").text)
    assert f"Your representative, {ANN}, on your behalf A choice was switched on" in page
    assert "The hub A choice was switched on" not in page
