"""Vulnerability disclosure: reports received and triaged (security.txt is `securitytxt.py`).

A report moves forward only: received, confirmed, fixed, published. Each change is dated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from goodthings.core.errors import GoodthingsError
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts

MAX_SUMMARY = 200
MAX_DETAILS = 20_000


class ReportError(GoodthingsError):
    """A vulnerability report or a triage step is refused; the message says why."""


class UnknownReport(ReportError):
    """No vulnerability report has this number."""


class ReportState(StrEnum):
    received = "received"
    confirmed = "confirmed"
    fixed = "fixed"
    published = "published"


_ORDER = list(ReportState)


@dataclass(frozen=True)
class Report:
    id: int
    received_at: datetime
    contact: str | None
    summary: str
    details: str
    state: ReportState
    updated_at: datetime


def operator_spec(connection: Connection) -> dict[str, Any] | None:
    row = connection.execute(select(t.operator.c.spec)).first()
    return None if row is None else dict(row[0])


def submit_report(connection: Connection, summary: str, details: str, contact: str | None) -> int:
    """Store a report as received; return its reference number."""
    summary, details = summary.strip(), details.strip()
    if not summary or not details:
        raise ReportError("give a short summary and the details: what, where, and how to see it")
    if len(summary) > MAX_SUMMARY or len(details) > MAX_DETAILS:
        raise ReportError(
            f"keep the summary under {MAX_SUMMARY} characters and the details under "
            f"{MAX_DETAILS}; link to anything longer"
        )
    now = datetime.now(UTC)
    inserted = connection.execute(
        insert(ts.vulnerability_reports).values(
            received_at=now,
            contact=(contact or "").strip()[:500] or None,
            summary=summary,
            details=details,
            state=ReportState.received.value,
            updated_at=now,
        )
    ).inserted_primary_key
    if inserted is None:
        raise ReportError("the database did not return the report's number")
    connection.execute(
        insert(t.alerts).values(
            created_at=now,
            kind="vulnerability-report",
            severity="warning",
            message=f"vulnerability report {inserted[0]} received: {summary}",
        )
    )
    return int(inserted[0])


def triage(connection: Connection, report_id: int, state: ReportState) -> Report:
    """Move a report forward (received, confirmed, fixed, published); never back."""
    current = reports(connection, report_id)
    if not current:
        raise UnknownReport(f"there is no vulnerability report {report_id}")
    before = current[0].state
    if _ORDER.index(state) <= _ORDER.index(before):
        raise ReportError(
            f"report {report_id} is already {before}; it can only move forward "
            f"({' → '.join(_ORDER)})"
        )
    connection.execute(
        update(ts.vulnerability_reports)
        .where(ts.vulnerability_reports.c.id == report_id)
        .values(state=state.value, updated_at=datetime.now(UTC))
    )
    return reports(connection, report_id)[0]


def reports(connection: Connection, report_id: int | None = None) -> list[Report]:
    query = select(ts.vulnerability_reports).order_by(ts.vulnerability_reports.c.id.desc())
    if report_id is not None:
        query = query.where(ts.vulnerability_reports.c.id == report_id)
    return [
        Report(
            row["id"],
            row["received_at"],
            row["contact"],
            row["summary"],
            row["details"],
            ReportState(row["state"]),
            row["updated_at"],
        )
        for row in connection.execute(query).mappings()
    ]
