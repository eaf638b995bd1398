"""A device that hangs up halfway through its pack costs one warning line, not a traceback."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from goodthings.core.config import Home
from goodthings.security.credentials import issue_token
from goodthings.web.app import create_app
from templates import init_from_template


@pytest.fixture
def served(home: Home) -> Iterator[tuple[int, str]]:
    """The app on a free loopback port, logging through the root logger (which caplog sees)."""
    init_from_template(home, "smart-home")
    app = create_app(home)
    with app.state.hub.engine.begin() as connection:
        token = issue_token(connection, "thermostat-1")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1], token
    finally:
        server.should_exit = True
        thread.join(20)


def test_a_client_that_disconnects_mid_body_logs_one_warning(
    served: tuple[int, str], caplog: pytest.LogCaptureFixture
) -> None:
    port, token = served
    caplog.set_level(logging.WARNING)
    head = (
        "POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/senml+json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(head.encode() + b'[{"n": "temperature", "v": 2')
    deadline = time.monotonic() + 20
    while not [r for r in caplog.records if r.levelno >= logging.WARNING]:
        assert time.monotonic() < deadline, "the server logged nothing about the disconnect"
        time.sleep(0.05)
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    [message] = [r.getMessage() for r in records]
    # The server may see the hang-up before the bytes that came with it.
    assert re.fullmatch(
        r"device 'thermostat-1' disconnected after \d+ of 1000 bytes of its pack; nothing stored",
        message,
    )
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text
