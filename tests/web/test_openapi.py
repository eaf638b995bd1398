"""The OpenAPI spec at /openapi.json, exercised by schemathesis: every answer is as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from goodthings.core.config import Home
from goodthings.deployment.directory import init_deployment
from goodthings.rights.access import issue_secret
from goodthings.web.app import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    home = Home(Path(tmp_path_factory.mktemp("openapi")) / "deployment")
    init_deployment(home, "smart-home")
    return create_app(home)


@pytest.fixture(scope="module")
def token(app: FastAPI) -> str:
    hub = app.state.hub
    with hub.engine.begin() as connection:
        issue_secret(connection, "energy-dashboard")
    from goodthings.core.keys.files import load_master_key
    from goodthings.rights.access import TokenSigner

    return TokenSigner(load_master_key(hub.home.keys_dir)).issue(
        "energy-dashboard", ["OptimisationForConsumer"]
    )


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


OPERATIONS = [
    ("/oauth/token", "POST"),
    ("/api/v1/readings", "GET"),
    ("/notice", "GET"),
    ("/notice/{kind}/{scope_id}", "GET"),
    ("/notice/versions/{digest}", "GET"),
    ("/passers-by", "POST"),
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_application_and_notice_endpoints_answer_as_documented(
    api_schema: schemathesis.BaseSchema, token: str, path: str, method: str
) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {token}"} if path == "/api/v1/readings" else None

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers)

    answers_as_documented()
