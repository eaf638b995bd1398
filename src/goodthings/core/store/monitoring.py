"""The monitor's side of the store: minute buckets merged in, detections and quarantines kept.

Buckets arrive as deltas (what one process saw since its last flush) and are added to the row
of their device and minute, so several hub workers and restarts add up instead of overwriting.
Quarantine is an append-only history; its largest id is the version a pipeline watches to
learn, in every process, that a device was cut off or released.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, tuple_, update

from goodthings.core.store import tables as t
from goodthings.core.store import tables_monitoring as tm


@dataclass
class MinuteBucket:
    """What one device did in one minute, as seen by one process since its last flush."""

    device_id: str
    minute: int
    messages: int = 0
    bytes: int = 0
    records: int = 0
    largest_pack: int = 0
    streams: set[str] = field(default_factory=set)
    dropped: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    denied: dict[str, int] = field(default_factory=dict)
    """Topics the broker denied the device, by action ("publish", "subscribe")."""
    connections: int = 0
    firmware: str | None = None
    clock_offset_min: float | None = None
    clock_offset_max: float | None = None


@dataclass
class SignInBucket:
    """Failed sign-ins from one source address in one minute, and the names they tried."""

    source: str
    minute: int
    failures: int = 0
    devices: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Quarantine:
    """A device's current quarantine: since when, by whom, and why."""

    device_id: str
    at: datetime
    actor: str
    reason: str
    detection_id: int | None


def merge_minutes(connection: Connection, buckets: Sequence[MinuteBucket]) -> None:
    """Add each bucket to its stored row (or create it)."""
    if not buckets:
        return
    b = tm.behaviour_minutes
    keys = [(bucket.device_id, bucket.minute) for bucket in buckets]
    stored = {
        (row.device_id, row.minute): row
        for row in connection.execute(
            select(b).where(tuple_(b.c.device_id, b.c.minute).in_(keys)).with_for_update()
        )
    }
    for bucket in buckets:
        row = stored.get((bucket.device_id, bucket.minute))
        if row is None:
            connection.execute(insert(b).values(**_minute_values(bucket)))
            continue
        merged = MinuteBucket(
            bucket.device_id,
            bucket.minute,
            messages=row.messages + bucket.messages,
            bytes=row.bytes + bucket.bytes,
            records=row.records + bucket.records,
            largest_pack=max(row.largest_pack, bucket.largest_pack),
            streams=set(row.streams) | bucket.streams,
            dropped=_added(row.dropped, bucket.dropped),
            refused=_added(row.refused, bucket.refused),
            denied=_added(row.denied, bucket.denied),
            connections=row.connections + bucket.connections,
            firmware=bucket.firmware or row.firmware,
            clock_offset_min=_extreme(min, row.clock_offset_min, bucket.clock_offset_min),
            clock_offset_max=_extreme(max, row.clock_offset_max, bucket.clock_offset_max),
        )
        connection.execute(
            update(b)
            .where(b.c.device_id == bucket.device_id, b.c.minute == bucket.minute)
            .values(**_minute_values(merged))
        )


def merge_sign_ins(connection: Connection, buckets: Sequence[SignInBucket]) -> None:
    s = tm.sign_in_minutes
    for bucket in buckets:
        where = (s.c.source == bucket.source, s.c.minute == bucket.minute)
        row = connection.execute(select(s).where(*where).with_for_update()).first()
        if row is None:
            connection.execute(
                insert(s).values(
                    source=bucket.source,
                    minute=bucket.minute,
                    failures=bucket.failures,
                    devices=sorted(bucket.devices),
                )
            )
        else:
            connection.execute(
                update(s)
                .where(*where)
                .values(
                    failures=row.failures + bucket.failures,
                    devices=sorted(set(row.devices) | bucket.devices),
                )
            )


def select_minutes(
    connection: Connection, *, since: int, device_id: str | None = None
) -> list[MinuteBucket]:
    """The stored buckets from minute `since` on, oldest first."""
    b = tm.behaviour_minutes
    query = select(b).where(b.c.minute >= since).order_by(b.c.minute, b.c.device_id)
    if device_id is not None:
        query = query.where(b.c.device_id == device_id)
    return [
        MinuteBucket(
            row.device_id,
            row.minute,
            messages=row.messages,
            bytes=row.bytes,
            records=row.records,
            largest_pack=row.largest_pack,
            streams=set(row.streams),
            dropped=dict(row.dropped),
            refused=dict(row.refused),
            denied=dict(row.denied),
            connections=row.connections,
            firmware=row.firmware,
            clock_offset_min=row.clock_offset_min,
            clock_offset_max=row.clock_offset_max,
        )
        for row in connection.execute(query)
    ]


def last_active(connection: Connection) -> dict[str, int]:
    """The last minute each device sent a message in, by device id."""
    b = tm.behaviour_minutes
    query = select(b.c.device_id, func.max(b.c.minute)).where(b.c.messages > 0)
    return {device: minute for device, minute in connection.execute(query.group_by(b.c.device_id))}


def message_slots(
    connection: Connection, *, since: int, slot_minutes: int
) -> tuple[dict[str, dict[int, int]], dict[str, int]]:
    """Messages per device and slot (keyed by the slot's first minute) from minute `since`,
    and the first minute each device was seen in that span."""
    b = tm.behaviour_minutes
    slot = b.c.minute - b.c.minute % slot_minutes
    query = (
        select(b.c.device_id, slot, func.sum(b.c.messages), func.min(b.c.minute))
        .where(b.c.minute >= since)
        .group_by(b.c.device_id, slot)
    )
    slots: dict[str, dict[int, int]] = {}
    first: dict[str, int] = {}
    for device, start, messages, earliest in connection.execute(query):
        slots.setdefault(device, {})[int(start)] = int(messages)
        first[device] = min(first.get(device, earliest), earliest)
    return slots, first


def metrics_retention(connection: Connection) -> float:
    """Seconds behaviour minutes are kept, as the applied manifest says (30 days before one)."""
    found = connection.execute(select(t.operator.c.metrics_retention_seconds)).scalar()
    return 30 * 86400.0 if found is None else float(found)


def purge_minutes(connection: Connection, *, before: int) -> int:
    """Delete buckets older than minute `before`; how many rows went."""
    gone = connection.execute(
        delete(tm.behaviour_minutes).where(tm.behaviour_minutes.c.minute < before)
    ).rowcount
    gone += connection.execute(
        delete(tm.sign_in_minutes).where(tm.sign_in_minutes.c.minute < before)
    ).rowcount
    return int(gone)


def record_detection(connection: Connection, values: Mapping[str, Any]) -> int:
    """Keep one detection; its id."""
    inserted = connection.execute(insert(tm.detections).values(**values))
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def select_detections(connection: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """The latest detections, newest first, as plain mappings."""
    d = tm.detections
    query = select(d).order_by(d.c.id.desc()).limit(limit)
    return [dict(row) for row in connection.execute(query).mappings()]


def detection_counts(connection: Connection) -> list[tuple[str, str, int]]:
    """(kind, severity, how many) of every detection kept."""
    d = tm.detections
    query = select(d.c.kind, d.c.severity, func.count()).group_by(d.c.kind, d.c.severity)
    return [(kind, severity, int(count)) for kind, severity, count in connection.execute(query)]


def quarantine_version(connection: Connection) -> int:
    """Changes whenever a device is quarantined or released, in any process."""
    return int(connection.execute(select(func.max(tm.quarantine_events.c.id))).scalar() or 0)


def current_quarantines(connection: Connection) -> dict[str, Quarantine]:
    """Every device whose latest quarantine event is a quarantine, by device id."""
    q = tm.quarantine_events
    latest = select(func.max(q.c.id)).group_by(q.c.device_id)
    query = select(q).where(q.c.id.in_(latest), q.c.action == "quarantine")
    return {
        row.device_id: Quarantine(row.device_id, row.at, row.actor, row.reason, row.detection_id)
        for row in connection.execute(query)
    }


def record_quarantine_event(connection: Connection, values: Mapping[str, Any]) -> int:
    inserted = connection.execute(insert(tm.quarantine_events).values(**values))
    key = inserted.inserted_primary_key
    assert key is not None
    return int(key[0])


def quarantine_history(connection: Connection, device_id: str) -> list[dict[str, Any]]:
    """A device's quarantines and releases, oldest first."""
    q = tm.quarantine_events
    query = select(q).where(q.c.device_id == device_id).order_by(q.c.id)
    return [dict(row) for row in connection.execute(query).mappings()]


def _minute_values(bucket: MinuteBucket) -> dict[str, Any]:
    return {
        "device_id": bucket.device_id,
        "minute": bucket.minute,
        "messages": bucket.messages,
        "bytes": bucket.bytes,
        "records": bucket.records,
        "largest_pack": bucket.largest_pack,
        "streams": sorted(bucket.streams),
        "dropped": dict(sorted(bucket.dropped.items())),
        "refused": dict(sorted(bucket.refused.items())),
        "denied": dict(sorted(bucket.denied.items())),
        "connections": bucket.connections,
        "firmware": bucket.firmware,
        "clock_offset_min": bucket.clock_offset_min,
        "clock_offset_max": bucket.clock_offset_max,
    }


def _added(stored: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    total = dict(stored)
    for key, count in more.items():
        total[key] = total.get(key, 0) + count
    return total


def _extreme(pick: Any, a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else float(pick(a, b))
