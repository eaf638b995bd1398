"""Dates as the law counts them, and times as the store hands them back.

A request's deadline is "one month" (GDPR Art. 12(3)), extendable by two: a calendar month, not
30 days, counted the same way by the console that shows it and the assessment that judges it.
SQLite returns naive datetimes for what the hub wrote in UTC; PostgreSQL returns aware ones.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

__all__ = ["add_months", "in_utc"]


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or that month's last day (31 January + 1 = 28/29 February)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def in_utc(moment: datetime) -> datetime:
    """A stored time made aware: naive ones were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
