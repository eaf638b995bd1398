"""Alerts POSTed to a webhook on loopback, signed as deliveries to recipients are."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.rights.sharing import HEADER, verify
from goodthings.runtime.hub import Hub
from monitoring_helpers import declare, pack, send
from templates import init_from_template

Received = list[tuple[bytes, str]]


@pytest.fixture
def receiver() -> Iterator[tuple[Received, int]]:
    received: Received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers[HEADER]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, int(server.server_address[1])
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_a_detection_is_posted_signed_with_the_alert_secret(
    receiver: tuple[Received, int],
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    received, port = receiver
    monkeypatch.setenv("GOODTHINGS_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{port}/alerts")
    init_from_template(home, "smart-home")
    hub = Hub.open(Home(home.root))
    try:
        declare(hub, "max_rate: 1")
        send(hub, pack("thermostat-1"))
        send(hub, pack("thermostat-1", value=22.0))
    finally:
        hub.close()  # posts what is queued
    [(body, header)] = received
    alert = json.loads(body)
    assert (alert["kind"], alert["device"], alert["action"]) == ("flood", "thermostat-1", "alert")
    assert alert["evidence"]["max_rate"] == 1
    secret = run(capsys, "monitor", "webhook-secret", "--home", str(home.root)).out.strip()
    assert verify(secret, body, header)
    assert not verify(secret, body + b" ", header)
