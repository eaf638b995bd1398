"""Who used my data: uses by applications first, in words, counted for the person's own
devices, a week per page, and nobody else's uses shown."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
from fastapi.testclient import TestClient

from goodthings.core.config import Home
from goodthings.core.keys import load_secret_root
from goodthings.core.manifest import load_manifest
from goodthings.deployment.apply import apply_manifest
from goodthings.portal import activity
from goodthings.rights.access import Grant, ReadingsQuery, read_readings
from goodthings.rights.sharing import WebhookSecrets, deliver_due, schedule
from goodthings.runtime.hub import Hub
from portal_helpers import give, send, sign_in
from templates import init_from_template


def _read(hub: Hub, application: str, stream: str, purpose: str) -> int:
    grant = Grant(application, (purpose,), time.time() + 300)
    query = ReadingsQuery(stream, purpose)
    return len(read_readings(hub.engine, hub.keyring, hub.signer, grant, query).readings)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def _section(html: str, heading: str) -> str:
    text = _text(html)
    start = text.index(heading)
    following = [text.find(h, start + 1) for h in ("Choices, sign-ins", "Routine work")]
    return text[start : min([f for f in following if f > start] or [len(text)])]


def test_an_applications_read_is_shown_first_with_who_why_how_many_and_when(
    client: TestClient, hub: Hub
) -> None:
    give(hub, ("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"))
    assert send(hub, "band-alex", "heart_rate", [61.0, 62.0, 63.0]) == 3
    assert _read(hub, "wellbeing", "heart_rate", "ServicePersonalisation") == 3
    assert _read(hub, "wellbeing", "heart_rate", "ServicePersonalisation") == 3
    sign_in(client, hub, "alex")
    html = client.get("/portal/activity").text
    uses = _section(html, "Who used your readings")
    assert "Wellbeing app used your readings (2 times)" in uses
    assert "to adjust the service to suit you" in uses and "ServicePersonalisation" not in html
    assert " 6 " in uses, "3 readings each time"
    today = datetime.now(UTC).strftime("%a %d %b")
    assert today in uses
    assert _text(html).index("Who used your readings") < _text(html).index("Routine work")


def test_another_persons_uses_are_not_shown(client: TestClient, hub: Hub) -> None:
    give(hub, ("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"))
    send(hub, "band-alex", "heart_rate", [61.0])
    _read(hub, "wellbeing", "heart_rate", "ServicePersonalisation")
    sign_in(client, hub, "sam")
    html = client.get("/portal/activity").text
    assert "Nobody used your readings in these seven days." in html
    assert "Wellbeing" not in html


def test_a_read_of_a_shared_stream_is_shown_to_everyone_it_is_about(
    client: TestClient, hub: Hub
) -> None:
    give(
        hub,
        ("alex", "wattwise-m2/power", "OptimisationForConsumer"),
        ("sam", "wattwise-m2/power", "OptimisationForConsumer"),
    )
    send(hub, "meter-1", "power", [400.0, 410.0])
    assert _read(hub, "energy-dashboard", "power", "OptimisationForConsumer") == 2
    for person in ("alex", "sam"):
        sign_in(client, hub, person)
        uses = _section(client.get("/portal/activity").text, "Who used your readings")
        assert "Energy dashboard used your readings" in uses, person
        assert "to make the service work better for you" in uses, person


def test_a_read_that_returned_nothing_of_the_persons_devices_is_not_theirs() -> None:
    counts = {"returned": 4, "returned.meter-2": 4}
    assert activity._readings_used("read", counts, ["meter-1"]) is None
    assert activity._readings_used("read", {**counts, "returned.meter-1": 1}, ["meter-1"]) == 1


def test_weeks_are_pages_and_an_empty_week_points_to_older_ones(
    client: TestClient, hub: Hub
) -> None:
    sign_in(client, hub, "alex")
    with hub.engine.connect() as connection:
        now = activity.week(connection, "alex")
        later = activity.week(
            connection, "alex", today=datetime.now(UTC).date() + timedelta(days=9)
        )
        earlier = activity.week(connection, "alex", weeks_back=1)
    assert [e.what for e in now.events] == ["You signed in to this portal"]
    assert now.end - now.start == timedelta(days=6) and not now.older
    assert later.events == [] and later.older, "the sign-in is in the week before"
    assert earlier.events == [] and earlier.end == now.start - timedelta(days=1)
    html = client.get("/portal/activity?week=1").text
    assert "The seven days after" in html and "The seven days before" not in html
    assert client.get("/portal/activity?week=-1").status_code == 422


def test_a_delivery_to_a_recipient_is_a_use_named_by_the_recipient(tmp_path: Path) -> None:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = Home(tmp_path / "home")
    init_from_template(home, "smart-home")
    text = home.manifest_path.read_text().replace(
        "  - id: northgrid-energy\n",
        f"  - id: northgrid-energy\n    webhook_url: http://127.0.0.1:{server.server_port}/hook\n",
    )
    home.manifest_path.write_text(text)
    hub = Hub.open(home)
    try:
        apply_manifest(hub.engine, load_manifest(home.manifest_path))
        hub.pipeline.refresh(force=True)
        now = time.time()
        send(hub, "meter-1", "power", [400.0, 401.0, 402.0], start=now - 120)
        assert schedule(hub.engine, now=now) >= 1
        with httpx2.Client(timeout=5.0) as client:
            secrets = WebhookSecrets(load_secret_root(home.keys_dir))
            deliver_due(hub.engine, hub.keyring, hub.signer, secrets, client, now=now)
        assert len(received) == 1
        with hub.engine.connect() as connection:
            [use] = activity.week(connection, "sam").uses
    finally:
        hub.close()
        server.shutdown()
        server.server_close()
    assert (use.who, use.what) == ("NorthGrid Energy", "received your readings")
    assert (use.purpose, use.readings) == ("to handle payments, bills and receipts", 3)
