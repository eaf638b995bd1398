"""Read models of what is deployed now (not retired), for pages and commands that list it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from goodthings.store import tables as t


@dataclass(frozen=True)
class StreamView:
    name: str
    description: str
    unit: str | None
    personal: bool
    purposes: tuple[str, ...]
    retention: str | None


@dataclass(frozen=True)
class DeviceView:
    id: str
    name: str | None
    model: str
    model_label: str
    place: str
    subject: str | None
    firmware: str
    streams: tuple[StreamView, ...]


@dataclass(frozen=True)
class Catalogue:
    deployment_name: str | None
    operator: str | None
    devices: tuple[DeviceView, ...]


def _stream_view(name: str, spec: dict[str, Any], personal: bool) -> StreamView:
    return StreamView(
        name=name,
        description=spec.get("description", ""),
        unit=spec.get("unit"),
        personal=personal,
        purposes=tuple(use["purpose"] for use in spec.get("purposes", [])),
        retention=spec.get("retention"),
    )


def read_catalogue(connection: Connection) -> Catalogue:
    """Every current device with its streams, in a stable order."""
    operator = connection.execute(select(t.operator)).mappings().first()
    streams: dict[str, list[StreamView]] = {}
    stream_rows = connection.execute(
        select(t.streams).where(t.streams.c.retired_at.is_(None)).order_by(t.streams.c.id)
    ).mappings()
    for row in stream_rows:
        view = _stream_view(row["name"], row["spec"], row["personal"])
        streams.setdefault(row["model_id"], []).append(view)
    query = (
        select(
            t.devices, t.device_models.c.manufacturer, t.device_models.c.model.label("model_name")
        )
        .join(t.device_models, t.device_models.c.id == t.devices.c.model_id)
        .where(t.devices.c.retired_at.is_(None))
        .order_by(t.devices.c.place_id, t.devices.c.id)
    )
    devices = tuple(
        DeviceView(
            id=row["id"],
            name=row["name"],
            model=row["model_id"],
            model_label=f"{row['manufacturer']} {row['model_name']}",
            place=row["place_id"],
            subject=row["subject_id"],
            firmware=row["firmware"],
            streams=tuple(streams.get(row["model_id"], [])),
        )
        for row in connection.execute(query).mappings()
    )
    return Catalogue(
        deployment_name=operator["deployment_name"] if operator else None,
        operator=operator["legal_name"] if operator else None,
        devices=devices,
    )
