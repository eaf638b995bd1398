"""Simulated devices over MQTT: they publish SenML and obey the policy the hub publishes.

Each device subscribes to its retained `gt/<id>/policy` and sends only what the policy lets it
collect, at the level it allows: this is "consent in advance" seen from the device's side.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from goodthings.core.store import Catalogue
from goodthings.demo.values import StreamShape, shape_for

Say = Callable[[str], None]


@dataclass(frozen=True)
class SimulatedDevice:
    device_id: str
    credential: str
    """The device's own secret: the broker lets in no one without one."""
    streams: tuple[StreamShape, ...]


def devices_from(catalogue: Catalogue, credentials: Mapping[str, str]) -> list[SimulatedDevice]:
    return [
        SimulatedDevice(
            device.id,
            credentials[device.id],
            tuple(shape_for(s.name, s.unit, s.value_type) for s in device.streams),
        )
        for device in catalogue.devices
    ]


class Simulator:
    """Each simulated device on its own MQTT connection, as itself, as real devices would be."""

    def __init__(
        self,
        devices: Sequence[SimulatedDevice],
        host: str,
        port: int,
        *,
        interval: float = 2.0,
        say: Say = print,
    ) -> None:
        self._devices = list(devices)
        self._interval = interval
        self._say = say
        self._policies: dict[str, dict[str, dict[str, object]]] = {}
        self._told: dict[tuple[str, str], bool] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clients: dict[str, paho.Client] = {}
        self._host, self._port = host, port

    def start(self) -> None:
        for device in self._devices:
            client = paho.Client(
                CallbackAPIVersion.VERSION2, client_id=device.device_id, userdata=device.device_id
            )
            client.username_pw_set(device.device_id, device.credential)
            client.on_message = self._on_policy
            client.on_connect = self._ask_for_policy
            client.connect(self._host, self._port)
            client.loop_start()
            self._clients[device.device_id] = client
        self._thread = threading.Thread(target=self._run, name="demo-devices", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for client in self._clients.values():
            client.disconnect()
            client.loop_stop()

    @staticmethod
    def _ask_for_policy(
        client: paho.Client,
        device_id: str,
        _flags: paho.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        """On every sign-in, not only the first: a broker that restarted, or dropped the
        connection, has forgotten the subscription, and the policy may have changed meanwhile."""
        if not reason.is_failure:
            client.subscribe(f"gt/{device_id}/policy", qos=1)

    def _on_policy(
        self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage
    ) -> None:
        device_id = message.topic.split("/")[1]
        try:
            policy = json.loads(message.payload)
        except ValueError:
            return
        streams = policy.get("streams", {})
        self._policies[device_id] = streams
        for name, rule in streams.items():
            collect = bool(rule.get("collect"))
            if self._told.get((device_id, name)) != collect:
                self._told[(device_id, name)] = collect
                if collect:
                    self._say(f"{device_id}: collecting {name} ({rule.get('level')})")
                else:
                    self._say(f"{device_id}: stopped collecting {name} ({rule.get('reason')})")

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            now = time.time()
            for device in self._devices:
                allowed = self._policies.get(device.device_id)
                if allowed is None:
                    continue  # no policy yet: collect nothing until the hub says what is allowed
                records = [
                    {
                        "n": shape.name,
                        shape.field: shape.generate(now),
                        **({"u": shape.unit} if shape.unit else {}),
                    }
                    for shape in device.streams
                    if allowed.get(shape.name, {}).get("collect")
                ]
                if records:
                    records[0]["bt"] = now
                    topic = f"gt/{device.device_id}/up"
                    self._clients[device.device_id].publish(topic, json.dumps(records), qos=1)
