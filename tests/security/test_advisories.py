"""Advisories (OSV, CSAF) matched to the fleet by version range; birth messages; support; campaigns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.errors import GoodthingsError
from goodthings.core.store import tables as t
from goodthings.runtime.hub import Hub
from goodthings.security.advisories import (
    AdvisoryError,
    affected_devices,
    in_range,
    read_advisory,
    store_advisory,
)
from goodthings.security.credentials import issue_token
from goodthings.security.firmware import campaigns, record_birth, start_campaign, support_status
from goodthings.web.app import create_app
from templates import init_from_template

DATA = Path(__file__).parent / "data"
OSV = DATA / "osv-thermia.json"
CSAF = DATA / "csaf-wattwise.json"


@pytest.mark.parametrize(
    ("version", "vers", "inside"),
    [
        ("5.0.2", "vers:generic/>=5.0.0|<5.1.0", True),
        ("5.1.0", "vers:generic/>=5.0.0|<5.1.0", False),
        ("4.9.9", "vers:generic/>=5.0.0|<5.1.0", False),
        ("2.10.0", "vers:generic/<=2.4.0", False),  # compared as versions, not as text
        ("2.4", "vers:generic/<=2.4.0", True),
        ("1.5.0", "vers:generic/>=1.0.0|<1.2.0|>=2.0.0|<2.1.0", False),
        ("2.0.5", "vers:generic/>=1.0.0|<1.2.0|>=2.0.0|<2.1.0", True),
        ("5.0.3", "vers:generic/5.0.2|5.0.3", True),
        ("anything", "vers:generic/*", True),
    ],
)
def test_version_ranges(version: str, vers: str, inside: bool) -> None:
    assert in_range(version, vers) is inside


def test_osv_and_csaf_are_read_with_their_ranges_and_severity() -> None:
    osv = read_advisory(OSV)
    assert (osv.id, osv.format, osv.severity) == ("GT-2026-0001", "osv", "high")
    assert [(r.product, r.vers) for r in osv.ranges] == [
        ("Thermia T5 room thermostat", "vers:generic/>=5.0.0|<5.1.0")
    ]
    csaf = read_advisory(CSAF)
    assert (csaf.id, csaf.format, csaf.severity) == ("WW-SA-2026-07", "csaf", "critical")
    assert [(r.product, r.vers) for r in csaf.ranges] == [
        ("WattWise M2 smart meter clamp", "vers:generic/>=2.0.0|<=2.4.0")
    ]
    assert csaf.url == "https://wattwise.example/sa/2026-07"


def test_a_file_that_is_neither_is_refused_plainly(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(AdvisoryError, match="neither an OSV record"):
        read_advisory(other)


def test_devices_are_matched_by_their_reported_firmware(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        store_advisory(connection, read_advisory(OSV))
        store_advisory(connection, read_advisory(CSAF))
    with smart_home.engine.connect() as connection:
        hits = [(a.advisory, a.device, a.version) for a in affected_devices(connection)]
    # meter-1 runs 2.4.0 (in the CSAF range); thermostat-1 declares 5.1.0 (fixed).
    assert hits == [("WW-SA-2026-07", "meter-1", "2.4.0")]
    with smart_home.engine.begin() as connection:
        record_birth(connection, "thermostat-1", "5.0.2")  # it is really running the old one
    with smart_home.engine.connect() as connection:
        hits = [(a.advisory, a.severity, a.device) for a in affected_devices(connection)]
    assert hits == [
        ("WW-SA-2026-07", "critical", "meter-1"),
        ("GT-2026-0001", "high", "thermostat-1"),
    ]


def test_advisories_import_and_list_commands(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    init_from_template(home, "smart-home")
    where = ["--home", str(home.root)]
    imported = run(capsys, "advisories", "import", str(OSV), str(CSAF), *where)
    assert imported.code == 0, imported.err
    assert "GT-2026-0001 (osv, high)" in imported.out
    assert "no device of this deployment is affected" in imported.out
    assert "affected: meter-1 (wattwise-m2 firmware 2.4.0)" in imported.out
    listed = run(capsys, "advisories", "list", "--json", *where)
    report = json.loads(listed.out)
    assert [a["id"] for a in report["advisories"]] == ["WW-SA-2026-07", "GT-2026-0001"]
    assert report["advisories"][0]["affected"] == [
        {"device": "meter-1", "model": "wattwise-m2", "firmware": "2.4.0"}
    ]
    assert report["past_support"] == []
    text = run(capsys, "advisories", "list", *where).out
    assert (
        "CRITICAL WW-SA-2026-07" in text
        and "affected devices: meter-1 (wattwise-m2 firmware 2.4.0)" in text
    )


def test_devices_past_their_support_period_are_flagged(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        with hub.engine.begin() as connection:
            connection.execute(
                update(t.device_models)
                .where(t.device_models.c.id == "pulse-band-2")
                .values(support_until=date(2020, 1, 31))
            )
            past = [s.device for s in support_status(connection) if s.past_support(date.today())]
    finally:
        hub.close()
    assert past == ["band-alex"]
    listed = run(capsys, "advisories", "list", "--home", str(home.root))
    assert "band-alex (pulse-band-2): support ended 2020-01-31" in listed.out


def test_update_campaign_progress_follows_birth_messages(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        record_birth(connection, "thermostat-1", "5.0.2")
        campaign = start_campaign(connection, "thermia-t5", "5.1.0", note="GT-2026-0001")
    assert campaign.devices == {"thermostat-1": "pending"} and campaign.progress == (0, 1)
    with smart_home.engine.begin() as connection:
        record_birth(connection, "thermostat-1", "5.1.0")
        [after] = campaigns(connection)
    assert after.devices == {"thermostat-1": "updated"} and after.progress == (1, 1)
    with (
        pytest.raises(GoodthingsError, match="not a firmware version of thermia-t5"),
        smart_home.engine.begin() as connection,
    ):
        start_campaign(connection, "thermia-t5", "9.9.9")


def test_campaign_commands(capsys: pytest.CaptureFixture[str], home: Home) -> None:
    init_from_template(home, "smart-home")
    where = ["--home", str(home.root)]
    started = run(
        capsys, "campaign", "start", "--model", "wattwise-m2", "--target", "2.4.0", *where
    )
    assert started.code == 0, started.err
    assert "wattwise-m2 to 2.4.0, 1 of 1 devices updated" in started.out
    shown = run(capsys, "campaign", "show", *where)
    assert "meter-1: updated" in shown.out


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        yield client


def test_birth_message_over_http(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    with hub.engine.begin() as connection:
        token = issue_token(connection, "thermostat-1")
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post("/birth", content=b'{"firmware": "5.0.2"}', headers=headers).status_code == 204
    )
    bad = client.post("/birth", content=b'{"version": 5}', headers=headers)
    assert bad.status_code == 400 and '"firmware"' in bad.json()["error"]
    assert client.post("/birth", content=b'{"firmware": "5.0.2"}').status_code == 401
    assert (
        client.post("/birth", content=b'{"firmware": "6.6.6"}', headers=headers).status_code == 204
    )
    with hub.engine.connect() as connection:
        versions = [s.firmware for s in support_status(connection) if s.device == "thermostat-1"]
        alerts = connection.execute(select(t.alerts.c.kind, t.alerts.c.message)).all()
    assert versions == ["6.6.6"]
    assert alerts[0][0] == "firmware-undeclared" and "reports firmware 6.6.6" in alerts[0][1]
