"""`goodthings assess`: plain language for people, JSON for machines, exit 1 on a failed control."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.core.store import tables_security as ts
from goodthings.runtime import Hub
from goodthings.security import fingerprint
from goodthings.security.advisories import Advisory, Range, store_advisory
from templates import init_from_template


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
    init_from_template(home, example)
    ran = run(capsys, "assess", "--home", str(home.root), "--json")
    assert ran.code == 0, ran.out
    verdicts = {c["verdict"] for c in json.loads(ran.out)["report"]["verdicts"]}
    assert "fail" not in verdicts
    assert "pass" in verdicts


def test_one_report_catches_every_planted_failure_with_its_evidence(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's target: a default password, security.txt that cannot be served, a personal
    value in clear by direct SQL, a stale critical advisory, a retention breach and a late
    erasure, all in one deployment; one `goodthings assess` names every one."""
    hub, now = smart_home, datetime.now(UTC)
    with hub.engine.begin() as connection:
        connection.execute(
            insert(t.device_tokens).values(
                id="planted-meter-1",
                device_id="meter-1",
                kind="password",
                secret_hash="not-checked-here",
                fingerprint=fingerprint(hub.password_key, "admin"),
                created_at=now,
            )
        )
        spec = dict(connection.execute(t.operator.select()).mappings().one()["spec"])
        spec["vulnerability_disclosure"] = {}
        connection.execute(update(t.operator).values(spec=spec))
        streams = {
            (row.model_id, row.name): row.id for row in connection.execute(t.streams.select())
        }
        connection.execute(
            insert(t.readings),
            [
                {  # a personal value written around the gate, in clear
                    "device_id": "band-alex",
                    "stream_id": streams[("pulse-band-2", "heart_rate")],
                    "subject_id": "alex",
                    "time": (now - timedelta(hours=1)).timestamp(),
                    "value": 73.0,
                },
                {  # kept 40 days by a stream that keeps 30
                    "device_id": "thermostat-1",
                    "stream_id": streams[("thermia-t5", "temperature")],
                    "subject_id": None,
                    "time": (now - timedelta(days=40)).timestamp(),
                    "value": 21.5,
                },
            ],
        )
        store_advisory(
            connection,
            Advisory(
                id="GT-2026-0001",
                format="osv",
                summary="Thermia T5 firmware lets anyone on the network change the set point.",
                severity="critical",
                url=None,
                ranges=(Range("thermia-t5", "vers:generic/*"),),
            ),
        )
        connection.execute(update(ts.advisories).values(imported_at=now - timedelta(days=40)))
        connection.execute(
            insert(tp.erasure_requests).values(
                id="late-1",
                subject_id="sam",
                requested_at=now - timedelta(days=40),
                deadline=now - timedelta(days=10),
                method="letter",
                mode="erase",
                state="pending",
            )
        )
    ran = run(capsys, "assess", "--home", str(hub.home.root), "--json")
    assert ran.code == 1
    tests = {item["test"]: item for item in json.loads(ran.out)["report"]["verdicts"]}
    expected = {
        "credentials.no-known-password": ("devices_with_known_password", "meter-1"),
        "disclosure.security-txt-fresh": ("contact_recorded", False),
        "at-rest.sealed": ("streams_with_values_in_clear", "pulse-band-2/heart_rate"),
        "advisories.patched": ("stale_advisories", "GT-2026-0001"),
        "retention.enforced": ("streams_past_retention", "thermia-t5/temperature"),
        "erasure.on-time": ("late_requests", "late-1"),
    }
    for test, (field, planted) in expected.items():
        assert tests[test]["verdict"] == "fail", test
        value = tests[test]["evidence"]["values"][field]
        assert planted in value if isinstance(value, list) else value == planted, (test, value)
