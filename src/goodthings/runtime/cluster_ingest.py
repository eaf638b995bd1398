"""Ingest from a NATS JetStream broker cluster, for a running hub (`serve --cluster`).

Devices speak MQTT to any node; the hub pulls what the cluster stored from JetStream, as one
worker of the durable consumer every worker shares, and publishes policies over MQTT to the
nodes' listeners named by `--mqtt` (a comma-separated list, tried in turn).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from goodthings.core.errors import DeploymentError
from goodthings.core.lifecycle import Lifecycle
from goodthings.ingest.cluster import ClusterBridge, ClusterBridgeError, ClusterSession, Listener
from goodthings.runtime.hub import Hub
from goodthings.runtime.metrics import BridgeCollector
from goodthings.runtime.mqtt_ingest import BrokerAddress, MqttIngest, record_birth
from goodthings.security import broker_tls

_NATS_SCHEMES = ("nats", "tls")
_MQTT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def parse_cluster_urls(url: str) -> tuple[str, ...]:
    """`nats://[user:password@]host:port,host:port,...`: one client URL per node, with a clear
    error otherwise (that never repeats the URL: it may hold a password)."""
    first = urlsplit(url.split(",")[0].strip())
    if first.scheme not in _NATS_SCHEMES:
        raise DeploymentError(
            "the cluster URL (--cluster, GOODTHINGS_CLUSTER_URL) has the scheme "
            f"{first.scheme or '(none)'!r}: use nats://host:4222,host:4222,... (or tls://)"
        )
    servers = []
    for item in (part.strip() for part in url.split(",")):
        full = item if "://" in item else f"{first.scheme}://{item}"
        parts = urlsplit(full)
        try:
            port = parts.port or 4222
        except ValueError as error:
            raise DeploymentError(f"the cluster URL (--cluster): {error}") from None
        if not parts.hostname or parts.scheme not in _NATS_SCHEMES:
            raise DeploymentError(
                "the cluster URL (--cluster) has an item that is not host:port, for example "
                "nats://10.0.0.1:4222,10.0.0.2:4222,10.0.0.3:4222"
            )
        auth = parts.netloc.rpartition("@")[0]
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        servers.append(f"{parts.scheme}://{auth + '@' if auth else ''}{host}:{port}")
    return tuple(servers)


def parse_listeners(url: str | None) -> tuple[tuple[Listener, ...], BrokerAddress]:
    """The nodes' MQTT listeners from `--mqtt mqtt://[user:password@]host:port,host:port`, and
    the first as an address (for the hub's credentials and for display)."""
    if not url:
        raise DeploymentError(
            "with --cluster, name the nodes' MQTT listeners with --mqtt (the hub sends devices "
            "their policies there), for example mqtt://10.0.0.1:1883,10.0.0.2:1883,10.0.0.3:1883"
        )
    items = [part.strip() for part in url.split(",")]
    first = urlsplit(items[0])
    if first.scheme not in _MQTT_PORTS:
        raise DeploymentError(
            f"the MQTT listeners (--mqtt) have the scheme {first.scheme or '(none)'!r}: use "
            "mqtt://host:1883,host:1883 or mqtts://..."
        )
    listeners = []
    for item in items:
        parts = urlsplit(item if "://" in item else f"{first.scheme}://{item}")
        try:
            port = parts.port or _MQTT_PORTS[first.scheme]
        except ValueError as error:
            raise DeploymentError(f"the MQTT listeners (--mqtt): {error}") from None
        if not parts.hostname:
            raise DeploymentError("the MQTT listeners (--mqtt) have an item that names no host")
        listeners.append(Listener(parts.hostname, port))
    address = BrokerAddress(
        host=listeners[0].host,
        port=listeners[0].port,
        tls=first.scheme == "mqtts",
        username=unquote(first.username) if first.username else None,
        password=unquote(first.password) if first.password else None,
    )
    return tuple(listeners), address


class ClusterIngest(Lifecycle):
    """The hub's side of the broker cluster: readings from JetStream, policies over MQTT.

    The cluster's own configuration says who may connect and publish where (NATS users and
    permissions); the hub does not provision device credentials there as it does for Mosquitto.
    """

    embedded = False

    def __init__(self, hub: Hub, *, ack_wait: float = 10.0) -> None:
        settings = hub.home.settings
        assert settings.cluster_url is not None
        self._hub = hub
        self._servers = parse_cluster_urls(settings.cluster_url)
        self._listeners, self._address = parse_listeners(settings.mqtt_url)
        self._worker = settings.worker
        self._ack_wait = ack_wait
        self._bridge: ClusterBridge | None = None
        self._collector: BridgeCollector | None = None
        self.address: BrokerAddress | None = None
        """Where devices publish (the first node's MQTT listener), once started."""

    def start(self) -> None:
        settings = self._hub.home.settings
        tls = broker_tls.broker_context(settings.mqtt_ca) if self._address.tls else None
        session = ClusterSession(
            servers=self._servers,
            listeners=self._listeners,
            client_id=f"goodthings-hub-{self._worker}",
            ack_wait=self._ack_wait,
            username=self._address.username,
            password=self._address.password,
            tls=tls,
        )
        bridge = ClusterBridge(
            self._hub.writer, session, on_birth=lambda d, p: record_birth(self._hub, d, p)
        )
        try:
            bridge.start()
        except ClusterBridgeError as error:
            raise DeploymentError(f"broker cluster: {error}") from error
        self._bridge = bridge
        self._collector = BridgeCollector(bridge)
        self._hub.metrics.register(self._collector)
        self.address = self._address

    def display(self) -> str:
        """The cluster's nodes without passwords, for messages."""
        return ", ".join(server.rpartition("@")[2] for server in self._servers)

    def stop(self) -> None:
        if self._collector is not None:
            self._hub.metrics.unregister(self._collector)
            self._collector = None
        if self._bridge is not None:
            bridge, self._bridge = self._bridge, None
            bridge.stop()


def ingest_for(hub: Hub) -> MqttIngest | ClusterIngest:
    """The hub's broker side as the settings ask: a broker cluster, an external broker, or the
    embedded one."""
    if hub.home.settings.cluster_url:
        return ClusterIngest(hub)
    return MqttIngest(hub)
