"""Several hosts on one machine: a network namespace per hub worker, joined by a bridge to the
host side, where the test runs a PostgreSQL cluster and a Mosquitto of its own.

Each namespace has one address on the bridge's subnet and nothing else: a worker there reaches
the database and the broker only over that network, as a worker on another machine would.
Everything is removed at the end, whatever failed: the processes started in the namespaces,
the namespaces (which takes their veth ends with them), the bridge, the cluster and its files.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg

from brokers import install_mosquitto
from debian import installed


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


@dataclass(frozen=True)
class Host:
    namespace: str
    address: str

    def start(
        self, command: list[str], log: Path, env: Mapping[str, str]
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as output:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, *command],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=dict(env),
                start_new_session=True,
            )


@dataclass(frozen=True)
class Network:
    host_address: str
    """The host side's address on the bridge: where PostgreSQL and the broker listen."""
    hosts: tuple[Host, ...]


def _subnet() -> str:
    """A /24 of its own per test process, so parallel runs never share addresses."""
    return f"10.215.{os.getpid() % 250}"


@contextmanager
def network(count: int) -> Iterator[Network]:
    """`count` namespaces on one bridge with the host side at .1 and host i at .(10 + i)."""
    installed("ip", "iproute2")
    tag = f"gtm{os.getpid() % 100000}"
    subnet = _subnet()
    bridge = f"{tag}b"
    namespaces = [f"{tag}n{i}" for i in range(count)]
    try:
        _ip("link", "del", bridge, check=False)
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{subnet}.1/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        hosts = []
        for i, namespace in enumerate(namespaces):
            _ip("netns", "del", namespace, check=False)
            _ip("netns", "add", namespace)
            outside, inside = f"{tag}h{i}", f"{tag}i{i}"
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", outside, "master", bridge)
            _ip("link", "set", outside, "up")
            _ip("link", "set", inside, "netns", namespace)
            address = f"{subnet}.{10 + i}"
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", inside)
            _ip("-n", namespace, "link", "set", inside, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            hosts.append(Host(namespace, address))
        yield Network(f"{subnet}.1", tuple(hosts))
    finally:
        for namespace in namespaces:
            _kill_everything_in(namespace)
            _ip("netns", "del", namespace, check=False)
        _ip("link", "del", bridge, check=False)


def _kill_everything_in(namespace: str) -> None:
    """Only the test's own processes run there: none may outlive the namespace."""
    found = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
    )
    for pid in found.stdout.split():
        with suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_cluster(address: str, subnet_hosts: str) -> Iterator[str]:
    """A cluster of its own (initdb) listening on `address`, trusting `subnet_hosts` (CIDR);
    yields a SQLAlchemy URL of its `test` database. Stopped and deleted at the end."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    initdb = str(binaries[-1]) if binaries else shutil.which("initdb")
    assert initdb is not None, "PostgreSQL's initdb is needed (Debian's postgresql package)"
    bindir = Path(initdb).parent
    data = Path(tempfile.mkdtemp(prefix="goodthings-multihost-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port(address)
    pg_ctl = [*run_as, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
        with (data / "pg_hba.conf").open("a") as rules:
            rules.write(f"host all all {subnet_hosts} trust\n")
        options = f"-p {port} -k {data} -c listen_addresses={address} -c max_connections=200"
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(data / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        dsn = f"host={address} port={port} user=postgres connect_timeout=3"
        with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as connection:
            connection.execute("create database test")
        yield f"postgresql+psycopg://postgres@{address}:{port}/test"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def mosquitto_on(address: str, directory: Path) -> Iterator[str]:
    """A Mosquitto of the test's own on `address` (shared subscriptions are MQTT 5's, always
    on); yields its mqtt:// URL."""
    binary = install_mosquitto()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port(address)
    config = directory / "mosquitto.conf"
    config.write_text(
        f"user {getpass.getuser()}\nlistener {port} {address}\nallow_anonymous true\n"
        "persistence false\n"
    )
    with (directory / "mosquitto.log").open("wb") as log:
        process = subprocess.Popen([str(binary), "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((address, port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, "Mosquitto exited at start"
                assert time.monotonic() < deadline, "Mosquitto did not start"
                time.sleep(0.05)
        yield f"mqtt://{address}:{port}"
    finally:
        process.kill()
        process.wait(10)


@dataclass
class Worker:
    """One `goodthings serve` in a namespace of its own."""

    host: Host
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://{self.host.address}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def serve_on(
    host: Host, home: Path, name: str, mqtt_url: str, env: Mapping[str, str], log: Path
) -> Worker:
    """Start `goodthings serve --worker name` on `host`; returns once /healthz answers."""
    import urllib.request

    port = free_port("127.0.0.1")  # any port: the namespace's own ports are all free
    command = [sys.executable, "-m", "goodthings", "serve", "--home", str(home)]
    command += ["--host", host.address, "--port", str(port), "--mqtt", mqtt_url, "--worker", name]
    worker = Worker(host, port, host.start(command, log, env), log)
    deadline = time.monotonic() + 90
    while True:
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker {name} exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{worker.base}/healthz", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return worker
        except OSError:
            pass
        if time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"worker {name} did not answer:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


@contextmanager
def workers() -> Iterator[list[Worker]]:
    """A list the test fills with `serve_on`'s workers, every one stopped at the end."""
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()
