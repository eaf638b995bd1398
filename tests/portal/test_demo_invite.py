"""`make demo` prints a sign-in link for the demo's resident that opens their portal."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from goodthings.cli.serve import _demo_invite
from goodthings.core.config import Home
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import csrf_of
from templates import init_from_template


def test_the_demo_link_opens_alexs_portal(home: Home) -> None:
    home = replace(
        home, settings=home.settings.model_copy(update={"public_url": "http://127.0.0.1:8765"})
    )
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        link = _demo_invite(hub)
    finally:
        hub.close()
    prefix = "http://127.0.0.1:8765"
    assert link.startswith(prefix + "/portal/sign-in/")
    with TestClient(create_app(home), base_url="https://127.0.0.1:8765") as client:
        path = link.removeprefix(prefix)
        page = client.get(path)
        client.post(path, data={"csrf": csrf_of(page.text)})
        assert "What we collect about you, Alex Rivera" in client.get("/portal").text
