"""`goodthings device quarantine|release` and `goodthings monitor status|alerts`, run for real."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.runtime.hub import Hub
from monitoring_helpers import declare, pack, send
from templates import init_from_template


def test_an_operator_quarantines_sees_and_releases_a_device(
    home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    init_from_template(home, "smart-home")
    root = str(home.root)
    assert "No device is quarantined." in run(capsys, "monitor", "status", "--home", root).out
    missing = run(capsys, "device", "quarantine", "meter-1", "--reason", " ", "--home", root)
    assert missing.code != 0 and "say why" in missing.err

    held = run(capsys, "device", "quarantine", "meter-1", "--reason", "it floods", "--home", root)
    assert held.code == 0 and "meter-1 is quarantined since" in held.out
    status = run(capsys, "monitor", "status", "--home", root)
    assert "QUARANTINED meter-1" in status.out and "it floods" in status.out
    as_json = json.loads(run(capsys, "monitor", "status", "--json", "--home", root).out)
    assert [q["device"] for q in as_json["quarantined"]] == ["meter-1"]

    released = run(capsys, "device", "release", "meter-1", "--reason", "fixed", "--home", root)
    assert released.code == 0
    again = run(capsys, "device", "release", "meter-1", "--reason", "fixed", "--home", root)
    assert again.code != 0 and "not quarantined" in again.err


def test_alerts_list_detections_with_their_evidence(
    home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    init_from_template(home, "smart-home")
    assert "No detections yet." in run(capsys, "monitor", "alerts", "--home", str(home.root)).out
    hub = Hub.open(home)
    try:
        declare(hub, "max_rate: 1")
        send(hub, pack("thermostat-1"))
        send(hub, pack("thermostat-1", value=22.0))
    finally:
        hub.close()
    text = run(capsys, "monitor", "alerts", "--home", str(home.root)).out
    assert "critical flood thermostat-1 → alert" in text
    [detection] = json.loads(
        run(capsys, "monitor", "alerts", "--json", "--home", str(home.root)).out
    )
    assert detection["evidence"]["max_rate"] == 1
