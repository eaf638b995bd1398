"""Alerts by e-mail to a real SMTP server (aiosmtpd) on loopback, rate-limited."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from goodthings.core.config import Home
from goodthings.core.errors import DeploymentError
from goodthings.core.manifest.schema import Detection, Response
from goodthings.runtime.hub import Hub
from goodthings.security.monitoring import AlertMailer, Finding, Severity, Throttle
from goodthings.security.monitoring.monitor import Acted
from hubs import free_port
from monitoring_helpers import declare, pack, send
from templates import init_from_template


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        content = envelope.content
        self.messages.append(email.message_from_bytes(content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[_Inbox, int]]:
    handler = _Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _acted(severity: Severity, n: int = 1) -> Acted:
    finding = Finding(
        Detection.flood,
        severity,
        f"device hallway-1 sent {n} times its usual rate.",
        {},
        "hallway-1",
    )
    return Acted(finding, n, Response.quarantine, datetime(2026, 5, 3, 14, 2, tzinfo=UTC))


def test_an_alert_is_mailed_with_what_happened_and_what_was_done(
    inbox: tuple[_Inbox, int],
) -> None:
    handler, port = inbox
    with AlertMailer("127.0.0.1", port, "hub@example.org", ["ops@example.org"]) as mailer:
        mailer(_acted(Severity.critical, 40))
        mailer(_acted(Severity.info))  # below the mailer's severity: not mailed
    [message] = handler.messages
    assert message["Subject"] == "[goodthings] critical: flood (hallway-1)"
    assert message["To"] == "ops@example.org"
    body = message.get_payload()
    assert isinstance(body, str)
    assert "sent 40 times its usual rate" in body and "quarantined the device" in body


def test_a_storm_of_alerts_is_rate_limited_and_says_how_many_were_held(
    inbox: tuple[_Inbox, int],
) -> None:
    handler, port = inbox
    throttle = Throttle(limit=2, per=3600)
    with AlertMailer(
        "127.0.0.1", port, "hub@example.org", ["ops@example.org"], throttle=throttle
    ) as mailer:
        for n in range(5):
            mailer(_acted(Severity.critical, n))
    assert len(handler.messages) == 2
    assert throttle.held_back == 3


def test_a_hub_with_an_smtp_server_set_mails_its_detections(
    inbox: tuple[_Inbox, int], home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = inbox
    monkeypatch.setenv("GOODTHINGS_ALERT_SMTP", f"127.0.0.1:{port}")
    monkeypatch.setenv("GOODTHINGS_ALERT_MAIL_TO", "ops@example.org")
    init_from_template(home, "smart-home")
    hub = Hub.open(Home(home.root))
    try:
        declare(hub, "max_rate: 1")
        send(hub, pack("thermostat-1"))
        send(hub, pack("thermostat-1", value=22.0))
    finally:
        hub.close()  # sends what is queued
    [message] = handler.messages
    assert message["Subject"] == "[goodthings] critical: flood (thermostat-1)"


def test_an_smtp_setting_without_recipients_is_refused(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOODTHINGS_ALERT_SMTP", "127.0.0.1:25")
    init_from_template(home, "smart-home")
    with pytest.raises(DeploymentError, match="GOODTHINGS_ALERT_MAIL_TO names at least one"):
        Hub.open(Home(home.root))
