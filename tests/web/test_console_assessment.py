"""The console's assessment page and the dashboard's card: the latest signed report in words,
with its failures and their evidence, what got worse, the label or why there is none, and how
to verify it; before the first report, how to make one. Reports are made by the real
`goodthings assess`, after breaking something by SQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cli_helpers import run
from console_helpers import add_account, sign_in
from goodthings.assessment import latest_signed
from goodthings.core.config import Home
from goodthings.core.ledger import key_id
from goodthings.core.store import tables as t
from goodthings.runtime.hub import Hub
from goodthings.security import Role
from goodthings.web.app import create_app
from goodthings.web.console_assessment import latest
from goodthings.web.deps import hub_of
from portal_helpers import BASE
from templates import init_from_template

NAMES = {Role.operator: "olu", Role.dpo: "dana", Role.auditor: "audrey"}


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home), base_url=BASE, follow_redirects=False) as client:
        yield client


@pytest.fixture
def hub(client: TestClient) -> Hub:
    return hub_of(client.app)  # type: ignore[arg-type]


def _as(client: TestClient, hub: Hub, role: Role) -> None:
    add_account(hub, NAMES[role], role)
    sign_in(client, hub, NAMES[role])


def _assess(capsys: pytest.CaptureFixture[str], home: Home, code: int) -> None:
    ran = run(capsys, "assess", "--home", str(home.root))
    assert ran.code == code, ran.out + ran.err


def _break_retention(hub: Hub) -> None:
    with hub.engine.begin() as connection:
        connection.execute(
            update(t.streams).where(t.streams.c.personal.is_(True)).values(retention_seconds=None)
        )


def test_before_the_first_report_the_page_says_how_to_make_one(
    client: TestClient, hub: Hub
) -> None:
    _as(client, hub, Role.auditor)
    page = client.get("/console/assessment")
    assert page.status_code == 200
    assert 'id="no-report"' in page.text and "<code>goodthings assess</code>" in page.text
    card = client.get("/console").text.split('id="assessment-card"')[1].split("</section>")[0]
    assert card.startswith(' class="card">')
    assert "Not assessed yet" in card and 'href="/console/assessment"' in card


@pytest.mark.parametrize("role", list(Role))
def test_a_failed_control_is_shown_with_its_evidence_and_what_got_worse(
    client: TestClient, hub: Hub, home: Home, capsys: pytest.CaptureFixture[str], role: Role
) -> None:
    _assess(capsys, home, 0)
    _break_retention(hub)
    _assess(capsys, home, 1)
    _as(client, hub, role)
    page = client.get("/console/assessment").text
    assert "not met: see below." in page
    failed = page.split('data-provision="etsi-6-4"')[1].split("</section>")[0]
    assert "Telemetry minimised" in failed and "wattwise-m2/power" in failed
    assert "Evidence hash" in failed
    worse = page.split('id="worse-list"')[1].split("</ul>")[0]
    assert "(etsi-6-4): was pass, now fail" in worse
    signing_key = key_id(hub.signer.public_key())
    assert f'<code id="key-id">{signing_key}</code>' in page
    assert f"goodthings assess verify BUNDLE --key-id {signing_key}" in page
    assert "goodthings assess export --out BUNDLE" in page
    label = page.split('id="label">')[1].split("</dd>")[0]
    assert "security level" in label and "valid until" in label
    dashboard = client.get("/console").text
    assert 'id="assessment-card" class="card late"' in dashboard
    assert "not met." in dashboard.split('id="assessment-card"')[1].split("</section>")[0]


def test_a_clean_report_is_calm_and_a_stale_one_stands_out_with_no_label(
    client: TestClient, hub: Hub, home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    _assess(capsys, home, 0)
    _as(client, hub, Role.operator)
    card = client.get("/console").text.split('id="assessment-card"')[1].split("</section>")[0]
    assert card.startswith(' class="card">') and "Every control" in card and "Label:" in card
    page = client.get("/console/assessment").text
    assert "Nothing to compare with" in page and "None: every control" in page
    kept = sorted((home.root / "assessments").glob("*.json"))[-1]
    signed = json.loads(kept.read_text())
    old = datetime.now(UTC) - timedelta(days=40)
    signed["report"]["measured_at"] = old.isoformat(timespec="seconds")
    kept.write_text(json.dumps(signed))  # the page shows what is kept; verify would refuse it
    card = client.get("/console").text.split('id="assessment-card"')[1].split("</section>")[0]
    assert card.startswith(' class="card late">') and "older than 30 days" in card
    assert "No label is shown" in card
    label = client.get("/console/assessment").text.split('id="label">')[1].split("</dd>")[0]
    assert label.startswith("no label: the report is older than 30 days")


def test_latest_reads_the_kept_report_as_signed(
    hub: Hub, home: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    assert latest(home.root) is None
    _assess(capsys, home, 0)
    found = latest(home.root)
    signed = latest_signed(home.root)
    assert found is not None and signed is not None
    assert found.key_id == signed["signature"]["key_id"] and not found.stands_out
    assert latest(home.root, now=found.label.valid_until).stale  # type: ignore[union-attr]
