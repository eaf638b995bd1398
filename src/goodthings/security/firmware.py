"""Firmware: what devices report in their birth message, support periods, update campaigns.

A device announces itself after each start with a birth message, JSON `{"firmware": "5.1.0"}`,
over HTTP (`POST /birth` with its token) or MQTT (`gt/<id>/birth`). The hub keeps the latest
version, raises an alert for a version its model does not declare, and moves the device's
update campaign forward when it reports the campaign's target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, insert, select, update

from goodthings.core.errors import GoodthingsError
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts

BIRTH_TOPIC = "gt/+/birth"


class BirthError(GoodthingsError):
    """A birth message is malformed."""


@dataclass(frozen=True)
class SupportStatus:
    device: str
    model: str
    firmware: str
    support_until: date
    update_mechanism: str

    def past_support(self, today: date) -> bool:
        return self.support_until < today


@dataclass(frozen=True)
class Campaign:
    id: int
    model: str
    target: str
    created_at: datetime
    devices: dict[str, str]
    """device -> pending | updated"""

    @property
    def progress(self) -> tuple[int, int]:
        return sum(state == "updated" for state in self.devices.values()), len(self.devices)


def parse_birth(payload: bytes) -> str:
    """The firmware version in a birth message; raise BirthError saying what is wrong."""
    try:
        message = json.loads(payload)
    except ValueError:
        raise BirthError('a birth message is JSON like {"firmware": "5.1.0"}') from None
    version = message.get("firmware") if isinstance(message, dict) else None
    if not isinstance(version, str) or not version.strip() or len(version) > 64:
        raise BirthError(
            'a birth message needs "firmware": the version, as a string of 1 to 64 characters'
        )
    return version.strip()


def record_birth(connection: Connection, device_id: str, version: str) -> None:
    """Keep the reported version; alert on an undeclared one; advance campaigns."""
    now = datetime.now(UTC)
    connection.execute(
        delete(ts.firmware_reports).where(ts.firmware_reports.c.device_id == device_id)
    )
    connection.execute(
        insert(ts.firmware_reports).values(device_id=device_id, version=version, reported_at=now)
    )
    declared = connection.execute(
        select(t.device_models.c.firmware_versions)
        .join(t.devices, t.devices.c.model_id == t.device_models.c.id)
        .where(t.devices.c.id == device_id)
    ).scalar_one_or_none()
    if declared is not None and version not in declared:
        connection.execute(
            insert(t.alerts).values(
                created_at=now,
                device_id=device_id,
                kind="firmware-undeclared",
                severity="warning",
                message=(
                    f"device {device_id} reports firmware {version}, which its model does not "
                    f"declare ({', '.join(declared)}); check the device, then declare the version "
                    "in the manifest if it is genuine"
                ),
            )
        )
    targets = select(ts.update_campaigns.c.id).where(
        ts.update_campaigns.c.target_version == version
    )
    connection.execute(
        update(ts.campaign_devices)
        .where(
            ts.campaign_devices.c.device_id == device_id,
            ts.campaign_devices.c.campaign_id.in_(targets),
        )
        .values(state="updated", updated_at=now)
    )


def support_status(connection: Connection) -> list[SupportStatus]:
    """Each current device with its model's support-period end and its current firmware."""
    rows = connection.execute(
        select(
            t.devices.c.id,
            t.devices.c.model_id,
            t.devices.c.firmware,
            ts.firmware_reports.c.version,
            t.device_models.c.support_until,
            t.device_models.c.update_mechanism,
        )
        .join(t.device_models, t.device_models.c.id == t.devices.c.model_id)
        .outerjoin(ts.firmware_reports, ts.firmware_reports.c.device_id == t.devices.c.id)
        .where(t.devices.c.retired_at.is_(None))
        .order_by(t.device_models.c.support_until, t.devices.c.id)
    ).all()
    return [
        SupportStatus(device, model, reported or declared, until, mechanism)
        for device, model, declared, reported, until, mechanism in rows
    ]


def start_campaign(
    connection: Connection, model_id: str, target: str, note: str | None = None
) -> Campaign:
    """Record an update campaign: every current device of the model not yet at `target`."""
    known = connection.execute(
        select(t.device_models.c.firmware_versions).where(
            t.device_models.c.id == model_id, t.device_models.c.retired_at.is_(None)
        )
    ).scalar_one_or_none()
    if known is None:
        raise GoodthingsError(f"there is no device model {model_id!r}")
    if target not in known:
        raise GoodthingsError(
            f"{target} is not a firmware version of {model_id} ({', '.join(known)}); declare it "
            "in the manifest's firmware_versions first, then apply"
        )
    now = datetime.now(UTC)
    inserted = connection.execute(
        insert(ts.update_campaigns).values(
            model_id=model_id, target_version=target, created_at=now, note=note
        )
    ).inserted_primary_key
    if inserted is None:
        raise GoodthingsError("the database did not return the new campaign's id")
    campaign_id = int(inserted[0])
    for status in support_status(connection):
        if status.model == model_id:
            state = "updated" if status.firmware == target else "pending"
            connection.execute(
                insert(ts.campaign_devices).values(
                    campaign_id=campaign_id, device_id=status.device, state=state, updated_at=now
                )
            )
    return campaigns(connection, campaign_id)[0]


def campaigns(connection: Connection, campaign_id: int | None = None) -> list[Campaign]:
    query = select(ts.update_campaigns).order_by(ts.update_campaigns.c.id)
    if campaign_id is not None:
        query = query.where(ts.update_campaigns.c.id == campaign_id)
    result = []
    for row in connection.execute(query).mappings():
        devices = dict(
            connection.execute(
                select(ts.campaign_devices.c.device_id, ts.campaign_devices.c.state)
                .where(ts.campaign_devices.c.campaign_id == row["id"])
                .order_by(ts.campaign_devices.c.device_id)
            ).all()
        )
        result.append(
            Campaign(row["id"], row["model_id"], row["target_version"], row["created_at"], devices)
        )
    return result
