"""The hub's MQTT client: packs from `gt/<device>/up` in, policies to `gt/<device>/policy` out.

A message is acknowledged only after the batch holding it is committed, so a crash loses no
acknowledged reading: the broker redelivers the rest to the same persistent session. A
redelivered pack may already be stored; the pipeline drops it as a duplicate.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from goodthings.core.errors import GoodthingsError
from goodthings.core.lifecycle import Lifecycle
from goodthings.ingest.batch import SENML_JSON, Incoming, Ingestor
from goodthings.policy.decisions import DevicePolicy

logger = logging.getLogger(__name__)

UP_FILTER = "gt/+/up"
BIRTH_FILTER = "gt/+/birth"
SHARE_GROUP = "goodthings"
_MAX_RETRY_DELAY = 30.0


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


@dataclass(frozen=True, slots=True)
class _Received:
    generation: int
    """The connection it arrived on: a message ID means nothing on a later connection."""
    mid: int
    qos: int
    incoming: Incoming | None
    """None when the topic is not `gt/<device>/up`."""
    birth: tuple[str, bytes] | None = None
    """(device, payload) of a `gt/<device>/birth` message, when the bridge takes them."""


_STOP = object()


def device_of(topic: str, kind: str = "up") -> str | None:
    """The device a topic speaks for, or None unless it is exactly `gt/<device>/<kind>`."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == "gt" and parts[2] == kind and parts[1]:
        return parts[1]
    return None


class MqttBridge(Lifecycle):
    """Subscribe, batch, ingest, then acknowledge; publish each device's policy when it changes.

    Give every hub worker its own stable `client_id`: its session (and the messages the broker
    holds for it) is found again after a restart. `shared=True` lets workers split the load.
    """

    def __init__(
        self,
        ingestor: Ingestor,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "goodthings-hub",
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        shared: bool = True,
        mqtt5: bool = True,
        max_batch: int = 500,
        max_delay: float = 0.02,
        refresh_interval: float = 0.05,
        retry_delay: float = 1.0,
        receive_maximum: int = 1000,
        session_expiry: int = 86400,
        keepalive: int = 30,
        on_birth: Callable[[str, bytes], None] | None = None,
    ) -> None:
        if max_batch < 1 or max_delay < 0 or refresh_interval <= 0:
            raise ValueError("max_batch must be at least 1, max_delay >= 0, refresh_interval > 0")
        self._ingestor = ingestor
        self._host, self._port, self._keepalive = host, port, keepalive
        self._mqtt5 = mqtt5
        self.subscription = f"$share/{SHARE_GROUP}/{UP_FILTER}" if shared else UP_FILTER
        self._on_birth = on_birth
        self._birth_subscription = (
            f"$share/{SHARE_GROUP}/{BIRTH_FILTER}" if shared else BIRTH_FILTER
        )
        self._max_batch, self._max_delay = max_batch, max_delay
        self._refresh_interval = refresh_interval
        self._retry_delay = self._next_retry_delay = retry_delay
        self._queue: queue.Queue[_Received | object] = queue.Queue()
        self._lock = threading.Lock()
        self._stats = BridgeStats()
        self._generation = 0
        self._closing = False
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._connect_problem = "no answer yet"
        self._published: dict[str, bytes] = {}
        self._seen: Mapping[str, DevicePolicy] | None = None
        """The policies last published from: `Ingestor.policies` returns a new mapping when
        they change."""
        self._republish = True
        self._worker: threading.Thread | None = None
        self._client_id, self._username, self._password, self._tls = (
            client_id,
            username,
            password,
            tls,
        )
        self._session_expiry, self._receive_maximum = session_expiry, receive_maximum
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
                f"could not subscribe to {self.subscription} at {self._host}:{self._port} "
                f"within {timeout} s ({problem}); is the broker running and are the credentials right?"
            )

    def stop(self, timeout: float = 10.0) -> None:
        """Take no new messages, commit and acknowledge what was taken, then disconnect."""
        with self._lock:
            self._closing = True
            self._queue.put(_STOP)
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                raise MqttBridgeError(f"the bridge's worker did not finish within {timeout} s")
            self._worker = None
        self._own_disconnect = True
        self._client.disconnect()
        self._client.loop_stop()
        self._subscribed.clear()
        while not self._queue.empty():  # unacknowledged: the broker redelivers them
            self._queue.get_nowait()

    def stats(self) -> BridgeStats:
        with self._lock:
            return self._stats

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats = _added(self._stats, increments)

    def _new_client(self) -> paho.Client:
        if self._mqtt5:
            client = paho.Client(
                CallbackAPIVersion.VERSION2,
                client_id=self._client_id,
                protocol=paho.MQTTv5,
                manual_ack=True,
            )
        else:
            client = paho.Client(
                CallbackAPIVersion.VERSION2,
                client_id=self._client_id,
                protocol=paho.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
        if self._username is not None:
            client.username_pw_set(self._username, self._password)
        if self._tls is not None:
            client.tls_set_context(self._tls)
        client.reconnect_delay_set(min_delay=1, max_delay=int(_MAX_RETRY_DELAY))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect(self) -> None:
        """Connect a fresh client (paho leaks a socket pair when a client's loop is restarted)."""
        self._client = client = self._new_client()
        self._own_disconnect = False
        # clean_start=False always: the session must survive the hub's own restarts.
        if self._mqtt5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            # Keep the session, and what the broker holds for it, while this worker is away.
            properties.SessionExpiryInterval = self._session_expiry
            # Let the broker send many QoS 1 messages before the first batch is acknowledged.
            properties.ReceiveMaximum = self._receive_maximum
            client.connect_async(
                self._host, self._port, self._keepalive, clean_start=False, properties=properties
            )
        else:
            client.connect_async(self._host, self._port, self._keepalive)
        client.loop_start()

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
                self._republish = True
        self._count(connects=1)
        filters = [(self.subscription, 1)]
        if self._on_birth is not None:
            filters.append((self._birth_subscription, 1))
        client.subscribe(filters)

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
            content_type = getattr(message.properties, "ContentType", None) or SENML_JSON
            incoming = Incoming(device_id, bytes(message.payload), received_at, content_type)
        with self._lock:
            if self._closing:
                return  # not acknowledged: redelivered to this session next time
            ignored = incoming is None and birth is None
            self._stats = _added(self._stats, {"received": 1, "ignored": int(ignored)})
            self._queue.put(_Received(self._generation, message.mid, message.qos, incoming, birth))

    # The worker thread: the only one that calls the ingestor

    def _work(self) -> None:
        next_refresh = time.monotonic()
        stop = False
        while not stop:
            wait = max(0.0, next_refresh - time.monotonic())
            batch, stop = self._take(wait)
            if batch:
                self._commit(batch)
            if time.monotonic() >= next_refresh and not stop:
                self._publish_policies()
                next_refresh = time.monotonic() + self._refresh_interval

    def _take(self, wait: float) -> tuple[list[_Received], bool]:
        """Up to `max_batch` messages, waiting at most `max_delay` once the first arrived."""
        try:
            item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return [], False
        batch: list[_Received] = []
        deadline = time.monotonic() + self._max_delay
        while True:
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Received)
            batch.append(item)
            if len(batch) >= self._max_batch:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return batch, False
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    return batch, False

    def _commit(self, batch: Sequence[_Received]) -> None:
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
        self._record_births(live)
        acked = 0
        for item in live:
            if item.qos > 0 and item.generation == self._generation:
                self._client.ack(item.mid, item.qos)
                acked += 1
        self._count(acked=acked)

    def _record_births(self, items: Sequence[_Received]) -> None:
        """Firmware reports are worth one try each: a bad one would be just as bad again."""
        if self._on_birth is None:
            return
        for item in items:
            if item.birth is None:
                continue
            try:
                self._on_birth(*item.birth)
            except GoodthingsError as error:
                logger.warning("a birth message from %s was refused: %s", item.birth[0], error)
            except Exception as error:
                logger.error(
                    "a birth message from %s was not recorded (%s)",
                    item.birth[0],
                    type(error).__name__,
                )

    def _reconnect_after_failure(self) -> None:
        """The broker resends unacknowledged messages only when the session is resumed."""
        delay = self._next_retry_delay
        self._next_retry_delay = min(delay * 2, _MAX_RETRY_DELAY)
        self._own_disconnect = True
        self._client.disconnect()
        self._client.loop_stop()
        with self._lock:
            self._republish = True  # policies the old client had not yet sent go with it
        if self._stopping.wait(delay):
            return
        self._connect()

    def _publish_policies(self) -> None:
        """Consent in advance: a device learns what it may collect before it sends anything."""
        if not self._subscribed.is_set():
            return  # the first connection will ask for every policy anyway
        with self._lock:
            force, self._republish = self._republish, False
        try:
            changed = self._ingestor.refresh()
            policies = self._ingestor.policies()
            # The pipeline reloads the gate on its own while ingesting, and then `refresh` finds
            # nothing new: a different mapping is how the bridge learns policies changed anyway.
            if not (changed or force or policies is not self._seen):
                return
        except Exception as error:
            with self._lock:
                self._republish = self._republish or force
            logger.error("refreshing policies failed (%s); retrying", type(error).__name__)
            return
        self._seen = policies
        published = 0
        for device_id, policy in sorted(policies.items()):
            body = policy.to_json()
            if not force and self._published.get(device_id) == body:
                continue
            info = self._client.publish(f"gt/{device_id}/policy", body, qos=1, retain=True)
            # Paho keeps a QoS 1 message made while disconnected and sends it on reconnecting.
            if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                self._published[device_id] = body
                published += 1
        self._count(policies_published=published)


def _added(stats: BridgeStats, increments: dict[str, int]) -> BridgeStats:
    return replace(stats, **{name: getattr(stats, name) + n for name, n in increments.items()})
