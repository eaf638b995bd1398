"""What the operator asks of the monitor: who is cut off, what was found, who is busiest.

One reading of the store for the CLI, the console and the portal alike, so that each says the
same thing about a device.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from goodthings.core.store import monitoring
from goodthings.core.store.monitoring import Quarantine

_BUSY_MINUTES = 10


@dataclass(frozen=True)
class Status:
    quarantined: tuple[Quarantine, ...]
    detections_today: dict[str, int]
    """Detections of the last 24 hours, by kind."""
    busiest: tuple[tuple[str, int], ...]
    """(device, messages) over the last ten minutes flushed, most first."""


def status(connection: Connection, *, now: float | None = None) -> Status:
    moment = time.time() if now is None else now
    since = datetime.fromtimestamp(moment, UTC) - timedelta(days=1)
    recent = [d for d in monitoring.select_detections(connection, limit=1000) if _at(d) >= since]
    busy: Counter[str] = Counter()
    for bucket in monitoring.select_minutes(connection, since=int(moment // 60) - _BUSY_MINUTES):
        busy[bucket.device_id] += bucket.messages
    held = monitoring.current_quarantines(connection)
    return Status(
        quarantined=tuple(sorted(held.values(), key=lambda q: q.device_id)),
        detections_today=dict(Counter(str(d["kind"]) for d in recent)),
        busiest=tuple(busy.most_common(10)),
    )


def alerts(connection: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """The latest detections, newest first, ready for JSON (times as ISO 8601)."""
    return [
        {**detection, "at": _at(detection).isoformat()}
        for detection in monitoring.select_detections(connection, limit=limit)
    ]


def _at(detection: dict[str, Any]) -> datetime:
    at = detection["at"]
    assert isinstance(at, datetime)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
