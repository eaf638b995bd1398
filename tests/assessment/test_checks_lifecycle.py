"""The lifecycle checks (security.txt, the request register, advisories, monitoring), each on the
good smart-home example and with its failure planted by direct SQL or a realistic mistake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from goodthings.assessment import CHECKS, Context, Finding, Verdict
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.core.manifest import load_manifest_text
from goodthings.core.store import tables as t
from goodthings.core.store import tables_console as tc
from goodthings.core.store import tables_monitoring as tm
from goodthings.core.store import tables_security as ts
from goodthings.core.store.monitoring import MinuteBucket, merge_minutes
from goodthings.deployment import apply_manifest
from goodthings.runtime import Hub
from goodthings.security.advisories import Advisory, Range, store_advisory

NOW = datetime.now(UTC)


def _run(hub: Hub, check: str, public_url: str | None = None) -> Finding:
    key = load_public_key(hub.home.keys_dir / SIGNING_PUBLIC_KEY)
    context = Context(hub.engine, hub.password_key, key, NOW, public_url=public_url)
    return CHECKS[check](context)


# --- disclosure.security-txt-fresh ----------------------------------------------------------


def test_security_txt_is_served_fresh_at_the_configured_address(smart_home: Hub) -> None:
    address = smart_home.home.settings.public_url
    finding = _run(smart_home, "disclosure.security-txt-fresh", address)
    assert finding.verdict is Verdict.passed, finding.summary
    expires = datetime.fromisoformat(str(finding.evidence["expires"]))
    assert NOW < expires <= NOW + timedelta(days=365)
    assert finding.evidence["contact_recorded"] is True


def test_security_txt_at_a_plain_http_public_address_fails(smart_home: Hub) -> None:
    """The realistic mistake: the hub published at http:// on a real name."""
    finding = _run(smart_home, "disclosure.security-txt-fresh", "http://hub.example.org")
    assert finding.verdict is Verdict.failed
    assert "not https://" in finding.summary
    assert finding.evidence["served_over"] == "http"
    assert finding.evidence["expires"] is None


def test_security_txt_without_a_contact_fails(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        spec = dict(connection.execute(t.operator.select()).mappings().one()["spec"])
        disclosure = dict(spec["vulnerability_disclosure"])
        contact = str(disclosure.pop("contact"))
        spec["vulnerability_disclosure"] = disclosure
        connection.execute(update(t.operator).values(spec=spec))
    finding = _run(smart_home, "disclosure.security-txt-fresh", "https://hub.example.org")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["contact_recorded"] is False
    assert contact not in finding.summary + json.dumps(dict(finding.evidence))


def test_security_txt_is_not_judged_without_the_public_address(smart_home: Hub) -> None:
    assert _run(smart_home, "disclosure.security-txt-fresh").verdict is Verdict.not_applicable


# --- requests.on-time -----------------------------------------------------------------------


def _register(
    hub: Hub, received_days_ago: int, deadline: datetime, answered: datetime | None = None
) -> str:
    with hub.engine.begin() as connection:
        number = connection.execute(
            insert(tc.subject_requests).values(
                kind="access",
                subject_id="alex",
                received_at=NOW - timedelta(days=received_days_ago),
                deadline=deadline,
                channel="letter",
                note="asked what the hub holds about them",
                recorded_by="dpo",
                answered_at=answered,
                sent="a copy" if answered else None,
            )
        ).inserted_primary_key[0]
    return f"register:{number}"


def test_the_example_has_no_request_to_judge_and_a_fresh_one_passes(smart_home: Hub) -> None:
    assert _run(smart_home, "requests.on-time").verdict is Verdict.not_applicable
    _register(smart_home, 3, NOW + timedelta(days=27))
    finding = _run(smart_home, "requests.on-time")
    assert finding.verdict is Verdict.passed
    assert finding.evidence["open"] == 1


def test_a_request_two_months_old_and_unanswered_fails(smart_home: Hub) -> None:
    reference = _register(smart_home, 61, NOW - timedelta(days=30))
    finding = _run(smart_home, "requests.on-time")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["late_requests"] == (reference,)
    assert "alex" not in finding.summary + json.dumps(dict(finding.evidence))


@pytest.mark.parametrize(
    ("extended_to_days", "verdict"),
    [(20, Verdict.passed), (60, Verdict.failed)],
    ids=["within-three-months", "beyond-the-legal-three-months"],
)
def test_an_extension_moves_the_deadline_up_to_three_months(
    smart_home: Hub, extended_to_days: int, verdict: Verdict
) -> None:
    """Received 61 days ago: extended 20 days ahead is lawful, 60 days ahead is past 3 months."""
    reference = _register(smart_home, 61, NOW - timedelta(days=30))
    with smart_home.engine.begin() as connection:
        connection.execute(
            insert(tc.request_extensions).values(
                request=reference,
                deadline=NOW + timedelta(days=extended_to_days),
                reason="many requests at once",
                extended_by="dpo",
                created_at=NOW - timedelta(days=40),
            )
        )
    # still open, and past three months from receipt only in the second case after 60 days
    finding = _run(smart_home, "requests.on-time")
    assert finding.evidence["extended"] == 1
    if verdict is Verdict.passed:
        assert finding.verdict is Verdict.passed
    else:  # answered on the extension's date, which the law does not allow
        _answer(smart_home, reference, NOW + timedelta(days=extended_to_days))
        late = _run(smart_home, "requests.on-time")
        assert late.verdict is Verdict.failed
        assert late.evidence["late_requests"] == (reference,)


def _answer(hub: Hub, reference: str, at: datetime) -> None:
    number = int(reference.removeprefix("register:"))
    with hub.engine.begin() as connection:
        connection.execute(
            update(tc.subject_requests)
            .where(tc.subject_requests.c.id == number)
            .values(answered_at=at, sent="a copy")
        )


def test_a_deadline_recorded_beyond_a_month_is_judged_at_a_month(smart_home: Hub) -> None:
    """A register row written with a six-month deadline and no extension does not buy time."""
    reference = _register(smart_home, 45, NOW + timedelta(days=135))
    finding = _run(smart_home, "requests.on-time")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["late_requests"] == (reference,)


# --- advisories.patched ---------------------------------------------------------------------


def _import(hub: Hub, severity: str, days_ago: int, *, withdrawn: bool = False) -> None:
    advisory = Advisory(
        id="GT-2026-0001",
        format="osv",
        summary="Thermia T5 firmware lets anyone on the network change the set point.",
        severity=severity,
        url=None,
        ranges=(Range("thermia-t5", "vers:generic/*"),),
        withdrawn=NOW if withdrawn else None,
    )
    with hub.engine.begin() as connection:
        store_advisory(connection, advisory)
        connection.execute(update(ts.advisories).values(imported_at=NOW - timedelta(days=days_ago)))


def test_no_imported_advisory_is_not_applicable(smart_home: Hub) -> None:
    assert _run(smart_home, "advisories.patched").verdict is Verdict.not_applicable


def test_a_fresh_critical_advisory_still_passes(smart_home: Hub) -> None:
    _import(smart_home, "critical", 2)
    finding = _run(smart_home, "advisories.patched")
    assert finding.verdict is Verdict.passed
    assert finding.evidence["urgent_affecting_devices"] == ("GT-2026-0001",)


def test_a_critical_advisory_unpatched_for_40_days_fails(smart_home: Hub) -> None:
    _import(smart_home, "critical", 40)
    finding = _run(smart_home, "advisories.patched")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["stale_advisories"] == ("GT-2026-0001",)
    assert finding.evidence["devices_left_exposed"] == ("thermostat-1",)


@pytest.mark.parametrize(
    ("severity", "withdrawn", "verdict"),
    [
        ("medium", False, Verdict.passed),
        ("critical", True, Verdict.not_applicable),
    ],
    ids=["medium-is-not-urgent", "withdrawn-does-not-count"],
)
def test_old_advisories_that_do_not_count(
    smart_home: Hub, severity: str, withdrawn: bool, verdict: Verdict
) -> None:
    _import(smart_home, severity, 40, withdrawn=withdrawn)
    assert _run(smart_home, "advisories.patched").verdict is verdict


# --- monitoring.on --------------------------------------------------------------------------


def _reported(hub: Hub) -> None:
    """A reading stored a few minutes ago, as if the thermostat had just reported."""
    with hub.engine.begin() as connection:
        stream = connection.execute(
            t.streams.select().where(
                t.streams.c.model_id == "thermia-t5", t.streams.c.name == "temperature"
            )
        ).one()
        connection.execute(
            insert(t.readings).values(
                device_id="thermostat-1",
                stream_id=stream.id,
                time=(NOW - timedelta(minutes=5)).timestamp(),
                value=21.0,
            )
        )


def _flushed(hub: Hub) -> None:
    minute = int((NOW - timedelta(minutes=5)).timestamp() // 60)
    with hub.engine.begin() as connection:
        merge_minutes(connection, [MinuteBucket("thermostat-1", minute, messages=1, records=1)])


def test_monitoring_is_not_judged_while_no_device_reports(smart_home: Hub) -> None:
    finding = _run(smart_home, "monitoring.on")
    assert finding.verdict is Verdict.not_applicable
    assert finding.evidence["devices_reported_last_hour"] is False


def test_devices_reporting_with_the_monitor_recording_passes(smart_home: Hub) -> None:
    _reported(smart_home)
    _flushed(smart_home)
    finding = _run(smart_home, "monitoring.on")
    assert finding.verdict is Verdict.passed, finding.summary
    assert finding.evidence["monitor_flushed_last_hour"] is True


def test_devices_reporting_while_the_monitor_is_off_fails(smart_home: Hub) -> None:
    _reported(smart_home)
    finding = _run(smart_home, "monitoring.on")
    assert finding.verdict is Verdict.failed
    assert "not running" in finding.summary


def test_a_quarantine_by_the_monitor_without_an_alert_fails(smart_home: Hub) -> None:
    _reported(smart_home)
    _flushed(smart_home)
    with smart_home.engine.begin() as connection:
        connection.execute(
            insert(tm.quarantine_events).values(
                at=NOW - timedelta(minutes=3),
                device_id="front-door",
                action="quarantine",
                actor="hub:monitor:flood",
                reason="sent far more than its profile allows",
            )
        )
    finding = _run(smart_home, "monitoring.on")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["quarantined_without_alert"] == ("front-door",)
    with smart_home.engine.begin() as connection:
        connection.execute(
            insert(t.alerts).values(
                created_at=NOW - timedelta(minutes=3),
                device_id="front-door",
                kind="monitor-flood",
                severity="high",
                message="front-door sent far more than its profile allows.",
            )
        )
    assert _run(smart_home, "monitoring.on").verdict is Verdict.passed


def _declare_patch_window(hub: Hub, days: int) -> None:
    """Apply the deployment's own manifest with `security.advisories.patch_within_days`."""
    text = hub.home.manifest_path.read_text()
    text += f"\nsecurity:\n  advisories:\n    patch_within_days: {days}\n"
    apply_manifest(hub.engine, load_manifest_text(text, str(hub.home.manifest_path)))


@pytest.mark.parametrize(
    ("declared", "days_ago", "verdict"),
    [
        (None, 10, Verdict.passed),  # the default 30 days
        (7, 10, Verdict.failed),  # the operator promised a week
        (14, 10, Verdict.passed),
    ],
    ids=["default-30-days", "declared-7-days", "declared-14-days"],
)
def test_the_patch_window_is_the_one_the_manifest_declares(
    smart_home: Hub, declared: int | None, days_ago: int, verdict: Verdict
) -> None:
    if declared is not None:
        _declare_patch_window(smart_home, declared)
    _import(smart_home, "critical", days_ago)
    finding = _run(smart_home, "advisories.patched")
    assert finding.verdict is verdict
    assert finding.evidence["patch_days"] == (declared or 30)
    assert finding.evidence["patch_days_declared"] is (declared is not None)
    assert f"{declared or 30} days" in finding.summary
