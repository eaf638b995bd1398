"""MQTT ingest for a running hub: which broker, and the bridge that feeds the pipeline.

With no broker configured the hub runs the embedded one (amqtt) on loopback, so a first run
needs nothing installed. With `mqtt://` or `mqtts://` it joins that broker as one worker of the
shared subscription, so several `goodthings serve` processes split the load.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

from goodthings.errors import DeploymentError
from goodthings.ingest.batch import Ingestor
from goodthings.ingest.broker import EmbeddedBroker, EmbeddedBrokerError
from goodthings.ingest.mqtt import MqttBridge, MqttBridgeError

_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class BrokerAddress:
    """Where the hub's MQTT client connects, and as whom."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def display(self) -> str:
        """The address without the password, for messages and logs."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """`mqtt://[user[:password]@]host[:port]` or `mqtts://…`, with a clear error otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise DeploymentError(
            f"GOODTHINGS_MQTT_URL {parts.scheme or url!r}: use mqtt://host:port or mqtts://host:port"
        )
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError as error:
        raise DeploymentError(f"GOODTHINGS_MQTT_URL: {error}") from None
    if not parts.hostname:
        raise DeploymentError(
            "GOODTHINGS_MQTT_URL names no host, for example mqtt://127.0.0.1:1883"
        )
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class MqttIngest:
    """The hub's MQTT side: an embedded broker when none is configured, and the bridge."""

    def __init__(
        self,
        ingestor: Ingestor,
        broker_url: str | None,
        *,
        worker: str = "1",
        embedded_port: int = 1883,
    ) -> None:
        self._ingestor = ingestor
        self._worker = worker
        self._embedded: EmbeddedBroker | None = None
        self._external = parse_broker_url(broker_url) if broker_url else None
        self._embedded_port = embedded_port
        self._bridge: MqttBridge | None = None
        self.address: BrokerAddress | None = None
        """Where devices publish, once started."""

    @property
    def embedded(self) -> bool:
        return self._external is None

    def start(self) -> None:
        if self._external is None:
            self._embedded = EmbeddedBroker("127.0.0.1", self._embedded_port)
            try:
                self._embedded.start()
            except EmbeddedBrokerError as error:
                self._embedded = None
                raise DeploymentError(
                    f"{error}. Is another broker using port {self._embedded_port}? Choose "
                    "another port with --mqtt-port, or use that broker with "
                    "--mqtt mqtt://127.0.0.1:PORT"
                ) from error
            address = BrokerAddress("127.0.0.1", self._embedded.port, username="goodthings-hub")
        else:
            address = self._external
        # amqtt speaks MQTT 3.1.1 only and has no shared subscriptions: one worker there.
        external = self._external is not None
        self._bridge = MqttBridge(
            self._ingestor,
            host=address.host,
            port=address.port,
            client_id=f"goodthings-hub-{self._worker}",
            username=address.username,
            password=address.password,
            tls=ssl.create_default_context() if address.tls else None,
            shared=external,
            mqtt5=external,
        )
        try:
            self._bridge.start()
        except MqttBridgeError as error:
            self._bridge = None
            self.stop()
            raise DeploymentError(f"MQTT broker {address.display()}: {error}") from error
        self.address = address

    def stop(self) -> None:
        """Commit and acknowledge what was taken, then stop the broker if it is ours."""
        try:
            if self._bridge is not None:
                self._bridge.stop()
        finally:
            self._bridge = None
            if self._embedded is not None:
                self._embedded.stop()
                self._embedded = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
