"""Read models of what is deployed now (not retired), for pages and commands that list it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, func, select

from goodthings.core.store import tables as t
from goodthings.core.store.declared import stored_text


@dataclass(frozen=True)
class StreamView:
    id: int
    name: str
    description: str
    unit: str | None
    value_type: str
    personal: bool
    purposes: tuple[str, ...]
    retention: str | None
    readings: int = 0
    """Readings stored from this device for this stream (filled in by `read_catalogue`)."""
    last_reading: float | None = None
    """Time of the latest of them, in seconds since 1970."""


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
    place_name: str | None = None
    """What the manifest calls the place ("Flat 4"), for pages; `place` is its id."""
    subject_name: str | None = None


@dataclass(frozen=True)
class Catalogue:
    deployment_name: str | None
    operator: str | None
    devices: tuple[DeviceView, ...]


def _stream_view(stream_id: int, name: str, spec: dict[str, Any], personal: bool) -> StreamView:
    return StreamView(
        id=stream_id,
        name=name,
        description=stored_text(spec.get("description")),
        unit=spec.get("unit"),
        value_type=spec.get("value_type", "number"),
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
        view = _stream_view(row["id"], row["name"], row["spec"], row["personal"])
        streams.setdefault(row["model_id"], []).append(view)
    query = (
        select(
            t.devices,
            t.device_models.c.manufacturer,
            t.device_models.c.model.label("model_name"),
            t.places.c.name.label("place_name"),
            t.subjects.c.name.label("subject_name"),
        )
        .join(t.device_models, t.device_models.c.id == t.devices.c.model_id)
        .outerjoin(t.places, t.places.c.id == t.devices.c.place_id)
        .outerjoin(t.subjects, t.subjects.c.id == t.devices.c.subject_id)
        .where(t.devices.c.retired_at.is_(None))
        .order_by(t.devices.c.place_id, t.devices.c.id)
    )
    counts = _reading_counts(connection)
    devices = tuple(
        DeviceView(
            id=row["id"],
            name=row["name"],
            model=row["model_id"],
            model_label=f"{row['manufacturer']} {row['model_name']}",
            place=row["place_id"],
            subject=row["subject_id"],
            firmware=row["firmware"],
            place_name=row["place_name"],
            subject_name=row["subject_name"],
            streams=tuple(
                replace(view, readings=count, last_reading=last)
                for view in streams.get(row["model_id"], [])
                for count, last in [counts.get((row["id"], view.id), (0, None))]
            ),
        )
        for row in connection.execute(query).mappings()
    )
    return Catalogue(
        deployment_name=operator["deployment_name"] if operator else None,
        operator=operator["legal_name"] if operator else None,
        devices=devices,
    )


def _reading_counts(connection: Connection) -> dict[tuple[str, int], tuple[int, float | None]]:
    """How many readings each (device, stream) has stored, and the time of the latest."""
    query = select(
        t.readings.c.device_id,
        t.readings.c.stream_id,
        func.count(),
        func.max(t.readings.c.time),
    ).group_by(t.readings.c.device_id, t.readings.c.stream_id)
    return {
        (device, stream): (count, last) for device, stream, count, last in connection.execute(query)
    }
