"""Topics a broker denies a device are counted per device per minute and found off-profile:
on the embedded broker through its plugin, on a real Mosquitto (dynamic security) through its
log. A device that keeps to its own topics is neither counted nor found."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from brokers import install_mosquitto, mosquitto
from goodthings.bench.mosquitto import private_mosquitto
from goodthings.core.errors import DeploymentError
from goodthings.core.store import monitoring
from goodthings.core.store import tables as t
from goodthings.core.store import tables_monitoring as tm
from goodthings.ingest.broker import EmbeddedBroker
from goodthings.runtime.broker_log import watch_denials
from goodthings.runtime.hub import Hub
from goodthings.runtime.mqtt_ingest import MqttIngest
from goodthings.security.amqtt_access import BrokerAccess
from goodthings.security.broker_acl import DynamicSecurity, new_hub_password
from goodthings.security.broker_log import DenialParser
from goodthings.security.credentials import issue_token
from goodthings.security.monitoring import quarantine
from goodthings.security.tokens import TokenVerifier
from mqtt_peers import Peer


def _secret(hub: Hub, device: str) -> str:
    with hub.engine.begin() as connection:
        return issue_token(connection, device)


def _off_profile(hub: Hub) -> list[dict[str, object]]:
    with hub.engine.connect() as connection:
        return [d for d in monitoring.select_detections(connection) if d["kind"] == "off-profile"]


def _denied(hub: Hub) -> dict[str, dict[str, int]]:
    assert hub.monitor is not None
    hub.monitor.flush()
    with hub.engine.connect() as connection:
        rows = connection.execute(tm.behaviour_minutes.select()).mappings().all()
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        for action, count in row["denied"].items():
            mine = totals.setdefault(row["device_id"], {})
            mine[action] = mine.get(action, 0) + count
    return totals


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _misbehave_and_behave(
    host: str, port: int, meter: str, thermostat: str, mqtt5: bool, *, granted: bool = False
) -> None:
    """meter-1 publishes to another device's topic and subscribes to everything; thermostat-1
    publishes to its own topic and subscribes to its own policy. `granted`: the broker grants
    the wildcard subscription (and filters each message on delivery instead)."""
    with Peer(host, port, "meter-1", meter, mqtt5=mqtt5) as bad:
        assert bad.connect()
        bad.publish("gt/thermostat-1/up", b'[{"n":"temperature","v":99}]')
        assert bad.subscribe("gt/#") is granted
    with Peer(host, port, "thermostat-1", thermostat, mqtt5=mqtt5) as good:
        assert good.connect()
        assert good.publish("gt/thermostat-1/up", b'[{"n":"temperature","v":21}]')
        assert good.subscribe("gt/thermostat-1/policy")


def test_the_embedded_broker_counts_denied_topics_and_the_monitor_finds_them(
    smart_home: Hub,
) -> None:
    assert smart_home.monitor is not None
    meter, thermostat = _secret(smart_home, "meter-1"), _secret(smart_home, "thermostat-1")
    access = BrokerAccess(
        new_hub_password(),
        TokenVerifier(smart_home.engine, ttl=0).check_password,
        on_denied=smart_home.monitor.denied,
    )
    with EmbeddedBroker(access=access) as broker:
        _misbehave_and_behave(broker.host, broker.port, meter, thermostat, mqtt5=False)
    assert _denied(smart_home) == {"meter-1": {"publish": 1, "subscribe": 1}}
    [found] = _off_profile(smart_home)
    assert found["device_id"] == "meter-1"
    assert found["evidence"] == {"denied": "publish", "topic": "gt/thermostat-1/up"}
    assert "the broker refused" in str(found["explanation"])


def test_mosquitto_s_log_counts_denied_topics_and_the_monitor_finds_them(
    smart_home: Hub, tmp_path: Path
) -> None:
    assert smart_home.monitor is not None
    meter, thermostat = _secret(smart_home, "meter-1"), _secret(smart_home, "thermostat-1")
    with mosquitto(tmp_path, dynamic_security=True, debug_log=True) as broker:
        admin = str(broker.admin_password)
        with DynamicSecurity(broker.host, broker.port, "admin", admin) as dynsec:
            dynsec.provision_device("meter-1", meter)
            dynsec.provision_device("thermostat-1", thermostat)
        watch = watch_denials(broker.log_path, smart_home.monitor.denied)
        watch.start()
        try:
            _misbehave_and_behave(broker.host, broker.port, meter, thermostat, mqtt5=True)
            assert _eventually(lambda: len(_off_profile(smart_home)) == 1)
            assert _eventually(
                lambda: _denied(smart_home) == {"meter-1": {"publish": 1, "subscribe": 1}}
            ), _denied(smart_home)
        finally:
            watch.stop()
    [found] = _off_profile(smart_home)
    assert found["device_id"] == "meter-1"
    assert found["evidence"] == {"denied": "publish", "topic": "gt/thermostat-1/up"}


def test_the_log_parser_knows_clients_by_their_connection_and_ignores_the_hub() -> None:
    parser = DenialParser()
    lines = [
        "1: Denied PUBLISH from early (d0, q1, r0, m1, 'gt/x/up', ... (3 bytes))",
        "2: New client connected from 127.0.0.1:5 as c1 (p2, c1, k60, u'meter-1').",
        "3: New client connected from 127.0.0.1:6 as h1 (p5, c1, k60, u'goodthings-hub').",
        "4: Received SUBSCRIBE from h1",
        "4: \tgt/+/up (QoS 1)",
        "5: Received SUBSCRIBE from c1",
        "5: \tgt/meter-1/policy (QoS 1)",
        "5: \tgt/+/policy (QoS 1)",
        "6: Denied PUBLISH from c1 (d0, q0, r0, m0, 'gt/meter-2/up', ... (2 bytes))",
        "7: Client c1 disconnected.",
        "8: Denied PUBLISH from c1 (d0, q0, r0, m0, 'gt/meter-2/up', ... (2 bytes))",
        "9: Denied PUBLISH from c1 " + "x" * 5000,
    ]
    found = [(d.username, d.action, d.topic) for line in lines for d in parser.feed(line + "\n")]
    assert found == [
        ("meter-1", "subscribe", "gt/+/policy"),
        ("meter-1", "publish", "gt/meter-2/up"),
    ]


def test_migration_0016_gives_behaviour_minutes_the_column_the_code_describes(
    smart_home: Hub,
) -> None:
    with smart_home.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), t.metadata)
    assert [d for d in differences if "behaviour_minutes" in repr(d)] == []
    assert "denied" in tm.behaviour_minutes.c


def _serving(hub: Hub, **settings: object) -> Hub:
    changed = hub.home.settings.model_copy(update=settings)
    return Hub.open(replace(hub.home, settings=changed))


def test_a_serving_hub_counts_denials_and_cuts_off_on_its_embedded_broker(
    smart_home: Hub,
) -> None:
    hub = _serving(smart_home, mqtt_url=None, mqtt_port=0)
    try:
        meter = _secret(hub, "meter-1")
        with MqttIngest(hub) as mqtt:
            assert mqtt.address is not None
            host, port = mqtt.address.host, mqtt.address.port
            with Peer(host, port, "meter-1", meter, mqtt5=False) as device:
                assert device.connect()
                device.publish("gt/front-door/up", b"[]")
                assert _eventually(lambda: len(_off_profile(hub)) == 1)
                # The operator, from another process: this hub learns of it at its refresh.
                quarantine(hub.engine, hub.signer, "meter-1", reason="probing", actor="op")
                hub.pipeline.refresh()
                assert device._gone.wait(10), "the quarantined device stayed connected"
            with Peer(host, port, "meter-1", meter, mqtt5=False) as again:
                assert not again.connect()
        assert _denied(hub) == {"meter-1": {"publish": 1}}
    finally:
        hub.close()


def test_a_serving_hub_reads_mosquitto_s_log_when_told_where_it_is(
    smart_home: Hub, tmp_path: Path
) -> None:
    with mosquitto(tmp_path, dynamic_security=True, debug_log=True) as broker:
        password_file = tmp_path / "admin.password"
        password_file.write_text(str(broker.admin_password))
        password_file.chmod(0o600)
        hub = _serving(
            smart_home,
            mqtt_url=f"mqtt://{broker.host}:{broker.port}",
            mqtt_admin_username="admin",
            mqtt_admin_password_file=password_file,
            mqtt_log=broker.log_path,
        )
        try:
            meter = _secret(hub, "meter-1")
            with MqttIngest(hub):
                admin = str(broker.admin_password)
                with DynamicSecurity(broker.host, broker.port, "admin", admin) as dynsec:
                    dynsec.provision_device("meter-1", meter)
                with Peer(broker.host, broker.port, "meter-1", meter) as device:
                    assert device.connect()
                    assert not device.publish("gt/front-door/up", b"[]")
                    assert _eventually(lambda: len(_off_profile(hub)) == 1)
            assert _denied(hub) == {"meter-1": {"publish": 1}}
        finally:
            hub.close()


def test_a_log_that_cannot_be_read_is_a_clear_error_at_start(tmp_path: Path) -> None:
    watch = watch_denials(tmp_path / "nowhere.log", lambda *_: None)
    with pytest.raises(DeploymentError, match=r"GOODTHINGS_MQTT_LOG names .*nowhere.log"):
        watch.start()


def test_a_rotated_log_is_followed_from_its_new_start(tmp_path: Path) -> None:
    log = tmp_path / "mosquitto.log"
    log.write_text("1: New client connected from 127.0.0.1:5 as c1 (p2, c1, k60, u'meter-1').\n")
    seen: list[tuple[str, str, str]] = []
    watch = watch_denials(log, lambda *denial: seen.append(denial))
    watch.start()
    try:
        denied = "Denied PUBLISH from c1 (d0, q0, r0, m0, 'gt/x/up', ... (2 bytes))\n"
        with log.open("a") as out:
            out.write(f"2: {denied}")
        assert _eventually(lambda: len(seen) == 1)
        log.rename(tmp_path / "mosquitto.log.1")
        log.write_text(
            "3: New client connected from 127.0.0.1:7 as c2 (p2, c1, k60, u'front-door').\n"
            f"3: {denied.replace('c1', 'c2')}"
        )
        assert _eventually(lambda: len(seen) == 2), seen
    finally:
        watch.stop()
    assert seen == [("meter-1", "publish", "gt/x/up"), ("front-door", "publish", "gt/x/up")]


def test_mosquitto_with_an_acl_file_is_read_the_same_way(smart_home: Hub, tmp_path: Path) -> None:
    """An operator who manages Mosquitto with a password file and an ACL file of goodthings'
    rules (no dynamic security) gets the same counts from the same log lines. Mosquitto 2.0
    grants `gt/#` there and filters on delivery; the hub counts it all the same, as a
    subscription outside the device's own topics."""
    assert smart_home.monitor is not None
    meter, thermostat = _secret(smart_home, "meter-1"), _secret(smart_home, "thermostat-1")
    directory = tmp_path / "acl-broker"
    directory.mkdir()
    passwords = directory / "passwords"
    passwords.touch(mode=0o600)
    for user, secret in (("meter-1", meter), ("thermostat-1", thermostat)):
        subprocess.run(
            ["mosquitto_passwd", "-b", str(passwords), user, secret],
            check=True,
            capture_output=True,
        )
    acl = directory / "acl"
    acl.write_text(
        "pattern write gt/%u/up\npattern write gt/%u/birth\n"
        "pattern read gt/%u/policy\npattern read gt/%u/down\n"
    )
    settings = [
        "allow_anonymous false",
        f"password_file {passwords}",
        f"acl_file {acl}",
        "log_type debug",
    ]
    with private_mosquitto(directory, install_mosquitto(), settings=settings) as broker:
        watch = watch_denials(broker.log_path, smart_home.monitor.denied)
        watch.start()
        try:
            _misbehave_and_behave(
                broker.host, broker.port, meter, thermostat, mqtt5=True, granted=True
            )
            assert _eventually(
                lambda: _denied(smart_home) == {"meter-1": {"publish": 1, "subscribe": 1}}
            ), _denied(smart_home)
        finally:
            watch.stop()
    [found] = _off_profile(smart_home)
    assert found["device_id"] == "meter-1"
