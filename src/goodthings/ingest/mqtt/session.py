"""Where and as whom the hub's MQTT client connects, and the paho client that does it."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MAX_RETRY_DELAY = 30.0
"""The longest wait, in seconds, between two attempts to reach the broker."""


@dataclass(frozen=True, slots=True)
class BrokerSession:
    """Where and as whom the hub connects, and how the broker keeps its session.

    Give every hub worker its own stable `client_id`: its session (and the messages the broker
    holds for it) is found again after a restart. `shared=True` lets workers split the load.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "goodthings-hub"
    username: str | None = None
    password: str | None = None
    tls: ssl.SSLContext | None = None
    mqtt5: bool = True
    """MQTT 5; False speaks MQTT 3.1.1 (as the embedded broker does)."""
    shared: bool = True
    """Subscribe in the shared group (`$share/goodthings/...`); amqtt has no shared groups."""
    keepalive: int = 30
    session_expiry: int = 86400
    """Seconds the broker keeps the session, and what it holds for it, while the hub is away."""
    receive_maximum: int = 1000
    """QoS 1 messages the broker may send before the first batch is acknowledged (MQTT 5)."""


def new_client(session: BrokerSession) -> paho.Client:
    """A paho client for the session that acknowledges only when told to: after the commit."""
    if session.mqtt5:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=session.client_id,
            protocol=paho.MQTTv5,
            manual_ack=True,
        )
    else:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=session.client_id,
            protocol=paho.MQTTv311,
            clean_session=False,
            manual_ack=True,
        )
    if session.username is not None:
        client.username_pw_set(session.username, session.password)
    if session.tls is not None:
        client.tls_set_context(session.tls)
    client.reconnect_delay_set(min_delay=1, max_delay=int(MAX_RETRY_DELAY))
    return client


def connect(client: paho.Client, session: BrokerSession) -> None:
    """Connect in the background, resuming the session: it must survive the hub's own restarts."""
    if session.mqtt5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        # Keep the session, and what the broker holds for it, while this worker is away.
        properties.SessionExpiryInterval = session.session_expiry
        # Let the broker send many QoS 1 messages before the first batch is acknowledged.
        properties.ReceiveMaximum = session.receive_maximum
        client.connect_async(
            session.host,
            session.port,
            session.keepalive,
            clean_start=False,
            properties=properties,
        )
    else:
        client.connect_async(session.host, session.port, session.keepalive)
    client.loop_start()
