"""MQTT ingest as `goodthings serve` runs it: broker choice, the full path, crashes, workers.

The crash test is the one that matters most: a hub killed with SIGKILL under load loses no
reading whose publish the broker acknowledged, and stores none twice.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx2
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from brokers import Broker, mosquitto
from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.errors import DeploymentError
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.deployment.directory import open_store
from goodthings.runtime.hub import Hub
from goodthings.runtime.mqtt_ingest import BrokerAddress, MqttIngest, parse_broker_url
from goodthings.security.credentials import issue_token
from held import wait_until
from hubs import clean_environment, free_port, serving
from templates import init_from_template

THERMOSTAT = "thermostat-1"
"""Its temperature stream is not personal and needs no consent: values are stored in clear."""
RECORDS_PER_PACK = 5
BASE_TIME = int(time.time()) - 86400
"""Yesterday: well inside the temperature's 30-day retention, which `serve` enforces."""


def temperature_pack(index: int) -> bytes:
    """Pack `index`: readings at absolute times no other pack uses, values that name the pack."""
    base = BASE_TIME + index
    records: list[dict[str, object]] = [{"bn": f"{THERMOSTAT}:", "bt": base, "bu": "Cel"}]
    records[0] |= {"n": "temperature", "v": index}
    records += [
        {"n": "temperature", "t": k / 100, "v": index + k / 100} for k in range(1, RECORDS_PER_PACK)
    ]
    return json.dumps(records).encode()


def temperatures(home: Home) -> list[tuple[float, float]]:
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(t.readings.c.time, t.readings.c.value)
                .join(t.streams, t.streams.c.id == t.readings.c.stream_id)
                .where(t.readings.c.device_id == THERMOSTAT, t.streams.c.name == "temperature")
            ).all()
    finally:
        engine.dispose()
    return [(row.time, row.value) for row in rows]


def ledger_totals(home: Home) -> dict[str, int]:
    """Counts summed over every ingest entry in the ledger."""
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            counts = connection.execute(
                select(t.ledger_entries.c.counts).where(t.ledger_entries.c.action == "ingest")
            ).scalars()
            totals: dict[str, int] = {}
            for entry in counts:
                for key, value in entry.items():
                    totals[key] = totals.get(key, 0) + value
            return totals
    finally:
        engine.dispose()


def reading_count(home: Home) -> int:
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(t.readings)).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.fixture
def deployment(tmp_path: Path) -> Home:
    home = Home(tmp_path / "deployment")
    init_from_template(home, "smart-home")
    return home


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with mosquitto(tmp_path) as running:
        yield running


class Publisher:
    """A device-side MQTT 5 client that remembers which publishes the broker acknowledged."""

    def __init__(
        self, host: str, port: int, *, mqtt5: bool = True, password: str | None = None
    ) -> None:
        protocol = paho.MQTTv5 if mqtt5 else paho.MQTTv311
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"device-{THERMOSTAT}", protocol=protocol
        )
        self.client.username_pw_set(THERMOSTAT, password)
        self.client.max_inflight_messages_set(100)
        self._acked_mids: set[int] = set()
        self._pack_of: dict[int, int] = {}
        self.client.on_publish = self._on_publish
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_publish(
        self, _client: paho.Client, _userdata: object, mid: int, reason: object, _p: object
    ) -> None:
        # Called on paho's thread, possibly before publish() returned the mid: no locks here.
        self._acked_mids.add(mid)

    def publish(self, index: int) -> None:
        info = self.client.publish(f"gt/{THERMOSTAT}/up", temperature_pack(index), qos=1)
        self._pack_of[info.mid] = index

    @property
    def acknowledged(self) -> set[int]:
        """The packs whose publish the broker acknowledged (PUBACK)."""
        return {self._pack_of[mid] for mid in list(self._acked_mids) if mid in self._pack_of}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# ---------------------------------------------------------------------------------------------
# Choosing the broker


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1", BrokerAddress("127.0.0.1", 1883)),
        ("mqtts://broker.test:9000", BrokerAddress("broker.test", 9000, tls=True)),
        ("mqtt://hub:s%40cret@[::1]:1884", BrokerAddress("::1", 1884, False, "hub", "s@cret")),
    ],
)
def test_broker_urls(url: str, expected: BrokerAddress) -> None:
    assert parse_broker_url(url) == expected


def test_the_password_never_appears_in_the_address_shown() -> None:
    shown = parse_broker_url("mqtt://hub:topsecret@127.0.0.1:1884").display()
    assert shown == "mqtt://hub@127.0.0.1:1884"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:1883", "use mqtt://host:port"),
        ("mqtt://127.0.0.1:99999", "out of range"),
        ("mqtt://:1883", "names no host"),
    ],
)
def test_bad_broker_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        parse_broker_url(url)


def embedded_hub(home: Home, port: int = 0) -> Hub:
    """A hub whose MQTT ingest runs the embedded broker on `port` (0: a free one)."""
    settings = home.settings.model_copy(update={"mqtt_url": None, "mqtt_port": port})
    return Hub.open(replace(home, settings=settings))


def test_a_taken_port_for_the_embedded_broker_is_a_clear_error(deployment: Home) -> None:
    hub = embedded_hub(deployment)
    try:
        with MqttIngest(hub) as first:
            assert first.address is not None
            other = embedded_hub(deployment, first.address.port)
            try:
                with pytest.raises(DeploymentError, match="--mqtt-port"):
                    MqttIngest(other).start()
            finally:
                other.close()
    finally:
        hub.close()


# ---------------------------------------------------------------------------------------------
# The full path: publish, gate, store


def test_the_embedded_broker_carries_readings_to_the_store(deployment: Home) -> None:
    hub = embedded_hub(deployment)
    with hub.engine.begin() as connection:
        credential = issue_token(connection, THERMOSTAT)
    try:
        with MqttIngest(hub) as ingest:
            assert ingest.embedded and ingest.address is not None
            publisher = Publisher(
                ingest.address.host, ingest.address.port, mqtt5=False, password=credential
            )
            try:
                for index in range(20):
                    publisher.publish(index)
                wait_until(
                    lambda: len(temperatures(deployment)) == 20 * RECORDS_PER_PACK,
                    what="every reading stored",
                )
            finally:
                publisher.close()
    finally:
        hub.close()
    assert sorted(value for _, value in temperatures(deployment))[:3] == [0, 0.01, 0.02]


def test_a_device_learns_its_policy_retained_from_the_hub(
    deployment: Home, broker: Broker, tmp_path: Path
) -> None:
    received: list[dict[str, object]] = []
    with serving(deployment.root, "--mqtt", f"mqtt://{broker.host}:{broker.port}"):
        device = Publisher(broker.host, broker.port)
        try:
            device.client.on_message = lambda _c, _u, m: received.append(json.loads(m.payload))
            device.client.subscribe(f"gt/{THERMOSTAT}/policy", qos=1)
            wait_until(lambda: bool(received), timeout=10, what="a retained policy")
        finally:
            device.close()
    streams = received[0]["streams"]
    assert isinstance(streams, dict)
    assert streams["temperature"]["collect"] is True
    assert received[0]["device"] == THERMOSTAT


def test_birth_messages_over_mqtt_record_the_firmware(
    deployment: Home, broker: Broker, tmp_path: Path
) -> None:
    def reported() -> dict[str, str]:
        engine = open_store(deployment)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    select(ts.firmware_reports.c.device_id, ts.firmware_reports.c.version)
                ).all()
        finally:
            engine.dispose()
        return {device: version for device, version in rows}

    with serving(deployment.root, "--mqtt", f"mqtt://{broker.host}:{broker.port}"):
        device = Publisher(broker.host, broker.port)
        try:
            device.client.publish(f"gt/{THERMOSTAT}/birth", b"not json", qos=1)
            device.client.publish(f"gt/{THERMOSTAT}/birth", b'{"firmware": "5.1.0"}', qos=1)
            wait_until(lambda: reported().get(THERMOSTAT) == "5.1.0", what="the firmware")
        finally:
            device.close()


# ---------------------------------------------------------------------------------------------
# Crash safety


def test_sigkill_under_load_loses_no_acknowledged_reading_and_stores_none_twice(
    deployment: Home, broker: Broker, tmp_path: Path
) -> None:
    """At least once from the broker, exactly once in the store.

    The hub acknowledges a message only after the batch holding it is committed, so a kill
    between commit and acknowledgement makes the broker deliver that message again. Readings
    carry absolute times, and the store keeps one reading per (stream, device, time): the
    redelivered copy is dropped as a duplicate and counted in the ledger.
    """
    packs = 1500
    mqtt = ["--mqtt", f"mqtt://{broker.host}:{broker.port}", "--worker", "crash"]
    log = tmp_path / "serve.log"
    publisher = Publisher(broker.host, broker.port)
    try:
        with serving(deployment.root, *mqtt, log=log) as first:
            for index in range(packs // 2):
                publisher.publish(index)
                if index % 50 == 0:
                    time.sleep(0.01)  # a steady stream rather than one burst
            wait_until(lambda: reading_count(deployment) > 0, what="the first readings")
            first.kill()  # mid-stream: some batches committed, some not yet acknowledged
        killed_with = reading_count(deployment)
        for index in range(packs // 2, packs):  # the broker queues these for the hub's session
            publisher.publish(index)
        wait_until(lambda: len(publisher.acknowledged) == packs, what="every publish acknowledged")
        with serving(deployment.root, *mqtt, log=log):
            wait_until(
                lambda: reading_count(deployment) == packs * RECORDS_PER_PACK,
                timeout=60,
                what="every reading stored after the restart",
            )
    finally:
        publisher.close()
    stored = temperatures(deployment)
    assert killed_with < packs * RECORDS_PER_PACK, "the kill came too late to test anything"
    assert len(stored) == len(set(stored)) == packs * RECORDS_PER_PACK
    expected = {
        (BASE_TIME + i + k / 100, i + k / 100)
        for i in publisher.acknowledged
        for k in range(RECORDS_PER_PACK)
    }
    assert expected <= set(stored)
    totals = ledger_totals(deployment)
    assert totals["stored"] == packs * RECORDS_PER_PACK, "the ledger agrees with the store"
    # The ledger's chain survived the kill: no entry half-written.
    verify = subprocess.run(
        [sys.executable, "-m", "goodthings", "ledger", "verify", "--home", str(deployment.root)],
        capture_output=True,
        text=True,
        env=clean_environment(),
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


# ---------------------------------------------------------------------------------------------
# Several workers


def test_two_workers_split_the_shared_subscription_and_store_everything_once(
    deployment: Home, broker: Broker, tmp_path: Path
) -> None:
    packs = 600
    url = f"mqtt://{broker.host}:{broker.port}"
    publisher = Publisher(broker.host, broker.port)
    try:
        with (
            serving(deployment.root, "--mqtt", url, "--worker", "a", log=tmp_path / "a.log"),
            serving(deployment.root, "--mqtt", url, "--worker", "b", log=tmp_path / "b.log"),
        ):
            for index in range(packs):
                publisher.publish(index)
            wait_until(
                lambda: reading_count(deployment) == packs * RECORDS_PER_PACK,
                what="every reading stored by one worker or the other",
            )
    finally:
        publisher.close()
    stored = temperatures(deployment)
    assert len(stored) == len(set(stored)) == packs * RECORDS_PER_PACK
    assert ledger_totals(deployment).get("dropped.duplicate", 0) == 0, (
        "a shared subscription delivers each message to one worker only"
    )


def _listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets listening on `port` (IPv4), from the kernel's own table."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
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


def _post_packs(port: int, token: str, indexes: range) -> None:
    """Each pack over a new connection, as many devices would send them."""
    for index in indexes:
        answer = httpx2.post(
            f"http://127.0.0.1:{port}/ingest",
            content=temperature_pack(index),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/senml+json"},
            trust_env=False,
            timeout=30,
        )
        assert answer.status_code == 202, answer.text


def test_workers_sharing_a_port_each_listen_on_it_and_the_survivor_serves_alone(
    deployment: Home, broker: Broker, tmp_path: Path
) -> None:
    """`serve --share-port`: one listening socket per worker on the same port; when one
    worker dies, the port stays served by the other."""
    port = free_port()
    engine = open_store(deployment)
    with engine.begin() as connection:
        token = issue_token(connection, THERMOSTAT)
    engine.dispose()
    mqtt = ("--mqtt", f"mqtt://{broker.host}:{broker.port}", "--share-port")
    with (
        serving(deployment.root, *mqtt, "--worker", "a", port=port, log=tmp_path / "a.log") as a,
        serving(deployment.root, *mqtt, "--worker", "b", port=port, log=tmp_path / "b.log") as b,
    ):
        # /healthz of the second may have been answered by the first: wait for its socket.
        wait_until(lambda: len(_listening_inodes(port)) == 2, what="both workers listening")
        listening = _listening_inodes(port)
        assert listening & _sockets_of(a.process.pid) and listening & _sockets_of(b.process.pid)
        _post_packs(port, token, range(20))
        assert reading_count(deployment) == 20 * RECORDS_PER_PACK
        a.kill()  # SIGKILL: its socket goes with it
        assert len(_listening_inodes(port)) == 1
        _post_packs(port, token, range(20, 40))
        assert reading_count(deployment) == 40 * RECORDS_PER_PACK, "the survivor took them all"
        b.stop()
        assert b.process.returncode == 0, b.output()  # Ctrl-C is a clean stop


def test_a_shared_port_needs_a_broker_every_worker_can_reach(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    root = str(deployment.root)
    ran = run(capsys, "serve", "--share-port", "--port", str(free_port()), "--home", root)
    assert ran.code == 1
    assert "the hub's own broker runs in one process" in ran.err
    assert "running" not in ran.out


def test_a_port_held_by_a_program_that_does_not_share_it_is_refused(
    capsys: pytest.CaptureFixture[str], deployment: Home, broker: Broker
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = int(holder.getsockname()[1])
        url = f"mqtt://{broker.host}:{broker.port}"
        ran = run(capsys, "serve", "--share-port", "--port", str(taken), "--mqtt", url,
                  "--home", str(deployment.root))  # fmt: skip
    assert ran.code == 1
    assert f"port {taken} is in use by a program that does not share it" in ran.err
    assert "running" not in ran.out


def test_the_hub_refuses_to_start_when_the_broker_is_not_there(deployment: Home) -> None:
    port = free_port()
    result = subprocess.run(
        [
            *(sys.executable, "-m", "goodthings", "serve", "--home", str(deployment.root)),
            *("--mqtt", f"mqtt://127.0.0.1:{port}", "--port", str(free_port())),
        ],
        capture_output=True,
        text=True,
        env=clean_environment() | {"PYTHONUNBUFFERED": "1"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"mqtt://127.0.0.1:{port}" in result.stderr
    assert "is the broker running" in result.stderr
