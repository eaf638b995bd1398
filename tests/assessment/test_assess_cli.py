"""`goodthings assess`: plain language for people, JSON for machines, exit 1 on a failed control."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.deployment import init_deployment
from goodthings.runtime import Hub


def test_the_good_example_passes_and_says_so(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "assess", "--home", str(smart_home.home.root), "--standard", "psti")
    assert ran.code == 0, ran.out + ran.err
    assert "PASS  psti-3  Information on the minimum security update period" in ran.out
    assert "earliest end: 2028-09-30" in ran.out
    assert "0 fail" in ran.out


def test_json_gives_a_verdict_and_evidence_per_control(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "assess", "--home", str(smart_home.home.root), "--json")
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)["report"]
    controls = {c["provision"]: c for c in report["verdicts"]}
    assert controls["etsi-5.2-1"]["verdict"] == "pass"
    assert controls["etsi-5.1-4"]["verdict"] == "inconclusive"
    assert controls["nist-8259a-data-protection"]["evidence"]["values"]["readings_scanned"] >= 0
    assert {c["standard"] for c in report["conformance_statement"]} == {
        "principles",
        "etsi",
        "psti",
        "nist",
        "cra",
        "en18031",
        "gdpr",
    }


def test_a_failed_control_exits_1_and_names_the_evidence(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    with smart_home.engine.begin() as connection:
        connection.execute(
            update(t.streams).where(t.streams.c.personal.is_(True)).values(retention_seconds=None)
        )
    ran = run(capsys, "assess", "--home", str(smart_home.home.root), "--standard", "etsi")
    assert ran.code == 1
    assert "FAIL  etsi-6-4  Telemetry minimised" in ran.out
    assert "streams without retention: " in ran.out
    assert "wattwise-m2/power" in ran.out


@pytest.mark.parametrize("example", ["smart-home", "care-home", "city-street"])
def test_every_example_blueprint_fails_no_control(
    example: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The examples are meant as blueprints of good practice: out of the box, nothing fails."""
    home = Home(tmp_path / example)
    init_deployment(home, example)
    ran = run(capsys, "assess", "--home", str(home.root), "--json")
    assert ran.code == 0, ran.out
    verdicts = {c["verdict"] for c in json.loads(ran.out)["report"]["verdicts"]}
    assert "fail" not in verdicts
    assert "pass" in verdicts
