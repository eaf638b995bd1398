"""Several `serve` workers on one port (`--share-port`): each holds a listening socket of its
own on it, a device's packs are stored whichever worker answers, and when one worker dies the
port stays served by the others. Without the option, or against a program that does not share,
the port is refused before anything starts."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select

from brokers import Broker, mosquitto
from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.deployment.directory import init_deployment, open_store
from goodthings.security.credentials import issue_token
from held import wait_until
from hubs import HOST, free_port, serving

DEVICE = "thermostat-1"


@pytest.fixture
def deployment(tmp_path: Path) -> Home:
    home = Home(tmp_path / "deployment")
    init_deployment(home, "smart-home")
    return home


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with mosquitto(tmp_path) as running:
        yield running


def _token(home: Home) -> str:
    engine = open_store(home)
    try:
        with engine.begin() as connection:
            return issue_token(connection, DEVICE)
    finally:
        engine.dispose()


def _stored(home: Home) -> int:
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            count = select(func.count()).select_from(t.readings)
            return int(
                connection.execute(count.where(t.readings.c.device_id == DEVICE)).scalar_one()
            )
    finally:
        engine.dispose()


def _listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets listening on `port` (IPv4), from the kernel's own table."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(fields[9])
    return inodes


def _sockets_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _send(port: int, token: str, first: int, count: int) -> None:
    """`count` packs, each over a new connection, as many devices would send them."""
    for index in range(first, first + count):
        body = json.dumps([{"bn": f"{DEVICE}:", "bt": time.time() - 60 + index * 0.001,
                            "n": "temperature", "u": "Cel", "v": 20 + index % 5}])  # fmt: skip
        answer = httpx2.post(
            f"http://{HOST}:{port}/ingest",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/senml+json"},
            trust_env=False,
            timeout=30,
        )
        assert answer.status_code == 202, answer.text


def test_workers_sharing_a_port_each_listen_on_it_and_the_survivor_serves_alone(
    deployment: Home, broker: Broker, tmp_path: Path
) -> None:
    port = free_port()
    token = _token(deployment)
    mqtt = ("--mqtt", f"mqtt://{broker.host}:{broker.port}", "--share-port")
    with (
        serving(deployment.root, *mqtt, "--worker", "a", port=port, log=tmp_path / "a.log") as a,
        serving(deployment.root, *mqtt, "--worker", "b", port=port, log=tmp_path / "b.log") as b,
    ):
        # /healthz of the second may have been answered by the first: wait for its socket.
        wait_until(lambda: len(_listening_inodes(port)) == 2, what="both workers listening")
        listening = _listening_inodes(port)
        assert listening & _sockets_of(a.process.pid) and listening & _sockets_of(b.process.pid)
        _send(port, token, 0, 20)
        assert _stored(deployment) == 20
        a.kill()  # SIGKILL: its socket goes with it
        assert len(_listening_inodes(port)) == 1
        _send(port, token, 20, 20)
        assert _stored(deployment) == 40, "the surviving worker took every new connection"


def test_a_shared_port_needs_a_broker_every_worker_can_reach(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    ran = run(
        capsys, "serve", "--share-port", "--port", str(free_port()), "--home", str(deployment.root)
    )
    assert ran.code == 1
    assert "the hub's own broker runs in one process" in ran.err
    assert "running" not in ran.out


def test_a_port_held_by_a_program_that_does_not_share_is_refused(
    capsys: pytest.CaptureFixture[str], deployment: Home, broker: Broker
) -> None:
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        taken = int(holder.getsockname()[1])
        ran = run(
            capsys,
            "serve",
            "--share-port",
            "--port",
            str(taken),
            "--mqtt",
            f"mqtt://{broker.host}:{broker.port}",
            "--home",
            str(deployment.root),
        )
    assert ran.code == 1
    assert f"port {taken} is in use by a program that does not share it" in ran.err
    assert "running" not in ran.out
