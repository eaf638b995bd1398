"""Broker access control, proven on a real Mosquitto (dynamic-security plugin) and on amqtt.

The same tests run against both: a device cannot publish as another, cannot read another's
policy, and neither an unknown client nor a revoked device can connect.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from brokers import mosquitto
from cli_helpers import run
from goodthings.core.config import Home
from goodthings.ingest.broker import EmbeddedBroker
from goodthings.runtime.hub import Hub
from goodthings.security.amqtt_access import BrokerAccess
from goodthings.security.broker_acl import (
    HUB_USERNAME,
    BrokerAclError,
    DynamicSecurity,
    new_hub_password,
)
from goodthings.security.credentials import issue_token, revoke_all
from goodthings.security.lockout import LockEvent, Lockout, Scope
from goodthings.security.tokens import TokenVerifier
from mqtt_peers import Peer
from templates import init_from_template


@dataclass
class Setup:
    host: str
    port: int
    mqtt5: bool
    hub_password: str
    grant: Callable[[str], str]
    """Issue a device credential and give it to the broker; returns the secret."""
    revoke: Callable[[str], None]

    def peer(self, username: str | None, password: str | None) -> Peer:
        return Peer(self.host, self.port, username, password, mqtt5=self.mqtt5)

    def hub(self) -> Peer:
        return self.peer(HUB_USERNAME, self.hub_password)


@pytest.fixture(params=["mosquitto", "amqtt"])
def setup(request: pytest.FixtureRequest, tmp_path: Path, home: Home) -> Iterator[Setup]:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)

    def issue(device: str) -> str:
        with hub.engine.begin() as connection:
            return issue_token(connection, device)

    hub_password = new_hub_password()
    try:
        if request.param == "mosquitto":
            with (
                mosquitto(tmp_path, dynamic_security=True) as broker,
                DynamicSecurity(
                    broker.host, broker.port, "admin", str(broker.admin_password)
                ) as dynsec,
            ):
                dynsec.lock_down()
                dynsec.provision_hub(hub_password)

                def grant(device: str) -> str:
                    secret = issue(device)
                    dynsec.provision_device(device, secret)
                    return secret

                yield Setup(
                    broker.host, broker.port, True, hub_password, grant, dynsec.revoke_device
                )
        else:
            verifier = TokenVerifier(hub.engine, ttl=0)

            def revoke(device: str) -> None:
                with hub.engine.begin() as connection:
                    revoke_all(connection, device)

            access = BrokerAccess(hub_password, verifier.check_password)
            with EmbeddedBroker(access=access) as broker:
                yield Setup(broker.host, broker.port, False, hub_password, issue, revoke)
    finally:
        hub.close()


def test_an_unknown_client_cannot_connect(setup: Setup) -> None:
    secret = setup.grant("meter-1")
    for username, password in [
        ("stranger", "anything-at-all"),
        (None, None),
        ("meter-1", secret[:-1] + "x"),
        ("thermostat-1", secret),  # another device's credential
        (HUB_USERNAME, "not-the-hub-password"),
    ]:
        with setup.peer(username, password) as peer:
            assert not peer.connect(), f"{username} connected"
    with setup.peer("meter-1", secret) as peer:
        assert peer.connect()


def test_a_device_cannot_publish_as_another(setup: Setup) -> None:
    meter = setup.grant("meter-1")
    setup.grant("thermostat-1")
    with setup.hub() as hub, setup.peer("meter-1", meter) as device:
        assert hub.connect() and device.connect()
        assert hub.subscribe("gt/+/up") and hub.subscribe("gt/+/birth")
        device.publish("gt/thermostat-1/up", b"forged")
        device.publish("gt/thermostat-1/birth", b"forged birth")
        device.publish("gt/meter-1/down", b"forged downlink")
        assert device.publish("gt/meter-1/birth", b"own birth")
        assert device.publish("gt/meter-1/up", b"own")
        assert hub.next_message() == ("gt/meter-1/birth", b"own birth")
        assert hub.next_message() == ("gt/meter-1/up", b"own")
        with pytest.raises(queue.Empty):
            hub.next_message(timeout=0.3)
        assert not device.subscribe("gt/+/up")  # nor read other devices' readings


def test_a_device_cannot_read_anothers_policy(setup: Setup) -> None:
    meter = setup.grant("meter-1")
    thermostat = setup.grant("thermostat-1")
    with setup.hub() as hub:
        assert hub.connect()
        assert hub.publish("gt/thermostat-1/policy", b"thermostat policy", retain=True)
        assert hub.publish("gt/meter-1/policy", b"meter policy", retain=True)
        with setup.peer("meter-1", meter) as device:
            assert device.connect()
            for other in ["gt/thermostat-1/policy", "gt/+/policy", "gt/#", "#"]:
                assert not device.subscribe(other), other
            assert device.subscribe("gt/meter-1/policy")
            assert device.next_message() == ("gt/meter-1/policy", b"meter policy")
            with pytest.raises(queue.Empty):
                device.next_message(timeout=0.3)
        with setup.peer("thermostat-1", thermostat) as other_device:
            assert other_device.connect()
            assert other_device.subscribe("gt/thermostat-1/policy")
            assert other_device.next_message() == ("gt/thermostat-1/policy", b"thermostat policy")


def test_a_revoked_device_cannot_connect(setup: Setup) -> None:
    secret = setup.grant("meter-1")
    with setup.peer("meter-1", secret) as device:
        assert device.connect()
    setup.revoke("meter-1")
    with setup.peer("meter-1", secret) as device:
        assert not device.connect()


def test_the_hub_may_use_a_shared_subscription_on_mosquitto(tmp_path: Path) -> None:
    with (
        mosquitto(tmp_path, dynamic_security=True) as broker,
        DynamicSecurity(broker.host, broker.port, "admin", str(broker.admin_password)) as dynsec,
    ):
        dynsec.lock_down()
        password = new_hub_password()
        dynsec.provision_hub(password)
        dynsec.provision_device("meter-1", "Quiet-Marmot-Juggles-47")
        assert set(dynsec.clients()) >= {"admin", HUB_USERNAME, "meter-1"}
        with (
            Peer(broker.host, broker.port, HUB_USERNAME, password) as hub,
            Peer(broker.host, broker.port, "meter-1", "Quiet-Marmot-Juggles-47") as device,
        ):
            assert hub.connect() and device.connect()
            assert hub.subscribe("$share/goodthings/gt/+/up")
            assert device.publish("gt/meter-1/up", b"shared")
            assert hub.next_message() == ("gt/meter-1/up", b"shared")


def test_a_wrong_admin_password_is_reported_plainly(tmp_path: Path) -> None:
    with (
        mosquitto(tmp_path, dynamic_security=True) as broker,
        pytest.raises(BrokerAclError, match="refused the admin login"),
        DynamicSecurity(broker.host, broker.port, "admin", "wrong", timeout=2),
    ):
        pass


def test_device_add_and_rotate_provision_mosquitto(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    home: Home,
) -> None:
    init_from_template(home, "smart-home")
    with mosquitto(tmp_path, dynamic_security=True) as broker:
        admin_file = tmp_path / "admin.password"
        admin_file.write_text(str(broker.admin_password))
        admin_file.chmod(0o600)
        monkeypatch.setenv("GOODTHINGS_MQTT_URL", f"mqtt://{broker.host}:{broker.port}")
        monkeypatch.setenv("GOODTHINGS_MQTT_ADMIN_USERNAME", "admin")
        monkeypatch.setenv("GOODTHINGS_MQTT_ADMIN_PASSWORD_FILE", str(admin_file))
        with DynamicSecurity(broker.host, broker.port, "admin", str(broker.admin_password)) as ds:
            ds.lock_down()
        where = ["--home", str(home.root)]
        added = run(
            capsys,
            "device",
            "add",
            "meter-2",
            "--model",
            "wattwise-m2",
            "--place",
            "flat-4",
            *where,
        )
        assert added.code == 0, added.err
        assert "may publish to gt/meter-2/up" in added.err
        first = added.out.strip()
        with Peer(broker.host, broker.port, "meter-2", first) as device:
            assert device.connect()
            assert not device.subscribe("gt/meter-1/policy")
        rotated = run(capsys, "device", "rotate", "meter-2", "--grace-hours", "0", *where)
        assert rotated.code == 0, rotated.err
        second = rotated.out.strip()
        with Peer(broker.host, broker.port, "meter-2", first) as device:
            assert not device.connect()
        with Peer(broker.host, broker.port, "meter-2", second) as device:
            assert device.connect()
        # Retiring the device in the manifest and applying it removes its broker client.
        manifest = home.manifest_path.read_text()
        block = '  - id: "meter-2"\n    model: "wattwise-m2"\n    place: "flat-4"\n    firmware: "2.4.0"\n'
        assert block in manifest
        home.manifest_path.write_text(manifest.replace(block, ""))
        applied = run(capsys, "apply", *where)
        assert applied.code == 0, applied.err
        assert "removed the client of retired device meter-2" in applied.out
        with Peer(broker.host, broker.port, "meter-2", second) as device:
            assert not device.connect()


def test_the_embedded_broker_locks_out_repeated_failures(home: Home) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        with hub.engine.begin() as connection:
            secret = issue_token(connection, "meter-1")
        recorded: list[LockEvent] = []
        access = BrokerAccess(
            new_hub_password(),
            TokenVerifier(hub.engine, ttl=0).check_password,
            lockout=Lockout(threshold=3, base=60),
            on_lockout=recorded.extend,
        )
        with EmbeddedBroker(access=access) as broker:
            for attempt in range(3):
                with Peer(
                    broker.host, broker.port, "meter-1", f"guess-{attempt}", mqtt5=False
                ) as p:
                    assert not p.connect()
            with Peer(broker.host, broker.port, "meter-1", secret, mqtt5=False) as device:
                assert not device.connect()  # locked out, even with the right credential
        scopes = sorted((e.scope.value, e.subject) for e in recorded)
        assert scopes == [("address", "127.0.0.1"), ("device", "meter-1")]
    finally:
        hub.close()


def test_a_success_on_the_embedded_broker_does_not_reset_its_address(home: Home) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        with hub.engine.begin() as connection:
            secret = issue_token(connection, "meter-1")
        access = BrokerAccess(
            new_hub_password(),
            TokenVerifier(hub.engine, ttl=0).check_password,
            lockout=Lockout(threshold=3, base=60),
        )
        with EmbeddedBroker(access=access) as broker:
            outcomes = []
            for username, password in [
                ("meter-2", "guess-0"),
                ("meter-3", "guess-1"),
                ("meter-1", secret),  # a valid sign-in between guesses…
                ("meter-2", "guess-2"),
                ("meter-1", secret),  # …bought the address no more guesses
            ]:
                with Peer(broker.host, broker.port, username, password, mqtt5=False) as peer:
                    outcomes.append(peer.connect())
        assert outcomes == [False, False, True, False, False]
    finally:
        hub.close()


def test_sign_ins_refused_while_locked_out_still_reach_the_monitor(home: Home) -> None:
    """An address locked after guesses at one device that goes on trying device after device is
    credential stuffing: the lockout refuses those tries without counting them, and the monitor
    must hear of them all the same."""
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        told: list[tuple[str, str | None]] = []
        lockout = Lockout(threshold=3, base=60)
        lockout.on_failure = lambda keys: told.append((keys[0][1], dict(keys).get(Scope.device)))
        access = BrokerAccess(
            new_hub_password(), TokenVerifier(hub.engine, ttl=0).check_password, lockout=lockout
        )
        names = ["meter-1"] * 3 + ["thermostat-1", "front-door"]
        with EmbeddedBroker(access=access) as broker:
            for attempt, name in enumerate(names):
                with Peer(broker.host, broker.port, name, f"guess-{attempt}", mqtt5=False) as p:
                    assert not p.connect()
        assert told == [("127.0.0.1", name) for name in names]
        assert lockout.retry_after((Scope.device, "thermostat-1")) == 0, "not counted"
    finally:
        hub.close()
