"""The fleet, device by device: what the console's device list and device pages show, read from
the same functions as the fleet-security page so both tell the same story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from goodthings.core.store import latest_by_device
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.core.store.monitoring import Quarantine, current_quarantines, quarantine_history
from goodthings.security import affected_devices, fleet_security
from goodthings.security.advisories import Affected
from goodthings.security.fleet import Lockout


@dataclass(frozen=True)
class DeviceSummary:
    id: str
    name: str | None
    model: str
    place: str
    firmware: str
    support_until: date | None
    credentials: int
    """Credentials that work now."""
    credential_age_days: int | None
    last_reading: datetime | None
    advisories: int

    def past_support(self, today: date) -> bool:
        return self.support_until is not None and self.support_until < today


@dataclass(frozen=True)
class DeviceDetail:
    summary: DeviceSummary
    manufacturer: str
    model_name: str
    update_mechanism: str
    declared_firmware: str
    lockouts: tuple[Lockout, ...]
    advisories: tuple[Affected, ...]
    quarantined: Quarantine | None = None
    """The device's current quarantine, if it is cut off now."""
    quarantines: tuple[dict[str, Any], ...] = ()
    """Its quarantines and releases, newest first: when, by whom, why."""


def devices(connection: Connection, now: datetime | None = None) -> list[DeviceSummary]:
    """Every current device, by id."""
    now = now or datetime.now(UTC)
    fleet = fleet_security(connection, now)
    credentials = {c.device: c for c in fleet.credentials}
    support = {s.device: s for s in fleet.support}
    latest = latest_by_device(connection)
    affected: dict[str, int] = {}
    for hit in fleet.affected:
        affected[hit.device] = affected.get(hit.device, 0) + 1
    d = t.devices.c
    rows = connection.execute(
        select(d.id, d.name, d.model_id, d.place_id, d.firmware)
        .where(d.retired_at.is_(None))
        .order_by(d.id)
    ).all()
    found = []
    for device, name, model, place, declared in rows:
        status = support.get(device)
        credential = credentials.get(device)
        found.append(
            DeviceSummary(
                id=device,
                name=name,
                model=model,
                place=place,
                firmware=status.firmware if status else declared,
                support_until=status.support_until if status else None,
                credentials=credential.live if credential else 0,
                credential_age_days=credential.age_days(now) if credential else None,
                last_reading=(
                    datetime.fromtimestamp(latest[device], UTC) if device in latest else None
                ),
                advisories=affected.get(device, 0),
            )
        )
    return found


def device(
    connection: Connection, device_id: str, now: datetime | None = None
) -> DeviceDetail | None:
    """One current device with its lockouts, the advisories that affect it and its quarantines;
    None if there is no such device (or it is retired)."""
    summary = next((s for s in devices(connection, now) if s.id == device_id), None)
    if summary is None:
        return None
    m = t.device_models.c
    manufacturer, model_name, mechanism = connection.execute(
        select(m.manufacturer, m.model, m.update_mechanism).where(m.id == summary.model)
    ).one()
    declared = connection.execute(
        select(t.devices.c.firmware).where(t.devices.c.id == device_id)
    ).scalar_one()
    lock = ts.security_lockouts.c
    lockouts = tuple(
        Lockout(*row)
        for row in connection.execute(
            select(lock.started_at, lock.scope, lock.subject, lock.failures, lock.seconds)
            .where(lock.scope == "device", lock.subject == device_id)
            .order_by(lock.id.desc())
            .limit(20)
        )
    )
    advisories = tuple(a for a in affected_devices(connection) if a.device == device_id)
    return DeviceDetail(
        summary,
        manufacturer,
        model_name,
        mechanism,
        declared,
        lockouts,
        advisories,
        current_quarantines(connection).get(device_id),
        tuple(reversed(quarantine_history(connection, device_id))),
    )
