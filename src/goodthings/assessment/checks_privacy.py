"""Automatic checks of privacy practice, over the live store: personal values sealed at rest,
retention declared and enforced, erasure requests met in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from goodthings.assessment.evidence import Context, Evidence, Finding, Verdict
from goodthings.core.moments import add_months, in_utc
from goodthings.core.store import count_by_stream, count_in_clear, oldest_by_stream
from goodthings.core.store import tables as t
from goodthings.core.store import tables_console as tc
from goodthings.core.store import tables_portal as tp

RETENTION_GRACE = timedelta(days=1)
"""How long past its retention a reading may linger: the purge runs on a schedule
(`retention_interval`, hourly by default), not at the exact second a reading expires."""
MAX_MONTHS = 3
"""GDPR Art. 12(3): one month from the request, extendable by two further months."""


def sealed_at_rest(context: Context) -> Finding:
    """No personal value lies in the store in clear: the store itself is scanned, so a row
    written around the gate (a migration, a script, direct SQL) is found as well."""
    s = t.streams.c
    with context.engine.connect() as connection:
        streams = {
            int(stream_id): f"{model}/{name}"
            for stream_id, model, name in connection.execute(
                select(s.id, s.model_id, s.name).where(s.personal.is_(True))
            )
        }
        if not streams:
            return Finding(
                "at-rest.sealed", Verdict.not_applicable, "No stream holds personal data."
            )
        held = count_by_stream(connection)
        clear = count_in_clear(connection, sorted(streams))
    scanned = sum(held.get(stream_id, 0) for stream_id in streams)
    exposed = tuple(sorted(streams[stream_id] for stream_id in clear))
    evidence: Evidence = {
        "personal_streams": len(streams),
        "readings_scanned": scanned,
        "readings_in_clear": sum(clear.values()),
        "streams_with_values_in_clear": exposed,
    }
    if clear:
        return Finding(
            "at-rest.sealed",
            Verdict.failed,
            f"{sum(clear.values())} reading(s) of personal streams are stored unencrypted: "
            f"{', '.join(exposed)}.",
            evidence,
        )
    return Finding(
        "at-rest.sealed",
        Verdict.passed,
        f"All {scanned} stored reading(s) of the {len(streams)} personal stream(s) are encrypted.",
        evidence,
    )


def retention_declared(context: Context) -> Finding:
    """Every personal stream in use says how long its readings are kept."""
    s = t.streams.c
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(s.model_id, s.name, s.retention_seconds)
            .where(s.personal.is_(True), s.retired_at.is_(None))
            .order_by(s.model_id, s.name)
        ).all()
    if not rows:
        return Finding(
            "retention.declared", Verdict.not_applicable, "No stream holds personal data."
        )
    unbounded = tuple(f"{model}/{name}" for model, name, seconds in rows if seconds is None)
    evidence: Evidence = {"personal_streams": len(rows), "streams_without_retention": unbounded}
    if unbounded:
        return Finding(
            "retention.declared",
            Verdict.failed,
            f"{len(unbounded)} personal stream(s) keep readings forever: {', '.join(unbounded)}.",
            evidence,
        )
    return Finding(
        "retention.declared",
        Verdict.passed,
        f"All {len(rows)} personal stream(s) declare a retention period.",
        evidence,
    )


def retention_enforced(context: Context) -> Finding:
    """No stream holds a reading older than its retention (plus the purge's schedule)."""
    s = t.streams.c
    with context.engine.connect() as connection:
        oldest = oldest_by_stream(connection)
        rows = [
            (model, name, seconds, oldest[stream_id])
            for stream_id, model, name, seconds in connection.execute(
                select(s.id, s.model_id, s.name, s.retention_seconds)
                .where(s.retention_seconds.is_not(None))
                .order_by(s.model_id, s.name)
            )
            if stream_id in oldest
        ]
        last_purge = connection.execute(
            select(func.max(t.ledger_entries.c.seq)).where(
                t.ledger_entries.c.actor == "hub:retention"
            )
        ).scalar()
    if not rows:
        return Finding(
            "retention.enforced",
            Verdict.not_applicable,
            "No stream with a retention period holds readings yet.",
        )
    now = context.now.timestamp()
    grace = RETENTION_GRACE.total_seconds()
    overdue = tuple(
        f"{model}/{name}"
        for model, name, seconds, first in rows
        if first is not None and now - float(first) > float(seconds) + grace
    )
    evidence: Evidence = {
        "streams_with_readings": len(rows),
        "streams_past_retention": overdue,
        "grace_seconds": int(grace),
        "last_purge_ledger_seq": last_purge,
    }
    if overdue:
        return Finding(
            "retention.enforced",
            Verdict.failed,
            f"{len(overdue)} stream(s) hold readings older than their retention: "
            f"{', '.join(overdue)}.",
            evidence,
        )
    return Finding(
        "retention.enforced",
        Verdict.passed,
        f"The oldest reading of each of the {len(rows)} stream(s) is within its retention.",
        evidence,
    )


def erasure_on_time(context: Context) -> Finding:
    """Every erasure request was completed by its deadline, or its deadline has not passed.

    A deadline extended under GDPR Art. 12(3) (`goodthings requests extend`, or the console's
    register) counts with its extension, but never beyond three months from the request, which
    is the most the law allows whatever the extension row says."""
    e = tp.erasure_requests.c
    x = tc.request_extensions.c
    with context.engine.connect() as connection:
        rows = connection.execute(
            select(e.id, e.requested_at, e.deadline, e.completed_at).order_by(e.requested_at)
        ).all()
        extended = {
            str(reference).removeprefix("erasure:"): in_utc(deadline)
            for reference, deadline in connection.execute(
                select(x.request, x.deadline).where(x.request.startswith("erasure:"))
            )
        }
    if not rows:
        return Finding(
            "erasure.on-time", Verdict.not_applicable, "No one has asked for erasure yet."
        )
    late = []
    for request, requested, deadline, completed in rows:
        if str(request) in extended:
            latest = add_months(in_utc(requested), MAX_MONTHS)
            deadline = min(extended[str(request)], latest)
        if _late(_aware(deadline), _aware(completed), context.now):
            late.append(str(request))
    evidence: Evidence = {
        "requests": len(rows),
        "open": len([1 for *_, completed in rows if completed is None]),
        "extended": len([1 for request, *_ in rows if str(request) in extended]),
        "late_requests": tuple(late),
    }
    if late:
        return Finding(
            "erasure.on-time",
            Verdict.failed,
            f"{len(late)} of {len(rows)} erasure request(s) were not met by their deadline.",
            evidence,
        )
    return Finding(
        "erasure.on-time",
        Verdict.passed,
        f"All {len(rows)} erasure request(s) were met, or are still within, their deadline.",
        evidence,
    )


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes for what was stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _late(deadline: datetime | None, completed: datetime | None, now: datetime) -> bool:
    if deadline is None:
        return False
    return (completed or now) > deadline
