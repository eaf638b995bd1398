"""Read what the gate needs from the store: devices, stream rules and current choices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from goodthings.core.manifest import period_of
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.policy.decisions import Level
from goodthings.policy.gate import Choice, ConsentKey, DeviceFacts, StreamRule


@dataclass(frozen=True)
class PolicyInputs:
    devices: tuple[DeviceFacts, ...]
    rules: dict[str, tuple[StreamRule, ...]]
    choices: dict[ConsentKey, Choice]


def version(connection: Connection) -> tuple[int, ...]:
    """Changes whenever a consent is recorded, a manifest is applied, a person takes their
    own key or a data key is destroyed (an erasure), in any process: a refresh then reloads
    the gate and makes the keyring forget destroyed keys."""
    consents = connection.execute(select(func.max(t.consents.c.id))).scalar()
    manifests = connection.execute(select(func.max(t.manifest_versions.c.id))).scalar()
    held = connection.execute(select(func.count()).select_from(tp.held_keys)).scalar()
    destroyed = connection.execute(select(func.max(t.destroyed_keys.c.id))).scalar()
    return (consents or 0, manifests or 0, held or 0, destroyed or 0)


def read_inputs(connection: Connection) -> PolicyInputs:
    occupants: dict[str, list[str]] = {}
    for place_id, subject_id in connection.execute(
        select(t.place_occupants.c.place_id, t.place_occupants.c.subject_id).order_by(
            t.place_occupants.c.subject_id
        )
    ):
        occupants.setdefault(place_id, []).append(subject_id)
    devices = tuple(
        DeviceFacts(
            device_id=row.id,
            model_id=row.model_id,
            place_id=row.place_id,
            subject_id=row.subject_id,
            occupants=tuple(occupants.get(row.place_id, ())),
            senml_name=row.senml_name,
        )
        for row in connection.execute(
            select(t.devices).where(t.devices.c.retired_at.is_(None)).order_by(t.devices.c.id)
        )
    )
    rules: dict[str, list[StreamRule]] = {}
    for row in connection.execute(
        select(t.streams).where(t.streams.c.retired_at.is_(None)).order_by(t.streams.c.id)
    ):
        rules.setdefault(row.model_id, []).append(_rule(row.id, row.model_id, row.spec))
    return PolicyInputs(
        devices, {k: tuple(v) for k, v in rules.items()}, current_choices(connection)
    )


def _rule(stream_id: int, model_id: str, spec: dict[str, object]) -> StreamRule:
    purposes = spec["purposes"]
    assert isinstance(purposes, list)
    window = spec.get("aggregate_window")
    step = spec.get("coarse_step")
    levels = spec.get("minimisation") or ["exact", "off"]
    assert isinstance(levels, list)
    unit = spec.get("unit")
    return StreamRule(
        stream_id=stream_id,
        model_id=model_id,
        name=str(spec["name"]),
        personal=bool(spec["personal"]),
        about=str(spec["about"]) if spec.get("about") else None,
        purposes=tuple((use["purpose"], use.get("legal_basis")) for use in purposes),
        levels=tuple(Level(level) for level in levels),
        coarse_step=float(step) if isinstance(step, int | float) else None,
        aggregate_seconds=period_of(window).total_seconds() if isinstance(window, str) else None,
        unit=unit if isinstance(unit, str) and unit else None,
    )


def current_choices(
    connection: Connection, subjects: Sequence[str] | None = None
) -> dict[ConsentKey, Choice]:
    """The latest consent record per (subject, stream, purpose), without recipient."""
    query = (
        select(
            t.consents.c.subject_id,
            t.consents.c.stream_id,
            t.consents.c.purpose,
            t.consents.c.state,
            t.consents.c.level,
        )
        .where(t.consents.c.recipient_id.is_(None))
        .order_by(t.consents.c.id)
    )
    if subjects is not None:
        query = query.where(t.consents.c.subject_id.in_(subjects))
    choices: dict[ConsentKey, Choice] = {}
    for subject, stream_id, purpose, state, level in connection.execute(query):
        choices[(subject, stream_id, purpose)] = Choice(state == "given", Level(level))
    return choices
