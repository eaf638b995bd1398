"""MQTT ingest for a running hub: which broker, and the bridge that feeds the pipeline.

With no broker configured the hub runs the embedded one (amqtt) on loopback, so a first run
needs nothing installed. With `mqtt://` or `mqtts://` it joins that broker as one worker of the
shared subscription, so several `goodthings serve` processes split the load.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from goodthings.core.errors import DeploymentError
from goodthings.core.lifecycle import Lifecycle
from goodthings.ingest import EmbeddedBroker, EmbeddedBrokerError
from goodthings.ingest.mqtt import BrokerSession, MqttBridge, MqttBridgeError
from goodthings.runtime.broker_log import BrokerLogWatch, watch_denials
from goodthings.runtime.hub import Hub
from goodthings.runtime.metrics import BridgeCollector
from goodthings.security import BrokerAccess, broker_acl, broker_tls, firmware, lockout

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
    """`mqtt://[user[:password]@]host[:port]` or `mqtts://…`, with a clear error otherwise (that
    never repeats the URL: it may hold a password)."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise DeploymentError(
            "the broker URL (--mqtt, GOODTHINGS_MQTT_URL) has the scheme "
            f"{parts.scheme or '(none)'!r}: use mqtt://host:port or mqtts://host:port"
        )
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError as error:
        raise DeploymentError(f"the broker URL (--mqtt, GOODTHINGS_MQTT_URL): {error}") from None
    if not parts.hostname:
        raise DeploymentError(
            "the broker URL (--mqtt, GOODTHINGS_MQTT_URL) names no host, for example "
            "mqtt://127.0.0.1:1883"
        )
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class MqttIngest(Lifecycle):
    """The hub's MQTT side: an embedded broker when none is configured, and the bridge.

    Either way only devices with their own live credential, and the hub, get in: the embedded
    broker checks credentials itself; Mosquitto is provisioned through its dynamic-security
    plugin when the deployment has its admin credentials (docs/device-security.md).
    """

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        settings = hub.home.settings
        self._worker = settings.worker
        self._external = parse_broker_url(settings.mqtt_url) if settings.mqtt_url else None
        self._embedded_port = settings.mqtt_port
        self._embedded: EmbeddedBroker | None = None
        self._bridge: MqttBridge | None = None
        self._collector: BridgeCollector | None = None
        self._log: BrokerLogWatch | None = None
        self.address: BrokerAddress | None = None
        """Where devices publish, once started."""

    @property
    def embedded(self) -> bool:
        return self._external is None

    def start(self) -> None:
        hub_password = broker_acl.hub_broker_password(self._hub.home.keys_dir)
        tls = None
        if self._external is not None and self._external.tls:
            tls = broker_tls.broker_context(self._hub.home.settings.mqtt_ca)
            try:
                broker_tls.check_broker_certificate(self._external.host, self._external.port, tls)
            except DeploymentError as error:
                raise DeploymentError(f"MQTT broker {self._external.display()}: {error}") from None
        address = (
            self._start_embedded(hub_password)
            if self._external is None
            else self._join(self._external, hub_password)
        )
        # amqtt speaks MQTT 3.1.1 only and has no shared subscriptions: one worker there.
        external = self._external is not None
        session = BrokerSession(
            host=address.host,
            port=address.port,
            client_id=f"goodthings-hub-{self._worker}",
            username=address.username,
            password=address.password,
            tls=tls,
            shared=external,
            mqtt5=external,
        )
        self._bridge = MqttBridge(
            self._hub.writer,
            session,
            refresh_interval=self._hub.home.settings.policy_poll,
            on_birth=self._record_birth,
        )
        try:
            self._bridge.start()
        except MqttBridgeError as error:
            self._bridge = None
            self.stop()
            raise DeploymentError(f"MQTT broker {address.display()}: {error}") from error
        self._collector = BridgeCollector(self._bridge)
        self._hub.metrics.register(self._collector)
        self._hub.after_policy_change.append(self._bridge.wake)
        self.address = address
        log = self._hub.home.settings.mqtt_log
        if external and log is not None and self._hub.monitor is not None:
            self._log = watch_denials(log, self._hub.monitor.denied)
            try:
                self._log.start()
            except DeploymentError:
                self._log = None
                self.stop()
                raise

    def _record_birth(self, device_id: str, payload: bytes) -> None:
        record_birth(self._hub, device_id, payload)

    def _start_embedded(self, hub_password: str) -> BrokerAddress:
        hub = self._hub
        access = BrokerAccess(
            hub_password,
            hub.tokens.check_password,
            lockout=hub.lockout,
            on_lockout=lockout.recorder(hub.engine),
            is_quarantined=hub.pipeline.quarantined,
            on_connect=None if hub.monitor is None else hub.monitor.connected,
            on_denied=None if hub.monitor is None else hub.monitor.denied,
        )
        self._embedded = EmbeddedBroker("127.0.0.1", self._embedded_port, access=access)
        hub.pipeline.on_quarantined = self._embedded.disconnect
        try:
            self._embedded.start()
        except EmbeddedBrokerError as error:
            self._embedded = None
            raise DeploymentError(
                f"{error}. Is another broker using port {self._embedded_port}? Choose "
                "another port with --mqtt-port, or use that broker with "
                "--mqtt mqtt://127.0.0.1:PORT"
            ) from error
        return BrokerAddress(
            "127.0.0.1",
            self._embedded.port,
            username=broker_acl.HUB_USERNAME,
            password=hub_password,
        )

    def _join(self, address: BrokerAddress, hub_password: str) -> BrokerAddress:
        """Provision the hub's client and lock the broker down, when we may administer it."""
        session = broker_acl.admin_session(self._hub.home.settings)
        if session is None:
            return address  # the operator manages the broker's clients; the URL says who we are
        if self._hub.monitor is not None:
            settings = self._hub.home.settings
            gate = broker_acl.DynsecGate(lambda: broker_acl.admin_session(settings))
            self._hub.monitor.brokers.append(gate)
        with session as dynsec:
            dynsec.lock_down()
            dynsec.provision_hub(hub_password)
            with self._hub.engine.connect() as connection:
                broker_acl.revoke_retired(connection, dynsec)
        return replace(address, username=broker_acl.HUB_USERNAME, password=hub_password)

    def stop(self) -> None:
        """Commit and acknowledge what was taken, then stop the broker if it is ours."""
        if self._log is not None:
            self._log.stop()
            self._log = None
        if self._collector is not None:
            self._hub.metrics.unregister(self._collector)
            self._collector = None
        try:
            if self._bridge is not None:
                if self._bridge.wake in self._hub.after_policy_change:
                    self._hub.after_policy_change.remove(self._bridge.wake)
                self._bridge.stop()
        finally:
            self._bridge = None
            if self._embedded is not None:
                self._hub.pipeline.on_quarantined = None
                self._embedded.stop()
                self._embedded = None


def record_birth(hub: Hub, device_id: str, payload: bytes) -> None:
    """A device's firmware report (`gt/<device>/birth`), as `POST /birth` records it."""
    version = firmware.parse_birth(payload)
    with hub.engine.begin() as connection:
        firmware.record_birth(connection, device_id, version)
    if hub.monitor is not None:
        hub.monitor.birth(device_id, version)
