"""The auditor's probe against devices in a network namespace this test creates: a telnet and
an SSH login from the Mirai list, a router page behind admin:admin, a broker with a default
password file, and a clean device that must not be reported for a login (it also listens on a
port its declared usage does not name, which only a probe told its usage reports)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import run
from goodthings.assessment.assess import probed_usage
from goodthings.assessment.evidence import Verdict
from goodthings.assessment.probe import (
    Bounds,
    DeclaredUsage,
    ScopeError,
    run_probe,
    scope_of,
)
from goodthings.core import ledger
from goodthings.runtime import Hub
from goodthings.security.mud import check_mud
from probe_hosts import SUBNET, device_lan, mosquitto_config, wait_for

HOSTS = Path(__file__).parent.parent / "probe_hosts.py"
TELNET, SSH, HTTP, MQTT, CLEAN = (f"{SUBNET}.{n}" for n in (2, 3, 4, 5, 6))
TARGETS = [f"{SUBNET}.2/31", f"{SUBNET}.4/31", f"{SUBNET}.6/32"]
UNDECLARED = 8443
"""A port the clean device listens on that its MUD file does not name."""
MODEL = "wattwise-m2"
CLEAN_MUD = {
    "ietf-mud:mud": {
        "mud-version": 1,
        "mud-url": f"https://maker.example/mud/{MODEL}.json",
        "last-update": "2026-12-01T00:00:00Z",
        "is-supported": True,
        "systeminfo": "WattWise M2",
        "from-device-policy": {"access-lists": {"access-list": [{"name": "from"}]}},
        "to-device-policy": {"access-lists": {"access-list": [{"name": "to"}]}},
    },
    "ietf-access-control-list:acls": {
        "acl": [
            {
                "name": "from",
                "type": "ipv4-acl-type",
                "aces": {"ace": [{
                    "name": "hub",
                    "matches": {"ipv4": {"ietf-acldns:dst-dnsname": "hub.example"},
                                "tcp": {"destination-port": {"operator": "eq", "port": 1883}}},
                    "actions": {"forwarding": "accept"},
                }]},
            },
            {
                "name": "to",
                "type": "ipv4-acl-type",
                "aces": {"ace": [{
                    "name": "ssh-from-the-controller",
                    "matches": {"ietf-mud:mud": {"my-controller": [None]},
                                "tcp": {"destination-port": {"operator": "eq", "port": 22}}},
                    "actions": {"forwarding": "accept"},
                }]},
            },
        ]
    },
}  # fmt: skip
"""The clean device's declared usage: it opens MQTT to the hub and may be reached on SSH."""


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
            (CLEAN, UNDECLARED, lan.run(sys.executable, str(HOSTS), "open", CLEAN, str(UNDECLARED), "-", directory=logs)),
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
    usage = DeclaredUsage("model x", frozenset({22}))
    with pytest.raises(ScopeError, match="outside the ranges given"):
        run_probe(scope_of([f"{SUBNET}.2/32"], "someone"), usage={CLEAN: usage})


def test_without_a_probe_its_controls_are_not_assessed(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    assessed = run(capsys, "assess", "--home", str(smart_home.home.root), "--standard", "cra")
    assert "no auditor's probe has been run yet (`goodthings probe`)" in assessed.out


def test_a_port_the_declared_usage_does_not_name_is_a_finding(devices: None) -> None:
    """Told the clean device's declared usage (SSH only), the probe looks at more ports on it
    and reports the one listening that the usage does not name; SSH is not reported."""
    usage = DeclaredUsage.of_mud(check_mud(CLEAN_MUD), f"model {MODEL}")
    assert usage.ports == frozenset({22})
    report = run_probe(
        scope_of([f"{CLEAN}/32"], "A. Auditor", 16),
        Bounds(timeout=2.0, ports=(UNDECLARED, 8883)),
        usage={CLEAN: usage},
    )
    assert [(f.address, f.port, f.kind) for f in report.findings] == [
        (CLEAN, UNDECLARED, "undeclared-port")
    ]
    assert f"model {MODEL}" in report.findings[0].detail
    assert report.usage_checked == (f"{CLEAN}: model {MODEL} (declared TCP ports: 22)",)
    # Without its usage, the probe has nothing to compare the port with and says nothing.
    plain = run_probe(
        scope_of([f"{CLEAN}/32"], "A. Auditor", 16), Bounds(timeout=2.0, ports=(UNDECLARED,))
    )
    assert plain.findings == () and plain.usage_checked == ()


def test_the_undeclared_port_is_the_evidence_for_unused_interfaces(
    devices: None, smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    root = smart_home.home.root
    argv = ["probe", "--home", str(root), "--authorised-by", "A. Auditor, city IT, 2 Dec"]
    argv += ["--targets", f"{CLEAN}/32", "--timeout", "2"]
    missing = run(capsys, *argv, "--device", f"{CLEAN}={MODEL}")
    assert missing.code == 1 and f"no MUD file kept for model {MODEL!r}" in missing.err
    (root / "mud").mkdir(exist_ok=True)
    (root / "mud" / f"{MODEL}.json").write_text(json.dumps(CLEAN_MUD))
    ran = run(capsys, *argv, "--device", f"{CLEAN}={MODEL}", "--port", str(UNDECLARED))
    assert ran.code == 1, ran.err
    assert f"FOUND  {CLEAN}:{UNDECLARED}  port {UNDECLARED} is open" in ran.out
    assessed = run(capsys, "assess", "--home", str(root), "--standard", "etsi", "--json")
    verdicts = {v["provision"]: v for v in json.loads(assessed.out)["report"]["verdicts"]}
    unused = verdicts["etsi-5.6-1"]
    assert unused["verdict"] == "fail"
    values = unused["evidence"]["values"]
    assert any(f"{CLEAN}:{UNDECLARED}" in item for item in values["findings"])
    assert values["usage_checked"] == [f"{CLEAN}: model {MODEL} (declared TCP ports: 22)"]


def test_unused_interfaces_are_not_assessed_by_a_probe_told_no_declared_usage(
    devices: None, smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    """A probe that compared no device with its declared usage says nothing about 5.6-1,
    whatever else it found."""
    root = str(smart_home.home.root)
    ran = run(
        capsys, "probe", "--home", root, "--authorised-by", "A. Auditor",
        "--targets", f"{CLEAN}/32", "--timeout", "2",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    assessed = run(capsys, "assess", "--home", root, "--standard", "etsi", "--json")
    verdicts = {v["provision"]: v for v in json.loads(assessed.out)["report"]["verdicts"]}
    assert verdicts["etsi-5.6-1"]["verdict"] == "inconclusive"
    assert "declared usage" in verdicts["etsi-5.6-1"]["summary"]


def test_unused_interfaces_pass_only_on_what_the_probe_compared() -> None:
    """A probe that compared a device and found nothing outside its usage passes 5.6-1 and
    says how many devices it compared; a default login elsewhere is not 5.6-1's business."""
    report = {
        "finished_at": "2026-12-02T10:00:00+00:00",
        "usage_checked": [f"{CLEAN}: model {MODEL} (declared TCP ports: 22)"],
        "findings": [{"address": TELNET, "port": 23, "kind": "default-login", "detail": "x"}],
    }
    finding = probed_usage(report, "2026-12-02T11:00:00+00:00")
    assert finding.verdict is Verdict.passed and "1 device(s)" in finding.summary
    assert finding.evidence["findings"] == ()
