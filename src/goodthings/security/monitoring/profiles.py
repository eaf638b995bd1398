"""Each device's expected behaviour: its model's `monitoring:` profile with the defaults filled in.

The profile comes from the applied manifest (the `device_models.monitoring` column); a model
without one is still watched, with no declared limits, against its streams, its support period
and its learned baseline, and every detection only raises an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, func, select

from goodthings.core.manifest import period_of
from goodthings.core.manifest.schema import Detection, Monitoring, Response
from goodthings.core.store import tables as t


@dataclass(frozen=True)
class Profile:
    """What one model's devices are expected to do, in seconds and counts."""

    model_id: str
    streams: frozenset[str]
    """The streams a device may send."""
    support_until: date
    firmware_versions: tuple[str, ...] = ()
    max_rate: int | None = None
    """Messages per minute."""
    max_pack: int | None = None
    """Records per message."""
    interval: float | None = None
    """Seconds between a device's reports."""
    max_clock_offset: float = 3600.0
    warm_up: float = 86400.0
    actions: Mapping[Detection, Response] = field(default_factory=dict)

    def response(self, kind: Detection) -> Response:
        return self.actions.get(kind, Response.alert)


def profile_of(
    model_id: str,
    declared: Mapping[str, object] | None,
    streams: frozenset[str],
    support_until: date,
    firmware_versions: tuple[str, ...] = (),
) -> Profile:
    """A model's profile from its stored `monitoring` value (as the manifest declared it)."""
    monitoring = Monitoring.model_validate(declared or {})
    allowed = monitoring.allowed_streams
    return Profile(
        model_id=model_id,
        streams=streams if allowed is None else frozenset(allowed),
        support_until=support_until,
        firmware_versions=firmware_versions,
        max_rate=monitoring.max_rate,
        max_pack=monitoring.max_pack,
        interval=None if monitoring.interval is None else _seconds(monitoring.interval),
        max_clock_offset=_seconds(monitoring.max_clock_offset),
        warm_up=_seconds(monitoring.warm_up),
        actions=dict(monitoring.actions),
    )


def load_profiles(connection: Connection) -> dict[str, Profile]:
    """Every current device's profile, by device id."""
    streams: dict[str, set[str]] = {}
    for model_id, name in connection.execute(
        select(t.streams.c.model_id, t.streams.c.name).where(t.streams.c.retired_at.is_(None))
    ):
        streams.setdefault(model_id, set()).add(name)
    models = {
        row.id: profile_of(
            row.id,
            row.monitoring,
            frozenset(streams.get(row.id, ())),
            row.support_until,
            tuple(row.firmware_versions),
        )
        for row in connection.execute(select(t.device_models))
    }
    return {
        device_id: models[model_id]
        for device_id, model_id in connection.execute(
            select(t.devices.c.id, t.devices.c.model_id).where(t.devices.c.retired_at.is_(None))
        )
        if model_id in models
    }


def manifest_version(connection: Connection) -> int:
    """Changes whenever a manifest is applied: profiles are reloaded then."""
    return int(connection.execute(select(func.max(t.manifest_versions.c.id))).scalar() or 0)


def _seconds(duration: str) -> float:
    return period_of(duration).total_seconds()
