"""Automatic checks of what happens after the first day: security.txt still served and fresh,
people's requests answered in time, advisories acted on, abuse monitoring running.

Each one reads the same store and uses the same rules as the part of the hub it judges (the web's
security.txt builder, the advisory matching of the fleet page, the monitor's own tables), so a
pass here means the hub really behaves so, not that a setting says it should.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from goodthings.assessment.evidence import Context, Evidence, Finding, Verdict
from goodthings.core.manifest import Security
from goodthings.core.moments import add_months, in_utc
from goodthings.core.store import Selection, latest_time
from goodthings.core.store import monitoring as store_monitoring
from goodthings.core.store import tables as t
from goodthings.core.store import tables_console as tc
from goodthings.core.store import tables_monitoring as tm
from goodthings.core.store import tables_security as ts
from goodthings.security import affected_devices, operator_spec
from goodthings.security.securitytxt import address_problem, build
from goodthings.transparency.notices.published import applied_manifest

MAX_EXPIRES = timedelta(days=365)
"""RFC 9116 §2.5.5: an Expires more than a year ahead is not recommended (the file goes stale)."""
URGENT = ("critical", "high")
FLUSH_WINDOW = timedelta(hours=1)
"""The monitor flushes its minute buckets every minute; an hour without one means it is off."""
ANSWER_MONTHS, MAX_MONTHS = 1, 3
"""GDPR Art. 12(3): one month, extendable by two further months."""


def security_txt_fresh(context: Context) -> Finding:
    """security.txt, built exactly as the web serves it, can be served at the deployment's public
    address and its Expires lies in the future but not more than a year ahead (RFC 9116)."""
    check = "disclosure.security-txt-fresh"
    if context.public_url is None:
        return Finding(
            check,
            Verdict.not_applicable,
            "The deployment's public address was not given to the assessment, so security.txt "
            "cannot be built as the web would serve it.",
        )
    with context.engine.connect() as connection:
        spec = operator_spec(connection)
    disclosure = (spec or {}).get("vulnerability_disclosure") or {}
    problems: list[str] = []
    problem = address_problem(context.public_url)
    if problem is not None:
        problems.append(problem)
    if spec is None:
        problems.append("no operator is recorded (no manifest applied)")
    elif not disclosure.get("contact") or not disclosure.get("policy_url"):
        problems.append("no disclosure contact or policy is recorded for the operator")
    expires: datetime | None = None
    if not problems and spec is not None:
        text = build(spec, context.public_url, context.now)
        line = next(x for x in text.splitlines() if x.startswith("Expires: "))
        expires = datetime.strptime(line.removeprefix("Expires: "), "%Y-%m-%dT%H:%M:%SZ")
        expires = expires.replace(tzinfo=UTC)
        if expires <= context.now:
            problems.append(f"its Expires ({expires:%Y-%m-%d}) has passed")
        elif expires - context.now > MAX_EXPIRES:
            problems.append(f"its Expires ({expires:%Y-%m-%d}) is more than a year ahead")
    evidence: Evidence = {
        "public_url": context.public_url,
        "served_over": context.public_url.partition(":")[0],
        "operator_recorded": spec is not None,
        "contact_recorded": bool(disclosure.get("contact")),
        "expires": expires.isoformat() if expires else None,
        "security_txt": "/.well-known/security.txt",
    }
    if problems:
        return Finding(
            check,
            Verdict.failed,
            "security.txt cannot be served as it should: " + "; ".join(problems) + ".",
            evidence,
        )
    assert expires is not None
    return Finding(
        check,
        Verdict.passed,
        f"security.txt is served at {context.public_url.rstrip('/')}/.well-known/security.txt "
        f"and expires on {expires:%Y-%m-%d}.",
        evidence,
    )


def requests_on_time(context: Context) -> Finding:
    """Every request in the officer's register (letters, emails, calls) was answered by its
    deadline, extended at most once to three months from receipt, or is still within it.

    The deadline the law allows is used, not only the one recorded: a register row written with
    a deadline beyond a month (and no extension) is judged at one month."""
    check = "requests.on-time"
    r = tc.subject_requests.c
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(r.id, r.received_at, r.deadline, r.answered_at).order_by(r.id)
        ).all()
        extended = {
            ref: in_utc(deadline)
            for ref, deadline in connection.execute(
                select(tc.request_extensions.c.request, tc.request_extensions.c.deadline)
            )
        }
    if not rows:
        return Finding(check, Verdict.not_applicable, "No request is in the register.")
    late: list[str] = []
    open_ = 0
    for number, received, recorded, answered in rows:
        reference = f"register:{number}"
        received = in_utc(received)
        if reference in extended:
            deadline = min(extended[reference], add_months(received, MAX_MONTHS))
        else:
            deadline = min(in_utc(recorded), add_months(received, ANSWER_MONTHS))
        open_ += answered is None
        done = in_utc(answered) if answered is not None else None
        if (done is None and context.now > deadline) or (done is not None and done > deadline):
            late.append(reference)
    evidence: Evidence = {
        "requests": len(rows),
        "open": open_,
        "extended": len([1 for n, *_ in rows if f"register:{n}" in extended]),
        "late_requests": tuple(late),
    }
    if late:
        return Finding(
            check,
            Verdict.failed,
            f"{len(late)} of {len(rows)} request(s) in the register were not answered by their "
            f"deadline: {', '.join(late)}.",
            evidence,
        )
    return Finding(
        check,
        Verdict.passed,
        f"All {len(rows)} request(s) in the register were answered in time or are within "
        "their deadline.",
        evidence,
    )


def advisories_patched(context: Context) -> Finding:
    """No critical or high advisory that affects a current device (matched as the fleet page
    matches, withdrawn ones ignored) has stayed unpatched longer than the operator declared
    (`security.advisories.patch_within_days` in the applied manifest, 30 days by default)."""
    check = "advisories.patched"
    with context.engine.connect() as connection:
        manifest = applied_manifest(connection)
        security = manifest.security if manifest is not None else Security()
        patch_days = security.advisories.patch_within_days
        imported = {
            str(advisory): in_utc(at)
            for advisory, at in connection.execute(
                select(ts.advisories.c.id, ts.advisories.c.imported_at).where(
                    ts.advisories.c.withdrawn_at.is_(None)
                )
            )
        }
        hits = affected_devices(connection) if imported else []
    if not imported:
        return Finding(
            check,
            Verdict.not_applicable,
            "No advisory has been imported (`goodthings advisories import`), so none can be "
            "matched to the fleet.",
        )
    urgent = [hit for hit in hits if hit.severity in URGENT]
    limit = context.now - timedelta(days=patch_days)
    stale = sorted({hit.advisory for hit in urgent if imported[hit.advisory] < limit})
    devices = sorted({hit.device for hit in urgent if hit.advisory in stale})
    evidence: Evidence = {
        "advisories_imported": len(imported),
        "advisories_affecting_devices": len({hit.advisory for hit in hits}),
        "urgent_affecting_devices": tuple(sorted({hit.advisory for hit in urgent})),
        "patch_days": patch_days,
        "patch_days_declared": manifest is not None and "security" in manifest.model_fields_set,
        "stale_advisories": tuple(stale),
        "devices_left_exposed": tuple(devices),
    }
    if stale:
        return Finding(
            check,
            Verdict.failed,
            f"{len(stale)} critical or high advisory(ies) still affect {len(devices)} device(s) "
            f"more than {patch_days} days after import: {', '.join(stale)}.",
            evidence,
        )
    return Finding(
        check,
        Verdict.passed,
        f"No critical or high advisory of the {len(imported)} imported has affected a device "
        f"for more than {patch_days} days.",
        evidence,
    )


def monitoring_on(context: Context) -> Finding:
    """Abuse monitoring runs: when devices reported in the last hour the monitor flushed a minute
    bucket in it, and every device the monitor quarantined has an alert on record.

    A model without a `monitoring:` profile is still watched with the defaults, so profiles are
    counted as evidence, never failed. A quarantine by a person (the operator, the bench) is their
    decision, recorded in the ledger, and needs no alert."""
    check = "monitoring.on"
    since = context.now - FLUSH_WINDOW
    with context.engine.connect() as connection:
        models = connection.execute(
            select(t.device_models.c.id, t.device_models.c.monitoring)
            .where(
                t.device_models.c.id.in_(
                    select(t.devices.c.model_id).where(t.devices.c.retired_at.is_(None))
                )
            )
            .order_by(t.device_models.c.id)
        ).all()
        last_reading = latest_time(connection, Selection())
        last_minute = connection.execute(select(func.max(tm.behaviour_minutes.c.minute))).scalar()
        quarantines = store_monitoring.current_quarantines(connection)
        alerted = {
            str(device)
            for (device,) in connection.execute(
                select(t.alerts.c.device_id)
                .where(t.alerts.c.kind.like("monitor-%"))
                .group_by(t.alerts.c.device_id)
            )
        }
    if not models:
        return Finding(check, Verdict.not_applicable, "There are no devices to watch.")
    by_monitor = sorted(d for d, q in quarantines.items() if q.actor.startswith("hub:monitor"))
    unexplained = tuple(d for d in by_monitor if d not in alerted)
    reported = last_reading is not None and last_reading >= since.timestamp()
    flushed = last_minute is not None and int(last_minute) * 60 >= since.timestamp() - 60
    evidence: Evidence = {
        "models_in_use": len(models),
        "models_with_profile": tuple(str(m) for m, profile in models if profile is not None),
        "devices_reported_last_hour": reported,
        "monitor_flushed_last_hour": flushed,
        "last_bucket_minute": None if last_minute is None else int(last_minute),
        "quarantined": tuple(sorted(quarantines)),
        "quarantined_without_alert": unexplained,
    }
    problems = []
    if reported and not flushed:
        problems.append(
            "devices reported in the last hour but the monitor recorded nothing: it is not running"
        )
    if unexplained:
        problems.append(
            f"{len(unexplained)} device(s) were quarantined by the monitor with no alert on "
            f"record: {', '.join(unexplained)}"
        )
    if problems:
        return Finding(check, Verdict.failed, "; ".join(problems).capitalize() + ".", evidence)
    if not reported:
        return Finding(
            check,
            Verdict.not_applicable,
            "No device reported in the last hour, so the store cannot show whether the monitor "
            "is running; no quarantine lacks its alert.",
            evidence,
        )
    return Finding(
        check,
        Verdict.passed,
        f"The monitor recorded the devices' behaviour in the last hour; {len(models)} model(s) "
        "are watched (with their profile or the defaults) and every quarantine has its alert.",
        evidence,
    )
