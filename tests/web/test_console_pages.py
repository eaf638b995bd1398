"""The console's pages through the real app: each role sees its pages and is refused the others
with a plain 403; the operator's device actions, the officer's requests and the ledger browser do
what they say and are in the ledger as `operator:NAME`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from console_helpers import add_account, sign_in
from goodthings.core.config import Home
from goodthings.core.ledger import head
from goodthings.core.manifest import load_manifest
from goodthings.core.store import RefusedPack, record_refused
from goodthings.core.store import tables as t
from goodthings.core.store import tables_console as tc
from goodthings.core.store import tables_transparency as tt
from goodthings.core.store.monitoring import current_quarantines
from goodthings.deployment import apply_manifest
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import request_erasure
from goodthings.runtime.hub import Hub
from goodthings.security import Role, TokenVerifier
from goodthings.web.app import create_app
from goodthings.web.deps import hub_of
from portal_helpers import BASE, give, send
from templates import init_from_template

PAGES = {
    "/console": {Role.operator, Role.dpo, Role.auditor},
    "/console/devices": {Role.operator, Role.auditor},
    "/console/devices/meter-1": {Role.operator, Role.auditor},
    "/console/devices/meter-1/rotate": {Role.operator},
    "/console/security": {Role.operator, Role.dpo, Role.auditor},
    "/console/requests": {Role.dpo},
    "/console/ledger": {Role.dpo, Role.auditor},
    "/console/streams": {Role.operator, Role.dpo, Role.auditor},
    "/console/applications": {Role.operator, Role.auditor},
    "/console/manifest": {Role.operator, Role.auditor},
    "/console/assessment": {Role.operator, Role.dpo, Role.auditor},
}
NAMES = {Role.operator: "olu", Role.dpo: "dana", Role.auditor: "audrey"}


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home), base_url=BASE, follow_redirects=False) as client:
        yield client


@pytest.fixture
def hub(client: TestClient) -> Hub:
    return hub_of(client.app)  # type: ignore[arg-type]


def _as(client: TestClient, hub: Hub, role: Role) -> str:
    add_account(hub, NAMES[role], role)
    return sign_in(client, hub, NAMES[role])


def _ledger(hub: Hub) -> list[tuple[str, str, str]]:
    e = t.ledger_entries.c
    with hub.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(e.actor, e.action, e.object))]  # type: ignore[misc]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_pages_and_is_refused_the_others(
    client: TestClient, hub: Hub, role: Role
) -> None:
    _as(client, hub, role)
    for path, roles in PAGES.items():
        answer = client.get(path)
        if role in roles:
            assert answer.status_code == 200, path
        else:
            assert answer.status_code == 403, path
            assert f"({role.value}): this needs the role" in answer.text
    navigation = client.get("/console").text
    for path, roles in PAGES.items():
        if path.count("/") == 2:  # a section, not a page inside one
            assert (f'href="{path}"' in navigation) == (role in roles), path


def test_the_dashboard_counts_readings_devices_refusals_and_alerts(
    client: TestClient, hub: Hub
) -> None:
    give(hub, ("alex", "power", "OptimisationForConsumer"))
    assert send(hub, "meter-1", "power", [512.5, 498.25, 501.0]) == 3
    with hub.engine.begin() as connection:
        record_refused(
            connection,
            [RefusedPack("meter-1", 1.0, "malformed", "not SenML", "application/json", 3, "0" * 64)]
            * 2,
            keep=100,
        )
    client.post("/console/login", data={"name": "nobody", "password": "x"})
    _as(client, hub, Role.operator)
    page = client.get("/console").text
    assert "3 readings in the last hour" in page
    assert '<strong id="reporting-count">1</strong> reporting' in page
    assert 'aria-labelledby="chart-readings-per-minute--last-hour-t' in page
    assert "<title" in page and "readings</text>" in page  # the value axis names its unit
    assert 'data-refusal="malformed"' in page and "<td>2</td>" in page
    assert "No request is waiting" in page


def test_an_overdue_request_stands_out_on_the_dashboard(client: TestClient, hub: Hub) -> None:
    request_erasure(hub.engine, hub.signer, "sam", method="letter", days=30)
    _as(client, hub, Role.dpo)
    assert 'id="overdue"' not in client.get("/console").text
    with hub.engine.begin() as connection:
        connection.execute(
            update(t.metadata.tables["erasure_requests"]).values(
                deadline=datetime.now(UTC) - timedelta(days=1)
            )
        )
    page = client.get("/console").text
    assert 'id="overdue"' in page and "1 request past its legal deadline" in page
    assert "overdue" in client.get("/console/requests").text


def test_rotating_a_credential_needs_the_confirming_form(client: TestClient, hub: Hub) -> None:
    csrf = _as(client, hub, Role.operator)
    confirm = client.get("/console/devices/meter-1/rotate")
    assert confirm.status_code == 200 and 'action="/console/devices/meter-1/rotate"' in confirm.text
    answer = client.post("/console/devices/meter-1/rotate", data={"csrf": csrf})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    secret = answer.text.split('<code id="credential">')[1].split("</code>")[0]
    assert TokenVerifier(hub.engine).device_for(secret) == "meter-1"
    assert ("operator:olu", "console.device_rotate", "device:meter-1") in _ledger(hub)


def test_issuing_a_certificate_shows_key_and_certificate_once(client: TestClient, hub: Hub) -> None:
    csrf = _as(client, hub, Role.operator)
    answer = client.post("/console/devices/meter-1/certificate", data={"csrf": csrf})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert "BEGIN CERTIFICATE" in answer.text and "PRIVATE KEY" in answer.text
    assert ("operator:olu", "console.device_certificate", "device:meter-1") in _ledger(hub)


def test_retiring_a_device_takes_it_out_and_stops_its_credentials(
    client: TestClient, hub: Hub
) -> None:
    csrf = _as(client, hub, Role.operator)
    answer = client.post("/console/devices/thermostat-1/retire", data={"csrf": csrf})
    assert answer.status_code == 200, answer.text
    assert "thermostat-1" not in hub.home.manifest_path.read_text()
    with hub.engine.connect() as connection:
        retired = connection.execute(
            select(t.devices.c.retired_at).where(t.devices.c.id == "thermostat-1")
        ).scalar_one()
        live = connection.execute(
            select(t.device_tokens.c.id).where(
                t.device_tokens.c.device_id == "thermostat-1",
                t.device_tokens.c.revoked_at.is_(None),
            )
        ).all()
    assert retired is not None and live == []
    assert client.get("/console/devices/thermostat-1").status_code == 404
    assert 'data-device="thermostat-1"' not in client.get("/console/devices").text
    assert ("operator:olu", "console.device_retire", "device:thermostat-1") in _ledger(hub)


def test_an_operator_cuts_a_device_off_and_releases_it_with_a_reason(
    client: TestClient, hub: Hub
) -> None:
    csrf = _as(client, hub, Role.operator)
    page = client.get("/console/devices/meter-1")
    assert (
        "Not cut off" in page.text and 'action="/console/devices/meter-1/quarantine"' in page.text
    )
    without = client.post("/console/devices/meter-1/quarantine", data={"reason": "x"})
    assert without.status_code == 403  # no CSRF token, nothing done
    cut = client.post(
        "/console/devices/meter-1/quarantine",
        data={"csrf": csrf, "reason": "sent a hundred times its usual rate"},
    )
    assert cut.status_code == 303
    page = client.get("/console/devices/meter-1")
    assert "Cut off since" in page.text and "sent a hundred times its usual rate" in page.text
    assert ("operator:olu", "quarantine", "device:meter-1") in _ledger(hub)
    with hub.engine.connect() as connection:
        assert "meter-1" in current_quarantines(connection)
    released = client.post(
        "/console/devices/meter-1/release", data={"csrf": csrf, "reason": "firmware fixed"}
    )
    assert released.status_code == 303
    page = client.get("/console/devices/meter-1")
    assert "Not cut off" in page.text and "released by operator:olu: firmware fixed" in page.text
    with hub.engine.connect() as connection:
        assert "meter-1" not in current_quarantines(connection)


def test_an_auditor_sees_the_quarantine_but_cannot_change_it(client: TestClient, hub: Hub) -> None:
    csrf = _as(client, hub, Role.auditor)
    page = client.get("/console/devices/meter-1")
    assert "Not cut off" in page.text and "Cut the device off" not in page.text
    refused = client.post(
        "/console/devices/meter-1/quarantine", data={"csrf": csrf, "reason": "because"}
    )
    assert refused.status_code == 403
    with hub.engine.connect() as connection:
        assert current_quarantines(connection) == {}


def test_an_unknown_device_is_a_plain_404(client: TestClient, hub: Hub) -> None:
    csrf = _as(client, hub, Role.operator)
    assert client.get("/console/devices/nope").status_code == 404
    answer = client.post("/console/devices/nope/retire", data={"csrf": csrf})
    assert answer.status_code == 409 and "there is no device &#39;nope&#39;" in answer.text


def test_the_officer_records_extends_and_answers_a_request(client: TestClient, hub: Hub) -> None:
    csrf = _as(client, hub, Role.dpo)
    received = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    recorded = client.post(
        "/console/requests/record",
        data={
            "csrf": csrf,
            "kind": "access",
            "subject": "alex",
            "received": received,
            "channel": "letter",
            "note": "asked by post",
        },
    )
    assert recorded.status_code == 303
    page = client.get("/console/requests").text
    assert 'data-request="register:1"' in page and "Access from alex" in page
    refused = client.post(
        "/console/requests/extend", data={"csrf": csrf, "reference": "register:1", "reason": " "}
    )
    assert refused.status_code == 400 and "give the reason" in refused.text
    extended = client.post(
        "/console/requests/extend",
        data={"csrf": csrf, "reference": "register:1", "reason": "many requests this month"},
    )
    assert extended.status_code == 303
    with hub.engine.connect() as connection:
        deadline = connection.execute(select(tc.request_extensions.c.deadline)).scalar_one()
    assert deadline.date() > (datetime.now(UTC) + timedelta(days=80)).date()
    again = client.post(
        "/console/requests/extend",
        data={"csrf": csrf, "reference": "register:1", "reason": "still busy"},
    )
    assert again.status_code == 400 and "once" in again.text
    answered = client.post(
        "/console/requests/answer",
        data={"csrf": csrf, "reference": "register:1", "sent": "a copy of their data by post"},
    )
    assert answered.status_code == 303
    assert "a copy of their data by post" in client.get("/console/requests").text
    actions = [(a, o) for actor, a, o in _ledger(hub) if actor == "operator:dana"]
    for action in ("console.request_record", "console.request_extend", "console.request_answer"):
        assert (action, "request:register:1") in actions


def test_a_request_cannot_be_received_in_the_future(client: TestClient, hub: Hub) -> None:
    csrf = _as(client, hub, Role.dpo)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    answer = client.post(
        "/console/requests/record",
        data={
            "csrf": csrf,
            "kind": "erasure",
            "subject": "alex",
            "received": tomorrow,
            "channel": "email",
        },
    )
    assert answer.status_code == 400 and "future" in answer.text


def test_the_ledger_filters_pages_verifies_and_exports(client: TestClient, hub: Hub) -> None:
    csrf = _as(client, hub, Role.auditor)
    for _ in range(60):
        give(hub, ("alex", "power", "OptimisationForConsumer"))
    first = client.get("/console/ledger").text
    assert first.count("<tr data-seq=") == 50 and 'id="older"' in first
    older = first.split('id="older" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "<tr data-seq=" in client.get(older).text
    mine = client.get("/console/ledger", params={"actor": "operator:audrey"}).text
    assert mine.count("<tr data-seq=") == 1 and "console.sign_in" in mine
    about = client.get("/console/ledger", params={"subject": "alex", "action": "consent.give"})
    assert about.text.count("<tr data-seq=") == 50
    future = client.get("/console/ledger", params={"since": "2999-01-01"}).text
    assert "No entry matches" in future
    assert client.get("/console/ledger", params={"since": "yesterday"}).status_code == 400
    verdict = client.get("/console/ledger", params={"verify": "true"}).text
    assert "The ledger is intact" in verdict
    with hub.engine.connect() as connection:
        last = head(connection).seq
    exported = client.post("/console/ledger/export", data={"csrf": csrf, "first": 2, "last": 5})
    assert exported.status_code == 200
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert [line["seq"] for line in lines] == [2, 3, 4, 5]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(lines))
    assert ("operator:audrey", "console.ledger_export", "ledger:2-5") in _ledger(hub)
    assert last >= 60


def test_verification_in_words_finds_a_changed_entry(client: TestClient, hub: Hub) -> None:
    _as(client, hub, Role.dpo)
    with hub.engine.begin() as connection:
        connection.execute(
            update(t.ledger_entries).where(t.ledger_entries.c.seq == 1).values(actor="someone")
        )
    verdict = client.get("/console/ledger", params={"verify": "true"}).text
    assert "The ledger is NOT intact at entry 1" in verdict


def test_streams_show_counts_of_choices_never_who(client: TestClient, hub: Hub) -> None:
    give(
        hub,
        ("alex", "power", "OptimisationForConsumer"),
        ("sam", "power", "OptimisationForConsumer"),
    )
    consent.withdraw(
        hub.engine, hub.signer, consent.ConsentChange("sam", "power", "OptimisationForConsumer")
    )
    hub.pipeline.refresh()
    assert send(hub, "meter-1", "power", [512.5, 498.25]) == 2
    _as(client, hub, Role.dpo)
    page = client.get("/console/streams").text
    power = page.split('data-stream="wattwise-m2/power"')[1].split("</section>")[0]
    row = power.split('data-purpose="OptimisationForConsumer"')[1].split("</tr>")[0]
    assert '<td data-label="Said yes" class="yes">1</td>' in row
    assert '<td data-label="Said no" class="no">1</td>' in row
    assert "not asked: another legal basis" in power  # PaymentManagement is a contract
    temperature = page.split('data-stream="thermia-t5/temperature"')[1].split("</section>")[0]
    assert "not asked: not personal data" in temperature and 'class="yes"' not in temperature
    assert '<dd class="held">2, the oldest from' in power
    assert "alex" not in page and "sam" not in page


def test_a_dead_letter_is_replayed_by_an_operator(client: TestClient, hub: Hub) -> None:
    with hub.engine.begin() as connection:
        stream = connection.execute(
            select(t.streams.c.id).where(t.streams.c.name == "power")
        ).scalar_one()
        connection.execute(
            insert(tt.deliveries).values(
                recipient_id="northgrid-energy",
                stream_id=stream,
                purpose="PaymentManagement",
                window_start=0.0,
                window_end=60.0,
                status="dead",
                attempts=8,
                next_attempt_at=0.0,
                last_error="ConnectError",
                created_at=datetime.now(UTC),
            )
        )
    csrf = _as(client, hub, Role.operator)
    page = client.get("/console/applications").text
    assert 'data-application="energy-dashboard"' in page and 'data-dead="1"' in page
    assert "none yet (<code>goodthings application secret energy-dashboard</code>)" in page
    assert (
        client.post("/console/applications/replay", data={"csrf": csrf, "delivery": 1}).status_code
        == 303
    )
    assert "Send it again" not in client.get("/console/applications").text
    assert ("operator:olu", "console.share_replay", "delivery:1") in _ledger(hub)
    again = client.post("/console/applications/replay", data={"csrf": csrf, "delivery": 1})
    assert again.status_code == 404


def test_the_manifest_page_diffs_versions_and_shows_the_plan(client: TestClient, hub: Hub) -> None:
    path = hub.home.manifest_path
    path.write_text(path.read_text().replace("Electricity meter", "Electricity meter, hall"))
    apply_manifest(hub.engine, load_manifest(path))
    path.write_text(path.read_text().replace("Front door sensor", "Front door"))
    _as(client, hub, Role.auditor)
    page = client.get("/console/manifest").text
    assert 'data-version="2"' in page and "front-door" in page.split('id="plan-lines"')[1]
    diff = client.get("/console/manifest", params={"old": 1, "new": 2}).text
    assert "-      en: Electricity meter</span>" in diff
    assert "+      en: Electricity meter, hall</span>" in diff
    assert client.get("/console/manifest", params={"old": 1, "new": 9}).status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_the_overview_counts_requests_without_naming_who_asked(
    client: TestClient, hub: Hub, role: Role
) -> None:
    request_erasure(hub.engine, hub.signer, "sam", method="letter")
    _as(client, hub, role)
    page = client.get("/console").text
    waiting = page.split('id="open-requests"')[1].split("</section>")[0]
    assert "erasure" in waiting and "sam" not in waiting
