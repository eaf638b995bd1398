"""The register's deadlines: one calendar month from receipt, extended once by two months with a
reason and only within the first deadline (GDPR Art. 12(3)); overdue means open and past it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from goodthings.console import requests as register
from goodthings.console.requests import Kind, RequestError
from goodthings.core.moments import add_months


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 15, tzinfo=UTC), 1, datetime(2026, 2, 15, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 12, 3, tzinfo=UTC), 1, datetime(2027, 1, 3, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), 3, datetime(2027, 2, 28, tzinfo=UTC)),
    ],
)
def test_a_month_is_a_calendar_month(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


def _recorded(store: Engine, days_ago: int) -> str:
    received = datetime.now(UTC) - timedelta(days=days_ago)
    with store.begin() as connection:
        return register.record(connection, Kind.access, "alex", received, "letter", "", "dana")


def test_a_recorded_request_is_due_a_month_after_it_arrived(store: Engine) -> None:
    reference = _recorded(store, 3)
    with store.connect() as connection:
        request = register.find(connection, reference)
    assert request.deadline == add_months(request.received_at, 1)
    assert request.state == "open" and not request.overdue(datetime.now(UTC))
    assert request.overdue(request.deadline + timedelta(seconds=1))


def test_an_extension_needs_a_reason_comes_once_and_only_in_time(store: Engine) -> None:
    reference = _recorded(store, 3)
    with store.begin() as connection, pytest.raises(RequestError, match="reason"):
        register.extend(connection, reference, "  ", "dana")
    with store.begin() as connection:
        deadline = register.extend(connection, reference, "many requests at once", "dana")
    with store.connect() as connection:
        request = register.find(connection, reference)
    assert request.deadline == deadline == add_months(add_months(request.received_at, 1), 2)
    assert request.extension_reason == "many requests at once"
    with store.begin() as connection, pytest.raises(RequestError, match="once"):
        register.extend(connection, reference, "again", "dana")
    late = _recorded(store, 40)
    with store.begin() as connection, pytest.raises(RequestError, match="passed"):
        register.extend(connection, late, "too late", "dana")


def test_an_answered_request_is_no_longer_open(store: Engine) -> None:
    reference = _recorded(store, 40)
    with store.connect() as connection:
        assert register.find(connection, reference).overdue(datetime.now(UTC))
    with store.begin() as connection, pytest.raises(RequestError, match="what was sent"):
        register.answer(connection, reference, "")
    with store.begin() as connection:
        register.answer(connection, reference, "their data, by post")
    with store.connect() as connection:
        answered = register.find(connection, reference)
    assert answered.state == "answered" and not answered.overdue(datetime.now(UTC))
    assert answered.sent == "their data, by post"
    with store.begin() as connection, pytest.raises(RequestError, match="already"):
        register.answer(connection, reference, "again")
