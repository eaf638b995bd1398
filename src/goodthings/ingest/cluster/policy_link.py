"""The hub's MQTT connection to a broker cluster, for the retained policies it sends devices.

Readings come in through JetStream (`consumer.py`); policies go out over MQTT, since a retained
MQTT message is the one thing every device understands. nats-server keeps retained messages in
a replicated stream (`$MQTT_rmsgs`), so a policy published to any node reaches a device
subscribed at any other. The link speaks MQTT 3.1.1 (all nats-server 2.9 speaks) to one node at
a time and moves to the next when that one goes.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Listener:
    """One node's MQTT listener."""

    host: str
    port: int


class PolicyLink:
    """A paho client over the cluster's MQTT listeners; `on_connected` runs on each connection
    (the caller republishes every policy then: what the last client had queued went with it)."""

    def __init__(
        self,
        listeners: Sequence[Listener],
        client_id: str,
        on_connected: Callable[[], None],
        *,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if not listeners:
            raise ValueError("a policy link needs at least one MQTT listener")
        self._listeners = tuple(listeners)
        self._next = 0
        self._on_connected = on_connected
        self.connected = threading.Event()
        self._stopping = False
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        if tls is not None:
            self._client.tls_set_context(tls)
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.on_connect = self._connected
        self._client.on_disconnect = self._disconnected
        self._client.on_connect_fail = self._failed

    def start(self) -> None:
        self._stopping = False
        self._aim()
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()

    def publish(self, topic: str, body: bytes) -> bool:
        """Publish retained at QoS 1; whether it was sent or is queued to be."""
        info = self._client.publish(topic, body, qos=1, retain=True)
        return info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)

    @property
    def listener(self) -> Listener:
        """The node the link is connected to, or tries next."""
        return self._listeners[(self._next - 1) % len(self._listeners)]

    def _aim(self) -> None:
        """Point the client at the next listener; paho's loop connects there."""
        if self._stopping:
            return
        listener = self._listeners[self._next % len(self._listeners)]
        self._next += 1
        self._client.connect_async(listener.host, listener.port, keepalive=10)

    def _connected(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.warning("the cluster's MQTT listener refused the hub: %s", reason)
            self._aim()
            return
        self.connected.set()
        self._on_connected()

    def _disconnected(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if self.connected.is_set():
            logger.warning("lost the cluster's MQTT listener (%s); trying the next", reason)
        self.connected.clear()
        self._aim()

    def _failed(self, client: paho.Client, userdata: Any) -> None:
        self._aim()
