"""The auditor's probe against devices in a network namespace this test creates: a telnet and
an SSH login from the Mirai list, a router page behind admin:admin, a broker with a default
password file, and a clean device that must not be reported."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import run
from goodthings.assessment.probe import Bounds, ScopeError, run_probe, scope_of
from goodthings.core import ledger
from goodthings.runtime import Hub
from probe_hosts import SUBNET, device_lan, mosquitto_config, wait_for

HOSTS = Path(__file__).parent.parent / "probe_hosts.py"
TELNET, SSH, HTTP, MQTT, CLEAN = (f"{SUBNET}.{n}" for n in (2, 3, 4, 5, 6))
TARGETS = [f"{SUBNET}.2/31", f"{SUBNET}.4/31", f"{SUBNET}.6/32"]


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    logs = tmp_path_factory.mktemp("devices")
    strong = secrets.token_urlsafe(24)
    with device_lan(["2", "3", "4", "5", "6"]) as lan:
        started = [
            (TELNET, 23, lan.run(sys.executable, str(HOSTS), "telnet", TELNET, "root", "xc3511", directory=logs)),
            (SSH, 22, lan.run(sys.executable, str(HOSTS), "ssh", SSH, "admin", "admin", directory=logs)),
            (HTTP, 80, lan.run(sys.executable, str(HOSTS), "http", HTTP, "admin", "admin", directory=logs)),
            (CLEAN, 22, lan.run(sys.executable, str(HOSTS), "ssh", CLEAN, "owner", strong, directory=logs)),
            (MQTT, 1883, lan.run("mosquitto", "-c", str(mosquitto_config(logs / "mqtt", MQTT, "admin", "admin")), directory=logs)),
        ]  # fmt: skip
        try:
            for address, port, process in started:
                wait_for(address, port, process)
            yield
        finally:
            for _, _, process in started:
                process.terminate()
            for _, _, process in started:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_the_probe_finds_every_default_login_and_nothing_on_the_clean_device(
    devices: None,
) -> None:
    report = run_probe(scope_of(TARGETS, "A. Auditor, test", 16), Bounds(timeout=2.0))
    found = {(f.address, f.service, f.kind) for f in report.findings}
    assert found == {
        (TELNET, "telnet", "default-login"),
        (TELNET, "telnet", "cleartext"),
        (SSH, "ssh", "default-login"),
        (HTTP, "http", "default-login"),
        (HTTP, "http", "cleartext"),
        (MQTT, "mqtt", "default-login"),
        (MQTT, "mqtt", "cleartext"),
    }
    assert all(f.address != CLEAN for f in report.findings)
    assert f"{CLEAN}:22 ssh" in report.services_found
    assert report.hosts_probed == 5 and not report.stopped_early
    # Bounded: at most `attempts` tries per service found (and one anonymous try for MQTT).
    assert report.attempts <= 10 * len(report.services_found) + 1
    details = " ".join(f.detail for f in report.findings)
    assert "xc3511" not in details and "the username 'root'" in details


def test_the_attempts_are_bounded(devices: None) -> None:
    """With one try per service, only the first pair of the Mirai list (root:xc3511) is tried."""
    report = run_probe(scope_of([f"{SUBNET}.2/31"], "A. Auditor", 16), Bounds(attempts=1))
    assert report.attempts == 2
    assert {(f.address, f.kind) for f in report.findings} == {
        (TELNET, "default-login"),
        (TELNET, "cleartext"),
    }


def test_the_probe_becomes_evidence_for_the_assessment(
    devices: None, smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(smart_home.home.root)
    ran = run(
        capsys, "probe", "--home", root, "--authorised-by", "A. Auditor, city IT, 2 Dec",
        *(part for target in TARGETS for part in ("--targets", target)), "--timeout", "2",
    )  # fmt: skip
    assert ran.code == 1, ran.err
    assert f"FOUND  {TELNET}:23  telnet lets the username 'root' in" in ran.out
    with smart_home.engine.connect() as connection:
        probes = [e for e in ledger.entries(connection) if e.action == "probe.run"]
    assert probes and probes[-1].actor == "auditor:A. Auditor, city IT, 2 Dec"
    assessed = run(capsys, "assess", "--home", root, "--standard", "cra", "--json")
    assert assessed.code == 1
    verdicts = {v["provision"]: v for v in json.loads(assessed.out)["report"]["verdicts"]}
    surface = verdicts["cra-i-2-j"]
    assert surface["verdict"] == "fail"
    assert any(TELNET in item for item in surface["evidence"]["values"]["findings"])


def test_the_probe_refuses_to_run_without_authority_or_beyond_a_narrow_range() -> None:
    with pytest.raises(ScopeError, match="--authorised-by"):
        scope_of(TARGETS, "  ")
    with pytest.raises(ScopeError, match="more than 1024"):
        scope_of(["10.0.0.0/8"], "someone")
    with pytest.raises(ScopeError, match="is not an address or range"):
        scope_of(["the office"], "someone")


def test_without_a_probe_its_controls_are_not_assessed(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    assessed = run(capsys, "assess", "--home", str(smart_home.home.root), "--standard", "cra")
    assert "no auditor's probe has been run yet (`goodthings probe`)" in assessed.out
