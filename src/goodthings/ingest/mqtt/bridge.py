"""The hub's MQTT client: packs from `gt/<device>/up` in, policies to `gt/<device>/policy` out.

A message is acknowledged only after the batch holding it is committed, so a crash loses no
acknowledged reading: the broker redelivers the rest to the same persistent session. A
redelivered pack may already be stored; the pipeline drops it as a duplicate. A pack the
pipeline refuses is acknowledged too: the pipeline refuses a bad pack alone and records it, so
a batch fails (and is delivered again) only when the store itself cannot take it, never
because of what one device sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from goodthings.core.lifecycle import Lifecycle
from goodthings.ingest.batch import Incoming, Ingestor
from goodthings.ingest.mqtt.births import OnBirth, record_births
from goodthings.ingest.mqtt.inbox import Batching, Inbox, Received
from goodthings.ingest.mqtt.policies import PolicyPublisher
from goodthings.ingest.mqtt.session import MAX_RETRY_DELAY, BrokerSession, connect, new_client
from goodthings.ingest.mqtt.topics import BIRTH_FILTER, UP_FILTER, device_of, subscription
from goodthings.ingest.senml import sniff

logger = logging.getLogger(__name__)

_UP_TO_500_WITHIN_20_MS = Batching()


class MqttBridgeError(RuntimeError):
    """The bridge could not reach or subscribe at its broker."""


@dataclass(frozen=True, slots=True)
class BridgeStats:
    """Counters since start, for health pages and benchmarks."""

    received: int = 0
    ignored: int = 0
    """Not `gt/<device>/up`: acknowledged without being ingested."""
    batches: int = 0
    """Batches the ingestor committed."""
    refused: int = 0
    """Packs the ingestor refused whole; acknowledged, since a redelivery would be refused too."""
    acked: int = 0
    failed_batches: int = 0
    """Batches whose ingest raised: not acknowledged, redelivered after a reconnect."""
    policies_published: int = 0
    connects: int = 0


class MqttBridge(Lifecycle):
    """Subscribe, batch, ingest, then acknowledge; publish each device's policy when it changes.

    `on_birth`, when given, also takes `gt/<device>/birth` messages and records them after the
    batch they came with.
    """

    def __init__(
        self,
        ingestor: Ingestor,
        session: BrokerSession,
        *,
        batching: Batching = _UP_TO_500_WITHIN_20_MS,
        refresh_interval: float = 0.05,
        on_birth: OnBirth | None = None,
    ) -> None:
        if refresh_interval <= 0:
            raise ValueError("refresh_interval must be more than 0")
        self._ingestor = ingestor
        self._session = session
        self._refresh_interval = refresh_interval
        self._on_birth = on_birth
        self.subscription = subscription(UP_FILTER, shared=session.shared)
        self._birth_subscription = subscription(BIRTH_FILTER, shared=session.shared)
        self._retry_delay = self._next_retry_delay = batching.retry_delay
        self._inbox = Inbox(batching)
        self._policies = PolicyPublisher(ingestor, self._publish)
        self._lock = threading.Lock()
        self._stats = BridgeStats()
        self._generation = 0
        self._closing = False
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._woken = threading.Event()
        self._connect_problem = "no answer yet"
        self._worker: threading.Thread | None = None
        self._client = self._new_client()
        self._own_disconnect = False

    # Lifecycle

    def start(self, timeout: float = 10.0) -> None:
        """Connect and subscribe; return once the broker confirmed the subscription."""
        if self._worker is not None:
            raise MqttBridgeError("the bridge is already running")
        self._stopping.clear()
        self._closing = False
        self._connect()
        self._worker = threading.Thread(target=self._work, name="goodthings-mqtt", daemon=True)
        self._worker.start()
        if not self._subscribed.wait(timeout):
            problem = self._connect_problem
            self.stop()
            raise MqttBridgeError(
                f"could not subscribe to {self.subscription} at {self._session.host}:"
                f"{self._session.port} within {timeout} s ({problem}); is the broker running "
                "and are the credentials right?"
            )

    def stop(self, timeout: float = 10.0) -> None:
        """Take no new messages, commit and acknowledge what was taken, then disconnect."""
        with self._lock:
            self._closing = True
            self._inbox.close()
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                raise MqttBridgeError(f"the bridge's worker did not finish within {timeout} s")
            self._worker = None
        self._settle_acknowledgements()
        self._own_disconnect = True
        self._client.disconnect()
        self._client.loop_stop()
        self._subscribed.clear()
        self._inbox.discard()

    def _settle_acknowledgements(self, timeout: float = 2.0) -> None:
        """Return once the broker has read every acknowledgement sent, or after `timeout`.

        A broker reads a connection's packets in order, so the answer to a repeated SUBSCRIBE
        comes after it has taken the acknowledgements sent before it. Without it, a worker
        restarted at once (or another one taking over its session) was seen to find Mosquitto
        with the last batch's acknowledgements still unread: it dropped them with the old
        connection and delivered those messages again (stored twice, were their times relative).
        Subscribing again changes nothing: same filters, and no retained message sent again.
        """
        if not (self._subscribed.is_set() and self._client.is_connected()):
            return
        self._subscribed.clear()
        self._client.subscribe(self._filters(again=True))
        if not self._subscribed.wait(timeout):
            logger.warning(
                "the MQTT broker did not answer within %.0f s before the disconnect; it may "
                "deliver the last messages again",
                timeout,
            )

    def _filters(self, *, again: bool = False) -> list[tuple[str, Any]]:
        """What the bridge subscribes to; `again`: as a repeat that asks for no retained
        message. MQTT 3.1.1 cannot ask that: a broker may send a reading a device published
        retained once more, which the closed inbox leaves unacknowledged for the next
        connection (and the store keeps one copy of a reading with absolute times)."""
        wanted = [self.subscription]
        if self._on_birth is not None:
            wanted.append(self._birth_subscription)
        if again and self._session.mqtt5:
            options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)
            return [(topic, options) for topic in wanted]
        return [(topic, 1) for topic in wanted]

    def wake(self) -> None:
        """Publish the policies that changed now, not at the next refresh (the gate reloaded
        for a change it was told of): what an obedient device obeys arrives sooner."""
        self._woken.set()
        self._inbox.wake()

    def stats(self) -> BridgeStats:
        with self._lock:
            return self._stats

    def pending(self) -> int:
        """Messages received and not yet handed to the writer: the MQTT ingest queue's depth."""
        return self._inbox.pending()

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats = _added(self._stats, increments)

    def _new_client(self) -> paho.Client:
        client = new_client(self._session)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect(self) -> None:
        """Connect a fresh client (paho leaks a socket pair when a client's loop is restarted)."""
        self._client = self._new_client()
        self._own_disconnect = False
        connect(self._client, self._session)

    # Paho's network thread

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._connect_problem = f"broker refused the connection: {reason}"
            logger.warning("MQTT broker refused the connection: %s", reason)
            return
        with self._lock:
            self._generation += 1
        if not flags.session_present:
            # A broker without our session may have lost retained policies too.
            self._policies.republish_all()
        self._count(connects=1)
        client.subscribe(self._filters())

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            self._generation += 1
        if not (self._closing or self._own_disconnect):
            logger.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(reason.is_failure for reason in reasons):
            self._connect_problem = f"subscription refused: {', '.join(map(str, reasons))}"
            logger.error("MQTT broker refused the subscription to %s", self.subscription)
            return
        self._subscribed.set()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        received_at = time.time()
        try:
            device_id = device_of(message.topic)
        except UnicodeDecodeError:
            device_id = None
        birth = None
        if device_id is None:
            born = device_of(message.topic, "birth") if self._on_birth else None
            if born is not None:
                birth = (born, bytes(message.payload))
            else:
                logger.debug("ignoring a message on a topic other than gt/<device>/up")
            incoming = None
        else:
            payload = bytes(message.payload)
            # MQTT 5's Content Type when the device set one; else (MQTT 3.1.1, such as the
            # embedded broker) the pack's first byte says whether it is CBOR, XML or JSON.
            content_type = getattr(message.properties, "ContentType", None) or sniff(payload)
            incoming = Incoming(device_id, payload, received_at, content_type)
        with self._lock:
            if self._closing:
                return  # not acknowledged: redelivered to this session next time
            ignored = incoming is None and birth is None
            self._stats = _added(self._stats, {"received": 1, "ignored": int(ignored)})
            self._inbox.put(Received(self._generation, message.mid, message.qos, incoming, birth))

    def _publish(self, topic: str, body: bytes) -> bool:
        info = self._client.publish(topic, body, qos=1, retain=True)
        # Paho keeps a QoS 1 message made while disconnected and sends it on reconnecting.
        return info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)

    # The worker thread: the only one that calls the ingestor

    def _work(self) -> None:
        next_refresh = time.monotonic()
        stop = False
        while not stop:
            wait = max(0.0, next_refresh - time.monotonic())
            batch, stop = self._inbox.take(wait)
            if batch:
                self._commit(batch)
            if self._woken.is_set():
                self._woken.clear()
                next_refresh = time.monotonic()
            if time.monotonic() >= next_refresh and not stop:
                if self._subscribed.is_set():  # else the first connection asks for every policy
                    self._count(policies_published=self._policies.publish_changes())
                next_refresh = time.monotonic() + self._refresh_interval

    def _commit(self, batch: Sequence[Received]) -> None:
        # Messages from a connection that is gone are redelivered on the new one: skip them.
        live = [item for item in batch if item.generation == self._generation]
        packs = [item.incoming for item in live if item.incoming is not None]
        if packs:
            try:
                outcome = self._ingestor.ingest(packs)
            except Exception as error:
                self._count(failed_batches=1)
                # Only the type: database errors can quote the values, and readings are personal.
                logger.error(
                    "ingesting %d packs failed (%s); not acknowledged, reconnecting in %.2f s "
                    "so that the broker redelivers them",
                    len(packs),
                    type(error).__name__,
                    self._next_retry_delay,
                )
                self._reconnect_after_failure()
                return
            self._next_retry_delay = self._retry_delay
            self._count(batches=1, refused=sum(r.refusal is not None for r in outcome.results))
        record_births(self._on_birth, [item.birth for item in live if item.birth is not None])
        acked = 0
        for item in live:
            if item.qos > 0 and item.generation == self._generation:
                self._client.ack(item.mid, item.qos)
                acked += 1
        self._count(acked=acked)

    def _reconnect_after_failure(self) -> None:
        """The broker resends unacknowledged messages only when the session is resumed."""
        delay = self._next_retry_delay
        self._next_retry_delay = min(delay * 2, MAX_RETRY_DELAY)
        self._own_disconnect = True
        self._client.disconnect()
        self._client.loop_stop()
        self._policies.republish_all()  # policies the old client had not yet sent go with it
        if self._stopping.wait(delay):
            return
        self._connect()


def _added(stats: BridgeStats, increments: dict[str, int]) -> BridgeStats:
    return replace(stats, **{name: getattr(stats, name) + n for name, n in increments.items()})
