"""Ingest from a three-node NATS JetStream cluster: a broker node killed under load.

What matters most: a reading whose QoS 1 publish a node acknowledged (PUBACK) is stored, once,
even when the node that led the stream is killed with SIGKILL mid-load. nats-server sends the
PUBACK only after a quorum of the stream's replicas stored the message, and the hub
acknowledges its consumer only after the commit, so neither side can lose it; a delivery
repeated after the kill is dropped as a duplicate.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from goodthings.bench.nats_cluster import NatsCluster, Node
from goodthings.core.config import Home
from goodthings.core.errors import DeploymentError
from goodthings.core.store import tables as t
from goodthings.deployment.directory import open_store
from goodthings.ingest.cluster import STREAM, Listener, topic_of
from goodthings.runtime.cluster_ingest import parse_cluster_urls, parse_listeners
from held import wait_until
from hubs import clean_environment, free_port, serving
from nats_helpers import install_nats_server
from templates import init_from_template

THERMOSTAT = "thermostat-1"
"""Its temperature stream is not personal and needs no consent: values are stored in clear."""
RECORDS_PER_PACK = 5
BASE_TIME = int(time.time()) - 86400


def pack(index: int) -> bytes:
    """Pack `index`: readings at times no other pack uses, values that name the pack."""
    records: list[dict[str, object]] = [
        {"bn": f"{THERMOSTAT}:", "bt": BASE_TIME + index, "bu": "Cel", "n": "temperature"}
    ]
    records[0]["v"] = index
    records += [
        {"n": "temperature", "t": k / 100, "v": index + k / 100} for k in range(1, RECORDS_PER_PACK)
    ]
    return json.dumps(records).encode()


def readings_of(indexes: set[int]) -> set[tuple[float, float]]:
    return {
        (BASE_TIME + i + k / 100, i + k / 100) for i in indexes for k in range(RECORDS_PER_PACK)
    }


def stored(home: Home) -> list[tuple[float, float]]:
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(t.readings.c.time, t.readings.c.value).where(
                    t.readings.c.device_id == THERMOSTAT
                )
            ).all()
    finally:
        engine.dispose()
    return [(row.time, row.value) for row in rows]


class Device:
    """A device-side MQTT 3.1.1 client on one node that remembers which publishes got a PUBACK."""

    def __init__(self, node: Node, name: str) -> None:
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{THERMOSTAT}-{name}", protocol=paho.MQTTv311
        )
        self.client.max_inflight_messages_set(50)
        self._acked: set[int] = set()
        self._pack_of: dict[int, int] = {}
        self.sent = 0
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", node.mqtt_port)
        self.client.loop_start()

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, _r: object, _p: object) -> None:
        # On paho's thread, holding paho's locks: a lock of ours here could deadlock with
        # publish(). A set's add is atomic; the mid may arrive before publish() returned it.
        self._acked.add(mid)

    def publish(self, index: int) -> None:
        info = self.client.publish(f"gt/{THERMOSTAT}/up", pack(index), qos=1)
        self._pack_of[info.mid] = index
        self.sent += 1

    @property
    def acknowledged(self) -> set[int]:
        acked = set(self._acked)
        return {index for mid, index in list(self._pack_of.items()) if mid in acked}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def stream_leader(cluster: NatsCluster) -> Node:
    """The node that leads `$MQTT_msgs`: killing it is the hardest case (a new election)."""

    async def ask() -> str:
        client = await nats.connect(servers=cluster.nats_urls.split(","))
        try:
            info = await client.jetstream().stream_info(STREAM)
            assert info.cluster is not None and info.cluster.leader is not None
            return info.cluster.leader
        finally:
            await client.close()

    leader = asyncio.run(ask())
    return next(node for node in cluster.nodes if node.name == leader)


@pytest.fixture(scope="module", autouse=True)
def _nats_server_installed() -> None:
    install_nats_server()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    with NatsCluster(tmp_path / "cluster") as running:
        yield running


@pytest.fixture
def deployment(tmp_path: Path) -> Home:
    home = Home(tmp_path / "deployment")
    init_from_template(home, "smart-home")
    return home


# ---------------------------------------------------------------------------------------------
# Addresses and subjects


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("$MQTT.msgs.gt.thermostat-1.up", ("thermostat-1", "up")),
        ("$MQTT.msgs.gt.meter.birth", ("meter", "birth")),
        ("$MQTT.msgs.gt..up", None),
        ("$MQTT.msgs.gt.a.b.up", None),
        ("$MQTT.msgs.other.a.up", None),
        ("gt.thermostat-1.up", None),
        ("$MQTT.msgs./.gt.a.up", None),
    ],
)
def test_only_device_topics_name_a_device(subject: str, expected: tuple[str, str] | None) -> None:
    assert topic_of(subject) == expected


def test_cluster_urls_name_every_node_and_keep_the_credentials_in_the_url() -> None:
    assert parse_cluster_urls("nats://hub:pw@10.0.0.1:4222,10.0.0.2,tls://h3:5222") == (
        "nats://hub:pw@10.0.0.1:4222",
        "nats://10.0.0.2:4222",
        "tls://h3:5222",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mqtt://10.0.0.1:1883", "scheme 'mqtt'"),
        ("nats://a:4222,:4222", "not host:port"),
        ("nats://a:99999", "--cluster"),
    ],
)
def test_bad_cluster_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(DeploymentError, match=message) as raised:
        parse_cluster_urls(url)
    assert "99999" not in str(raised.value) or message == "--cluster"


def test_the_cluster_needs_its_mqtt_listeners_for_the_policies() -> None:
    with pytest.raises(DeploymentError, match="--mqtt"):
        parse_listeners(None)
    listeners, address = parse_listeners("mqtt://hub:secret@a:1884,b")
    assert listeners == (Listener("a", 1884), Listener("b", 1883))
    assert address.username == "hub" and "secret" not in address.display()


# ---------------------------------------------------------------------------------------------
# The cluster under load


def test_a_killed_broker_node_loses_no_acknowledged_reading_and_stores_none_twice(
    cluster: NatsCluster, deployment: Home, tmp_path: Path
) -> None:
    """Two hub workers share the durable consumer; devices publish QoS 1 to all three nodes;
    the stream's leader is killed with SIGKILL mid-load; every PUBACK'd reading ends up in the
    store exactly once, and the hub's retained policies still reach devices."""
    args = ["--cluster", cluster.nats_urls, "--mqtt", cluster.mqtt_urls]
    packs = itertools.count()
    with (
        serving(deployment.root, *args, "--worker", "a", log=tmp_path / "a.log"),
        serving(deployment.root, *args, "--worker", "b", log=tmp_path / "b.log"),
    ):
        devices = {node.name: Device(node, node.name) for node in cluster.nodes}
        try:
            victim = stream_leader(cluster)
            for _round in range(40):
                for device in devices.values():
                    device.publish(next(packs))
                time.sleep(0.01)
            wait_until(lambda: len(stored(deployment)) > 0, what="the first readings stored")
            cluster.kill(victim)
            survivors = [name for name in devices if name != victim.name]
            for _round in range(80):
                for name in survivors:
                    devices[name].publish(next(packs))
                time.sleep(0.01)
            wait_until(
                lambda: all(len(devices[n].acknowledged) == devices[n].sent for n in survivors),
                what="the surviving nodes acknowledged every publish made to them",
            )
            acknowledged = set().union(*(device.acknowledged for device in devices.values()))
            wait_until(
                lambda: readings_of(acknowledged) <= set(stored(deployment)),
                timeout=60,
                what="every acknowledged reading stored after the kill",
            )
            # A new MQTT client on a survivor waits for the cluster to elect new leaders for the
            # streams the killed node led (its sessions, the retained messages): seconds, more
            # on a loaded machine.
            policies = retained_policies(
                cluster.nodes[survivors_index(cluster, victim)], timeout=60.0
            )
        finally:
            for device in devices.values():
                device.close()
    rows = stored(deployment)
    assert len(rows) == len(set(rows)), "no reading stored twice"
    assert set(rows) <= readings_of(set(range(next(packs)))), "nothing stored that was not sent"
    assert readings_of(acknowledged) <= set(rows)
    assert len(acknowledged) > 150, "enough load went through for the kill to mean something"
    assert policies, "the hub's retained policies reach a device on a surviving node"


def survivors_index(cluster: NatsCluster, victim: Node) -> int:
    return next(i for i, node in enumerate(cluster.nodes) if node.name != victim.name)


def retained_policies(node: Node, timeout: float = 15.0) -> dict[str, bytes]:
    """What a device subscribing to `gt/+/policy` at `node` gets, retained. Right after a node
    is killed the survivors may refuse a subscription (SUBACK 0x80) until the streams it needs
    have new leaders; a device then asks again, and so does this one."""
    received: dict[str, bytes] = {}
    refused = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="policy-reader")
    client.on_message = lambda _c, _u, m: received.__setitem__(m.topic, bytes(m.payload))
    client.on_connect = lambda c, _u, _f, reason, _p: (
        None if reason.is_failure else c.subscribe("gt/+/policy", qos=1)
    )
    client.on_subscribe = lambda _c, _u, _m, codes, _p: (
        refused.set() if any(code.is_failure for code in codes) else None
    )
    client.connect("127.0.0.1", node.mqtt_port)
    client.loop_start()

    def arrived() -> bool:
        if refused.is_set():
            refused.clear()
            time.sleep(0.5)
            client.subscribe("gt/+/policy", qos=1)
        return bool(received)

    try:
        wait_until(arrived, timeout=timeout, what="a retained policy")
    finally:
        client.disconnect()
        client.loop_stop()
    return received


# ---------------------------------------------------------------------------------------------
# Refusing to start


def _serve(deployment: Home, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "goodthings", "serve", "--home", str(deployment.root)]
    return subprocess.run(
        [*command, "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=120,
        check=False,
    )


def test_serve_with_a_cluster_and_no_mqtt_listeners_says_what_to_give(deployment: Home) -> None:
    done = _serve(deployment, "--cluster", f"nats://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "--mqtt" in done.stderr and "policies" in done.stderr


def test_serve_refuses_to_start_when_the_cluster_is_not_there(deployment: Home) -> None:
    nats_port, mqtt_port = free_port(), free_port()
    done = _serve(
        deployment,
        "--cluster",
        f"nats://hub:s3cret@127.0.0.1:{nats_port}",
        "--mqtt",
        f"mqtt://127.0.0.1:{mqtt_port}",
    )
    assert done.returncode == 1
    assert f"127.0.0.1:{nats_port}" in done.stderr and "JetStream" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout, "the password is never repeated"
