"""A running smart-home hub behind the portal's web application, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from goodthings.core.config import Home
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import BASE
from templates import init_from_template


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> FastAPI:
    override = None if database_url.startswith("sqlite") else database_url
    home = Home(tmp_path / "smart-home", override)
    init_from_template(home, "smart-home")
    return create_app(home)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE) as client:
        yield client


@pytest.fixture
def hub(app: FastAPI, client: TestClient) -> Hub:
    hub: Hub = app.state.hub
    return hub
