"""`goodthings bench --cluster`: ingest over a three-node NATS JetStream cluster and PostgreSQL.

Phases, on one throwaway deployment whose database is the given (empty) PostgreSQL database:

1. one, two and three `serve --cluster` workers in turn, sharing the durable consumer: the same
   number of readings published QoS 1 spread over the three nodes, timed from the first
   publish to the last reading stored, and the store counted for exactly what was sent;
2. kill: with three workers, the node leading the cluster's message stream is killed with
   SIGKILL a third of the way through; the readings whose publish a node acknowledged (PUBACK)
   and that are not in the store are the loss (target 0), checked reading by reading.

The workers, the three nodes and the load generator share this machine's cores: on two cores
more workers cannot mean more readings per second, and the report says how many cores it had.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nats
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from goodthings.bench import scenario
from goodthings.bench.hubs import HubProcess
from goodthings.bench.load import BenchError, Say, StoreWatch
from goodthings.bench.nats_cluster import HOST, NatsCluster, Node
from goodthings.bench.runner import _directory, machine_info
from goodthings.core.store import Selection, normalise_url, open_engine, select_readings
from goodthings.ingest.cluster import STREAM

_DAY = 86400.0
_WORKERS = (1, 2, 3)


@dataclass(frozen=True)
class ClusterOptions:
    database_url: str
    """An empty PostgreSQL database: the workers of a cluster share one."""
    readings: int = 60_000
    """Readings per phase."""
    pack_size: int = 100
    keep: Path | None = None


@dataclass(frozen=True)
class ClusterReport:
    """Every figure of one run; the keys of `--json`."""

    readings: int
    pack_size: int
    readings_per_s: dict[str, float]
    """By number of workers."""
    stored_checked: bool
    """Every phase's store held exactly the readings it sent (the bench fails otherwise)."""
    kill_acknowledged: int
    """Readings whose publish a node acknowledged during the kill phase."""
    kill_lost: int
    """Of those, readings not in the store afterwards (target 0)."""
    kill_stored_twice: int
    machine: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        raw = asdict(self)
        raw["readings_per_s"] = {k: round(v, 1) for k, v in self.readings_per_s.items()}
        return raw


class NodePublisher:
    """A device-side MQTT 3.1.1 client on one node (nats-server speaks no MQTT 5) that knows
    which of its publishes were acknowledged."""

    def __init__(self, node: Node, client_id: str) -> None:
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311
        )
        self._client.max_inflight_messages_set(200)
        self._client.max_queued_messages_set(0)
        self._acked_mids: set[int] = set()
        self._pack_of: dict[int, int] = {}
        self._client.on_publish = self._on_publish
        self._client.connect(HOST, node.mqtt_port)
        self._client.loop_start()

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, _r: object, _p: object) -> None:
        # On paho's thread, holding paho's own locks: no lock of ours here, or publish() and
        # this callback would wait for each other. A set's add is atomic.
        self._acked_mids.add(mid)

    def restart(self) -> None:
        """Forget the last phase's publishes (all acknowledged, or lost with their node)."""
        self._pack_of.clear()
        self._acked_mids.clear()

    def publish(self, index: int, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=1)
        # Not connected (yet, or again): paho keeps the message and sends it on reconnecting.
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            raise BenchError(f"publishing to {topic} failed: {paho.error_string(info.rc)}")
        self._pack_of[info.mid] = index

    @property
    def acknowledged(self) -> set[int]:
        """Indexes (into the phase's messages) of the publishes acknowledged."""
        acked = set(self._acked_mids)
        return {index for mid, index in list(self._pack_of.items()) if mid in acked}

    def wait(self, timeout: float) -> bool:
        """Until every publish is acknowledged; False when some never were (the node died)."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < len(self._pack_of):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def run_cluster_bench(options: ClusterOptions, say: Say = lambda _m: None) -> ClusterReport:
    """Run the phases, check every count; raise BenchError when an acknowledged reading is lost."""
    url = normalise_url(options.database_url)
    if make_url(url).get_backend_name() != "postgresql":
        raise BenchError(
            "--cluster needs --database-url of an empty PostgreSQL database: the workers share it"
        )
    with _directory(options.keep) as root:
        return _run(root, url, options, say)


def _run(root: Path, url: str, options: ClusterOptions, say: Say) -> ClusterReport:
    n, k = options.readings, options.pack_size
    say(f"Preparing the smart-home deployment in {root}")
    setting = scenario.prepare(root, url)
    base = math.floor(time.time() - 5 * _DAY)
    engine = open_engine(setting.home.database_url)
    watch = StoreWatch(engine)
    rates: dict[str, float] = {}
    try:
        with ExitStack() as stack:
            say("cluster: starting three nats-server nodes")
            cluster = stack.enter_context(NatsCluster(root / "nats"))
            publishers = [NodePublisher(node, f"bench-{node.name}") for node in cluster.nodes]
            for publisher in publishers:
                stack.callback(publisher.close)
            hubs: list[HubProcess] = []
            for workers in _WORKERS:
                while len(hubs) < workers:
                    hub = HubProcess(
                        root,
                        str(len(hubs) + 1),
                        cluster.mqtt_urls,
                        url,
                        args=("--cluster", cluster.nats_urls),
                    )
                    stack.callback(hub.stop)
                    say(f"cluster: starting worker {hub.worker}")
                    hub.start()
                    hubs.append(hub)
                start = base + workers * _DAY / 4
                messages = _messages(setting.devices, n, k, start)
                base_id = watch.max_id()
                began = time.perf_counter()
                _publish(publishers, messages)
                done = watch.wait_for(base_id, n, alive=lambda: _alive(hubs))
                _check(watch, workers, start, n)
                rates[str(workers)] = n / (done - began)
                say(f"cluster, {workers} workers: {rates[str(workers)]:,.0f} readings/s")
            acknowledged, lost, twice = _kill_phase(
                cluster, publishers, engine, setting.devices, n, k, base + _DAY, say
            )
        machine = machine_info(engine)
    finally:
        engine.dispose()
    return ClusterReport(
        readings=n,
        pack_size=k,
        readings_per_s=rates,
        stored_checked=True,
        kill_acknowledged=acknowledged,
        kill_lost=lost,
        kill_stored_twice=twice,
        machine=machine,
    )


def _alive(hubs: Sequence[HubProcess]) -> None:
    for hub in hubs:
        hub.check_alive()


Message = tuple[str, bytes, tuple[tuple[str, float], ...]]
"""(topic, payload, the (device, time) of every reading in it)."""


def _messages(
    devices: Sequence[scenario.DeviceLoad], n: int, k: int, start: float
) -> list[Message]:
    return [
        (
            f"gt/{pack[0][0].device_id}/up",
            scenario.senml_json(pack),
            tuple((target.device_id, round(moment, 3)) for target, moment, _ in pack),
        )
        for pack in scenario.packs(devices, n, k, start)
    ]


def _publish(publishers: Sequence[NodePublisher], messages: Sequence[Message]) -> None:
    for publisher in publishers:
        publisher.restart()
    for index, (topic, payload, _) in enumerate(messages):
        publishers[index % len(publishers)].publish(index, topic, payload)
    for publisher in publishers:
        if not publisher.wait(300):
            raise BenchError("a node did not acknowledge every publish within 300 s")


def _check(watch: StoreWatch, workers: int, start: float, sent: int) -> None:
    deadline = time.monotonic() + 10
    while (stored := watch.count(start, start + _DAY / 4)) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    if stored != sent:
        raise BenchError(
            f"cluster, {workers} workers: sent {sent} readings, the store holds {stored}"
        )


def _kill_phase(
    cluster: NatsCluster,
    publishers: list[NodePublisher],
    engine: Engine,
    devices: Sequence[scenario.DeviceLoad],
    n: int,
    k: int,
    start: float,
    say: Say,
) -> tuple[int, int, int]:
    """Publish, kill the stream's leader a third of the way, count what was acknowledged and
    is not stored."""
    messages = _messages(devices, n, k, start)
    for publisher in publishers:
        publisher.restart()
    victim = _stream_leader(cluster)
    survivors = [p for p, node in zip(publishers, cluster.nodes, strict=True) if node != victim]
    say(f"kill: publishing {len(messages):,} packs; killing {victim.name} (the stream's leader)")
    targets = publishers
    for index, (topic, payload, _) in enumerate(messages):
        if index == len(messages) // 3:
            cluster.kill(victim)
            targets = survivors  # as devices would, once their node is gone
        targets[index % len(targets)].publish(index, topic, payload)
    for publisher in survivors:
        if not publisher.wait(120):
            raise BenchError("a surviving node did not acknowledge every publish within 120 s")
    acknowledged = {
        reading
        for publisher in publishers
        for index in publisher.acknowledged
        for reading in messages[index][2]
    }
    deadline = time.monotonic() + 60  # a delivery lost with the node comes again after ack_wait
    while True:
        stored = _stored(engine, start, start + _DAY / 4)
        missing = acknowledged - set(stored)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    twice = len(stored) - len(set(stored))
    say(f"kill: {len(acknowledged):,} readings acknowledged, {len(missing)} lost, {twice} twice")
    return len(acknowledged), len(missing), twice


def _stored(engine: Engine, start: float, end: float) -> list[tuple[str, float]]:
    with engine.connect() as connection:
        return [
            (row.device_id, round(row.time, 3))
            for row in select_readings(connection, Selection(start=start, end=end))
        ]


def _stream_leader(cluster: NatsCluster) -> Node:
    async def ask() -> str:
        client = await nats.connect(servers=cluster.nats_urls.split(","))
        try:
            info = await client.jetstream().stream_info(STREAM)
            leader = info.cluster.leader if info.cluster else None
            return leader or cluster.nodes[0].name
        finally:
            await client.close()

    name = asyncio.run(ask())
    return next(node for node in cluster.nodes if node.name == name)
