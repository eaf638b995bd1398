"""The hub's side of a NATS JetStream broker cluster: readings in from `$MQTT_msgs`, policies
out over MQTT.

Every hub worker pulls from one durable consumer (`goodthings` by default), so the workers
split the load and the cluster remembers, replicated, what was delivered and acknowledged. A
message is acknowledged only after the batch holding it is committed; one that is not (the
worker died, its node died, the ack was lost) is delivered again after `ack_wait`, to any
worker, and the pipeline drops what it already stored as a duplicate. A pack the pipeline
refuses is acknowledged too, as the MQTT bridge does: sent again, it would be refused again.

The consumer has to exist before devices publish: `$MQTT_msgs` keeps a message only while some
consumer is interested in it, so the first `serve --cluster` creates it, and it then outlives
every worker (docs/operations.md says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import Error as JetStreamError

from goodthings.ingest.batch import Incoming, Ingestor
from goodthings.ingest.cluster.policy_link import Listener, PolicyLink
from goodthings.ingest.cluster.subjects import HUB_FILTER, STREAM, topic_of
from goodthings.ingest.mqtt.births import OnBirth, record_births
from goodthings.ingest.mqtt.bridge import BridgeStats
from goodthings.ingest.mqtt.policies import PolicyPublisher
from goodthings.ingest.senml import sniff

logger = logging.getLogger(__name__)


class ClusterBridgeError(RuntimeError):
    """The hub could not reach the cluster or make its consumer there."""


@dataclass(frozen=True, slots=True)
class ClusterSession:
    """Where the cluster is, and how the hub's consumer behaves there."""

    servers: tuple[str, ...]
    """NATS client URLs of the nodes, `nats://[user:password@]host:port`."""
    listeners: tuple[Listener, ...]
    """The nodes' MQTT listeners, for the policies."""
    client_id: str = "goodthings-hub"
    durable: str = "goodthings"
    """The consumer every worker pulls from: the same name is what makes them one group."""
    ack_wait: float = 10.0
    """Seconds before a message taken and not acknowledged is delivered again."""
    max_batch: int = 500
    max_delay: float = 0.02
    """Seconds a fetch waits for a batch to fill once it is empty."""
    retry_delay: float = 1.0
    """Seconds before a failed batch is delivered again (and before reaching the cluster again)."""
    max_ack_pending: int = 20_000
    username: str | None = None
    password: str | None = None
    tls: ssl.SSLContext | None = None
    refresh_interval: float = 0.05
    """Seconds between checks for policies that changed."""


class ClusterBridge:
    """Pull, ingest, then acknowledge; publish each device's policy when it changes."""

    def __init__(
        self, ingestor: Ingestor, session: ClusterSession, *, on_birth: OnBirth | None = None
    ) -> None:
        self._ingestor = ingestor
        self._session = session
        self._on_birth = on_birth
        self._policies = PolicyPublisher(ingestor, self._publish)
        self._link = PolicyLink(
            session.listeners,
            f"{session.client_id}-policies",
            self._policies.republish_all,
            username=session.username,
            password=session.password,
            tls=session.tls,
        )
        self._lock = threading.Lock()
        self._stats = BridgeStats()
        self._pending = 0
        self._ready = threading.Event()
        self._problem = "no answer yet"
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Connect and make (or find) the consumer; return once the first fetch can run."""
        if self._thread is not None:
            raise ClusterBridgeError("the cluster bridge is already running")
        self._stopping.clear()
        self._link.start()
        self._thread = threading.Thread(target=self._run, name="goodthings-cluster", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            problem = self._problem
            with contextlib.suppress(ClusterBridgeError):  # the reason to give is the one below
                self.stop(timeout=2.0)
            raise ClusterBridgeError(
                f"could not make the consumer {self._session.durable!r} on {STREAM} at "
                f"{', '.join(_without_password(url) for url in self._session.servers)} within {timeout} s ({problem}); is the "
                "cluster running with JetStream and MQTT enabled?"
            )

    def stop(self, timeout: float = 15.0) -> None:
        """Finish the batch in hand (committed, acknowledged), then disconnect."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise ClusterBridgeError(f"the cluster bridge did not finish within {timeout} s")
            self._thread = None
        self._link.stop()
        self._ready.clear()

    def stats(self) -> BridgeStats:
        with self._lock:
            return self._stats

    def pending(self) -> int:
        """Messages fetched and not yet committed."""
        with self._lock:
            return self._pending

    def _count(self, **increments: int) -> None:
        with self._lock:
            stats = self._stats
            self._stats = replace(
                stats, **{name: getattr(stats, name) + n for name, n in increments.items()}
            )

    def _publish(self, topic: str, body: bytes) -> bool:
        return self._link.publish(topic, body)

    # The bridge's own thread and event loop: the only ones that call the ingestor

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        client = await self._connect()
        if client is None:
            return
        try:
            subscription = await self._subscribe(client.jetstream(timeout=5))
            if subscription is None:
                return
            self._ready.set()
            await self._pull(client, subscription)
        finally:
            await client.close()

    async def _connect(self) -> NatsClient | None:
        session = self._session

        async def disconnected() -> None:
            logger.warning("lost a node of the broker cluster; reconnecting to another")

        async def failed(error: Exception) -> None:
            self._problem = f"{type(error).__name__}: {error}"

        while not self._stopping.is_set():
            try:
                # nats-py retries a first connection too: bounded, so that `stop` is heard.
                connecting = nats.connect(
                    servers=list(session.servers),
                    name=session.client_id,
                    user=session.username,
                    password=session.password,
                    tls=session.tls,
                    connect_timeout=2,
                    reconnect_time_wait=0.5,
                    max_reconnect_attempts=-1,
                    disconnected_cb=disconnected,
                    error_cb=failed,
                )
                client = await asyncio.wait_for(connecting, 2.0 * len(session.servers) + 1.0)
            except (NatsError, OSError) as error:
                self._problem = f"{type(error).__name__}: {error}"
                await self._pause(session.retry_delay)
                continue
            self._count(connects=1)
            return client
        return None

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription | None:
        session = self._session
        config = ConsumerConfig(
            durable_name=session.durable,
            filter_subject=HUB_FILTER,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=session.ack_wait,
            max_ack_pending=session.max_ack_pending,
            max_waiting=512,
        )
        while not self._stopping.is_set():
            try:
                return await js.pull_subscribe(
                    HUB_FILTER, durable=session.durable, stream=STREAM, config=config
                )
            except (NatsError, JetStreamError, OSError) as error:
                # Right after the cluster starts, the MQTT streams may not exist yet.
                self._problem = f"{type(error).__name__}: {error}"
                await self._pause(session.retry_delay)
        return None

    async def _pull(self, client: NatsClient, sub: JetStreamContext.PullSubscription) -> None:
        session = self._session
        next_refresh = time.monotonic()
        while not self._stopping.is_set():
            try:
                messages = await sub.fetch(session.max_batch, timeout=session.max_delay)
            except (NatsTimeout, TimeoutError):  # nothing to take within max_delay
                messages = []
            except (NatsError, JetStreamError, OSError) as error:
                logger.warning("fetching from the cluster failed (%s)", type(error).__name__)
                await self._pause(min(session.retry_delay, 0.5))
                messages = []
            if messages:
                await self._commit(client, messages)
            if time.monotonic() >= next_refresh:
                if self._link.connected.is_set():
                    self._count(policies_published=self._policies.publish_changes())
                next_refresh = time.monotonic() + session.refresh_interval

    async def _commit(self, client: NatsClient, messages: Sequence[Msg]) -> None:
        received_at = time.time()
        packs: list[Incoming] = []
        births: list[tuple[str, bytes]] = []
        ignored = 0
        for message in messages:
            found = topic_of(message.subject)
            kind = found[1] if found else None
            if found is not None and kind == "up":
                packs.append(Incoming(found[0], message.data, received_at, sniff(message.data)))
            elif found is not None and kind == "birth" and self._on_birth is not None:
                births.append((found[0], message.data))
            else:
                ignored += 1
        with self._lock:
            self._pending = len(messages)
        self._count(received=len(messages), ignored=ignored)
        if packs:
            try:
                outcome = self._ingestor.ingest(packs)
            except Exception as error:
                self._count(failed_batches=1)
                # Only the type: database errors can quote the values, and readings are personal.
                logger.error(
                    "ingesting %d packs failed (%s); not acknowledged, delivered again in %.2f s",
                    len(packs),
                    type(error).__name__,
                    self._session.retry_delay,
                )
                for message in messages:
                    await message.nak(delay=self._session.retry_delay)
                with self._lock:
                    self._pending = 0
                return
            self._count(batches=1, refused=sum(r.refusal is not None for r in outcome.results))
        record_births(self._on_birth, births)
        try:
            for message in messages:
                await message.ack()
            await client.flush(timeout=5)
        except (NatsError, OSError) as error:
            # Committed, so a redelivery is dropped as a duplicate: nothing is lost.
            logger.warning("acknowledging a committed batch failed (%s)", type(error).__name__)
        with self._lock:
            self._pending = 0
        self._count(acked=len(messages))

    async def _pause(self, seconds: float) -> None:
        """Sleep, but not past `stop()`."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.05))


def _without_password(url: str) -> str:
    """A node's URL for messages and logs: the credentials left out."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
