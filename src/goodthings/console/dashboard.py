"""The deployment at a glance: one read of what the console's first page shows.

A device is *silent* when its newest reading is older than `SILENT_AFTER` (or it never sent
one); readings per minute count the readings' own times over the last hour, so a device that
sends late packs fills in the minutes it measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from goodthings.console.charts import Bar
from goodthings.console.requests import Request, all_requests
from goodthings.core import ledger
from goodthings.core.store import (
    count_refused_by_reason,
    latest_by_device,
    readings_per_minute,
)
from goodthings.core.store import tables as t

SILENT_AFTER = timedelta(hours=1)
MINUTES = 60


@dataclass(frozen=True)
class Alert:
    created_at: datetime
    kind: str
    severity: str
    device: str | None
    message: str


@dataclass(frozen=True)
class LedgerState:
    entries: int
    last_checkpoint_seq: int
    last_checkpoint_at: str | None

    @property
    def unsigned(self) -> int:
        return self.entries - self.last_checkpoint_seq


@dataclass(frozen=True)
class Dashboard:
    per_minute: tuple[Bar, ...]
    reporting: tuple[str, ...]
    silent: tuple[str, ...]
    refused: dict[str, int]
    open_requests: tuple[Request, ...]
    overdue: int
    alerts: tuple[Alert, ...]
    ledger: LedgerState
    now: datetime


def _alerts(connection: Connection) -> tuple[Alert, ...]:
    a = t.alerts.c
    rows = connection.execute(
        select(a.created_at, a.kind, a.severity, a.device_id, a.message)
        .where(a.resolved_at.is_(None))
        .order_by(a.id.desc())
        .limit(10)
    )
    return tuple(Alert(*row) for row in rows)


def _ledger_state(connection: Connection) -> LedgerState:
    head = ledger.head(connection)
    c = t.ledger_checkpoints.c
    time = connection.execute(
        select(c.time).where(c.seq == head.checkpoint_seq)
    ).scalar_one_or_none()
    return LedgerState(head.seq, head.checkpoint_seq, time)


def _per_minute(connection: Connection, now: datetime) -> tuple[Bar, ...]:
    end = (int(now.timestamp()) // 60 + 1) * 60
    start = end - MINUTES * 60
    counts = readings_per_minute(connection, start, end)
    return tuple(
        Bar(
            label=datetime.fromtimestamp(minute, UTC).strftime("%H:%M"),
            value=counts.get(minute, 0),
        )
        for minute in range(start, end, 60)
    )


def dashboard(connection: Connection, now: datetime | None = None) -> Dashboard:
    now = now or datetime.now(UTC)
    devices = connection.execute(
        select(t.devices.c.id).where(t.devices.c.retired_at.is_(None)).order_by(t.devices.c.id)
    ).scalars()
    latest = latest_by_device(connection)
    cutoff = (now - SILENT_AFTER).timestamp()
    reporting: list[str] = []
    silent: list[str] = []
    for device in devices:
        (reporting if latest.get(device, 0.0) >= cutoff else silent).append(device)
    open_requests = tuple(r for r in all_requests(connection) if r.state == "open")
    return Dashboard(
        per_minute=_per_minute(connection, now),
        reporting=tuple(reporting),
        silent=tuple(silent),
        refused=count_refused_by_reason(connection),
        open_requests=open_requests,
        overdue=sum(r.overdue(now) for r in open_requests),
        alerts=_alerts(connection),
        ledger=_ledger_state(connection),
        now=now,
    )
