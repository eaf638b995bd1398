"""A quarantined device is cut off everywhere: HTTP answers 403 with the reason, the embedded
broker and a real Mosquitto (dynamic security) refuse it, and a release lets it back in."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from brokers import mosquitto
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.ingest.broker import EmbeddedBroker
from goodthings.runtime.hub import Hub
from goodthings.security.amqtt_access import BrokerAccess
from goodthings.security.broker_acl import DynamicSecurity, DynsecGate, new_hub_password
from goodthings.security.credentials import issue_token
from goodthings.security.monitoring import quarantine, release
from goodthings.security.tokens import TokenVerifier
from goodthings.web.app import create_app
from mqtt_peers import Peer
from templates import init_from_template

REASON = "it sent far more than usual"


@pytest.fixture
def hub(home: Home) -> Iterator[Hub]:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    yield hub
    hub.close()


def _secret(hub: Hub, device: str) -> str:
    with hub.engine.begin() as connection:
        return issue_token(connection, device)


def test_http_ingest_answers_403_with_the_reason_and_stores_nothing(home: Home) -> None:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {_secret(hub, 'thermostat-1')}"}
        body = json.dumps([{"bt": time.time(), "n": "temperature", "v": 21.5}])
        quarantine(hub.engine, hub.signer, "thermostat-1", reason=REASON, actor="operator:ana")
        refused = client.post("/ingest", content=body, headers=headers)
        assert refused.status_code == 403
        assert REASON in refused.json()["error"]
        assert "nothing it sends is kept" in refused.json()["error"]
        with hub.engine.connect() as connection:
            count = select(func.count()).select_from(t.readings)
            assert connection.execute(count).scalar_one() == 0
        release(hub.engine, hub.signer, "thermostat-1", reason="battery swapped", actor="op")
        assert client.post("/ingest", content=body, headers=headers).status_code < 300


def test_the_embedded_broker_refuses_a_quarantined_device(hub: Hub) -> None:
    secret = _secret(hub, "meter-1")
    hub_password = new_hub_password()
    access = BrokerAccess(
        hub_password,
        TokenVerifier(hub.engine, ttl=0).check_password,
        is_quarantined=hub.pipeline.quarantined,
    )
    with EmbeddedBroker(access=access) as broker:
        hub.pipeline.on_quarantined = broker.disconnect  # as the hub's MQTT ingest wires it

        def peer(username: str, password: str) -> Peer:
            return Peer(broker.host, broker.port, username, password, mqtt5=False)

        with (
            peer("goodthings-hub", hub_password) as listener,
            peer("meter-1", secret) as device,
            peer("thermostat-1", _secret(hub, "thermostat-1")) as other,
        ):
            assert listener.connect() and listener.subscribe("gt/+/up")
            assert device.connect() and other.connect()
            # By the operator in another process: this hub learns of it at its next refresh.
            quarantine(hub.engine, hub.signer, "meter-1", reason=REASON, actor="op")
            hub.pipeline.refresh()
            assert device._gone.wait(10), "the embedded broker kept the quarantined device on"
            assert not other._gone.is_set(), "a device that was not quarantined was cut off"
            assert other.publish("gt/thermostat-1/up", b"still here")
            assert listener.next_message()[0] == "gt/thermostat-1/up"
        with peer("meter-1", secret) as again:
            assert not again.connect()
        release(hub.engine, hub.signer, "meter-1", reason="checked", actor="op")
        hub.pipeline.refresh()
        with peer("meter-1", secret) as released:
            assert released.connect()


def test_mosquitto_disables_a_quarantined_device_and_enables_it_on_release(
    hub: Hub, tmp_path: Path
) -> None:
    with mosquitto(tmp_path, dynamic_security=True) as broker:
        admin = str(broker.admin_password)
        gate = DynsecGate(lambda: DynamicSecurity(broker.host, broker.port, "admin", admin))
        secret = _secret(hub, "meter-1")
        with DynamicSecurity(broker.host, broker.port, "admin", admin) as dynsec:
            dynsec.provision_device("meter-1", secret)
        with Peer(broker.host, broker.port, "meter-1", secret) as device:
            assert device.connect()
            quarantine(hub.engine, hub.signer, "meter-1", reason=REASON, actor="op", brokers=[gate])
            assert device._gone.wait(10), "the broker kept the quarantined device connected"
        with Peer(broker.host, broker.port, "meter-1", secret) as again:
            assert not again.connect()
        release(hub.engine, hub.signer, "meter-1", reason="checked", actor="op", brokers=[gate])
        with Peer(broker.host, broker.port, "meter-1", secret) as released:
            assert released.connect()
