"""The demo's simulated devices behave as a careful real device would: after losing the broker
they sign in again and ask again for their policy, so a change made meanwhile still reaches
them. A device that subscribed only once would go on sending what it was once allowed."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from brokers import install_mosquitto
from goodthings.bench.mosquitto import private_mosquitto
from goodthings.demo.simulator import SimulatedDevice, Simulator
from goodthings.demo.values import shape_for
from hubs import free_port

DEVICE = "thermostat-1"


def _publish_retained_policy(host: str, port: int, collect: bool) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="the-hub")
    client.connect(host, port)
    client.loop_start()
    try:
        policy = {"streams": {"temperature": {"collect": collect, "level": "raw", "reason": "x"}}}
        sent = client.publish(f"gt/{DEVICE}/policy", json.dumps(policy), qos=1, retain=True)
        sent.wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def test_a_device_asks_again_for_its_policy_after_the_broker_came_back(tmp_path: Path) -> None:
    binary = install_mosquitto()
    port = free_port()
    heard: list[str] = []
    told = threading.Condition()

    def say(line: str) -> None:
        with told:
            heard.append(line)
            told.notify_all()

    def wait_for(text: str, timeout: float = 30.0) -> None:
        with told:
            assert told.wait_for(lambda: any(text in line for line in heard), timeout), heard

    device = SimulatedDevice(DEVICE, "secret", (shape_for("temperature", "Cel", "number"),))
    simulator = Simulator([device], "127.0.0.1", port, interval=0.2, say=say)
    with private_mosquitto(tmp_path / "first", binary, port=port) as first:
        _publish_retained_policy(first.host, first.port, collect=True)
        simulator.start()
        try:
            wait_for(f"{DEVICE}: collecting temperature")
        except BaseException:
            simulator.stop()
            raise
    try:
        # A new broker on the same port knows nothing of the device's subscription.
        with private_mosquitto(tmp_path / "second", binary, port=port) as second:
            _publish_retained_policy(second.host, second.port, collect=False)
            wait_for(f"{DEVICE}: stopped collecting temperature")
    finally:
        simulator.stop()
