"""A private three-node NATS JetStream cluster with MQTT on loopback, for the bench and tests.

Each node has its own ports on 127.0.0.1 and its own store under the given directory; the
machine's own nats-server service is never touched. `kill` ends one node with SIGKILL, as a
crashed machine would; `stop` ends every node that is left, whatever happened before.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from goodthings.bench.hubs import answers_healthz
from goodthings.core.errors import GoodthingsError
from goodthings.core.lifecycle import Lifecycle

HOST = "127.0.0.1"
_KNOWN_PLACES = (Path("/usr/sbin/nats-server"), Path("/usr/bin/nats-server"))


class NatsClusterError(GoodthingsError):
    """nats-server is missing, or the cluster did not form."""


@dataclass(frozen=True)
class Node:
    name: str
    client_port: int
    mqtt_port: int
    route_port: int
    monitor_port: int
    directory: Path

    @property
    def nats_url(self) -> str:
        return f"nats://{HOST}:{self.client_port}"

    @property
    def mqtt_url(self) -> str:
        return f"mqtt://{HOST}:{self.mqtt_port}"


def find_nats_server() -> Path | None:
    """nats-server on PATH or where Debian puts it (/usr/sbin is not on every PATH)."""
    found = shutil.which("nats-server")
    if found is not None:
        return Path(found)
    return next((path for path in _KNOWN_PLACES if path.exists()), None)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind((HOST, 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def node_config(node: Node, nodes: list[Node], replicas: int) -> str:
    """The node's configuration: JetStream replicated to `replicas` nodes, MQTT on loopback."""
    routes = ", ".join(f"nats-route://{HOST}:{other.route_port}" for other in nodes)
    store = node.directory / "jetstream"
    return f"""server_name: {node.name}
listen: {HOST}:{node.client_port}
http: {HOST}:{node.monitor_port}
jetstream {{
  store_dir: "{store}"
  max_memory_store: 64MB
  max_file_store: 2GB
}}
cluster {{
  name: goodthings
  listen: {HOST}:{node.route_port}
  routes: [{routes}]
}}
mqtt {{
  listen: {HOST}:{node.mqtt_port}
  # Every MQTT stream (messages, sessions, retained) on `replicas` nodes: a QoS 1 PUBACK then
  # means a quorum of them stored the message.
  stream_replicas: {replicas}
  ack_wait: "10s"
}}
"""


class NatsCluster(Lifecycle):
    """Three (or `size`) nats-server processes forming one JetStream cluster."""

    def __init__(self, directory: Path, size: int = 3, binary: Path | None = None) -> None:
        found = binary or find_nats_server()
        if found is None:
            raise NatsClusterError(
                "nats-server is not installed; install it (Debian: `apt-get install nats-server`)"
            )
        self._binary = found
        self._directory = directory
        self._size = size
        self.nodes: list[Node] = []
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}

    @property
    def nats_urls(self) -> str:
        return ",".join(node.nats_url for node in self.nodes)

    @property
    def mqtt_urls(self) -> str:
        return ",".join(node.mqtt_url for node in self.nodes)

    def start(self, timeout: float = 60.0) -> None:
        """Start every node; return once each says JetStream is current (`/healthz`)."""
        ports = _free_ports(4 * self._size)
        self.nodes = []
        for i in range(self._size):
            client, mqtt, route, monitor = ports[4 * i : 4 * i + 4]
            name = f"n{i + 1}"
            self.nodes.append(Node(name, client, mqtt, route, monitor, self._directory / name))
        try:
            for node in self.nodes:
                node.directory.mkdir(parents=True, exist_ok=True)
                config = node.directory / "nats.conf"
                config.write_text(node_config(node, self.nodes, min(3, self._size)))
                log = (node.directory / "nats.log").open("wb")
                self._logs[node.name] = log
                self._processes[node.name] = subprocess.Popen(  # noqa: S603 - our own config
                    [str(self._binary), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
                )
            deadline = time.monotonic() + timeout
            while not all(self.healthy(node) for node in self.nodes):
                for node in self.nodes:
                    if self._processes[node.name].poll() is not None:
                        raise NatsClusterError(f"node {node.name} exited:\n{self.log_tail(node)}")
                if time.monotonic() > deadline:
                    raise NatsClusterError(
                        f"the cluster did not form within {timeout:.0f} s; node n1's log:\n"
                        f"{self.log_tail(self.nodes[0])}"
                    )
                time.sleep(0.2)
            for node in self.nodes:
                self._wait_for_mqtt(node, deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_for_mqtt(self, node: Node, deadline: float) -> None:
        """Until the node accepts an MQTT client: the first one makes the account's MQTT
        streams, and a client that connects while they are being made is refused."""
        while not _mqtt_accepts(node):
            if time.monotonic() > deadline:
                raise NatsClusterError(
                    f"node {node.name} accepts no MQTT client:\n{self.log_tail(node)}"
                )
            time.sleep(0.2)

    def healthy(self, node: Node) -> bool:
        """The node answers, and its JetStream is part of the cluster and current."""
        return answers_healthz(node.monitor_port)

    def kill(self, node: Node) -> None:
        """SIGKILL, as a crash: the node gets no chance to hand anything over."""
        process = self._processes.pop(node.name, None)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        """End every node still running (SIGTERM, then SIGKILL), and close their logs."""
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        for log in self._logs.values():
            log.close()
        self._logs.clear()

    def log_tail(self, node: Node, lines: int = 30) -> str:
        path = node.directory / "nats.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _mqtt_accepts(node: Node, timeout: float = 5.0) -> bool:
    accepted = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{node.name}")

    def connected(_c: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        if not reason.is_failure:
            accepted.set()

    client.on_connect = connected
    try:
        client.connect(HOST, node.mqtt_port)
    except OSError:
        return False
    client.loop_start()
    try:
        return accepted.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
