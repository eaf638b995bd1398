"""Consent in advance with the real pipeline: a changed consent reaches the device's retained
policy even when the ingest path reloads the gate first (it does so every 50 ms under load)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from brokers import Broker, mosquitto
from goodthings.core.config import Home
from goodthings.ingest.mqtt import BrokerSession, MqttBridge
from goodthings.ingest.mqtt.policies import PolicyPublisher
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub
from templates import init_from_template

CHANGE = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation")


class HeartRatePolicy:
    """What band-alex has been told about heart_rate, in order."""

    def __init__(self, broker: Broker) -> None:
        self.seen: list[bool] = []
        self._changed = threading.Condition()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.subscribe("gt/band-alex/policy", qos=1)
        self._client.loop_start()

    def _on_message(self, _client: object, _userdata: object, message: paho.MQTTMessage) -> None:
        collect = json.loads(message.payload)["streams"]["heart_rate"]["collect"]
        with self._changed:
            self.seen.append(bool(collect))
            self._changed.notify_all()

    def wait_for(self, collect: bool, timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: bool(self.seen) and self.seen[-1] is collect, timeout
            )

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    home = Home(tmp_path / "smart-home")
    init_from_template(home, "smart-home")
    opened = Hub.open(home)
    yield opened
    opened.close()


def test_withdrawal_is_published_even_when_the_ingest_path_reloaded_the_gate_first(
    tmp_path: Path, hub: Hub
) -> None:
    with mosquitto(tmp_path) as broker:
        session = BrokerSession(host=broker.host, port=broker.port, client_id="hub-push")
        bridge = MqttBridge(hub.pipeline, session, refresh_interval=0.3)
        with bridge:
            watch = HeartRatePolicy(broker)
            try:
                assert watch.wait_for(collect=False)
                consent.give(hub.engine, hub.signer, CHANGE)
                hub.pipeline.refresh()  # as an ingest would, before the bridge's own refresh
                assert watch.wait_for(collect=True), watch.seen
                consent.withdraw(hub.engine, hub.signer, CHANGE)
                hub.pipeline.refresh()
                assert watch.wait_for(collect=False), watch.seen
            finally:
                watch.close()
    assert watch.seen == [False, True, False]


def test_a_policy_the_client_refused_is_published_on_the_next_round(hub: Hub) -> None:
    """A full outgoing queue (paho's MQTT_ERR_QUEUE_SIZE) refuses a publish; the policy must go
    out on the next round rather than wait for the next consent change."""
    sent: dict[str, bytes] = {}
    refusing = {"gt/band-alex/policy"}

    def publish(topic: str, body: bytes) -> bool:
        if topic in refusing:
            return False
        sent[topic] = body
        return True

    publisher = PolicyPublisher(hub.pipeline, publish)
    publisher.publish_changes()
    assert "gt/band-alex/policy" not in sent
    refusing.clear()
    assert publisher.publish_changes() == 1
    assert "gt/band-alex/policy" in sent
    assert publisher.publish_changes() == 0, "once sent, not sent again"
