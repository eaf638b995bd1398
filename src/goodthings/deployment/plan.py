"""What `goodthings apply` would change: the manifest's rows compared with the store's, purely.

Nothing declared is ever deleted: a row the manifest no longer names is *retired* (kept, marked
with the time), because readings, consents and the ledger still point at it. A retired row that
reappears in the manifest is *restored*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from goodthings.core.manifest import Manifest, period_of
from goodthings.core.store.declared import OCCUPANTS
from goodthings.deployment.differences import Difference, differences

Key = tuple[str, ...]


class Action(StrEnum):
    add = "add"
    change = "change"
    retire = "retire"
    restore = "restore"


@dataclass(frozen=True)
class Row:
    """One declared row: its table, its natural key and its other columns."""

    table: str
    key: Key
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    action: Action
    row: Row
    fields: tuple[str, ...] = ()
    """For a change: the columns whose values differ."""
    note: str = ""
    """What happens to data that depends on this row, in plain words."""
    before: Mapping[str, Any] = field(default_factory=dict)
    """For a change or a restore: the stored values, to say what each field was."""

    @property
    def differences(self) -> list[Difference]:
        return differences(self.before, self.row.values, self.fields)


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    needs_confirmation: tuple[Change, ...] = field(default=())
    """Changes that affect stored readings: applied only with --yes."""

    @property
    def empty(self) -> bool:
        return not self.changes


# Declared tables in the order rows must be added, so references exist before they are used.
TABLES: tuple[str, ...] = (
    "subjects",
    "places",
    "recipients",
    "device_models",
    "streams",
    "devices",
    "applications",
)
NOUNS: Mapping[str, str] = {
    "places": "place",
    "subjects": "subject",
    "recipients": "recipient",
    "device_models": "device model",
    "streams": "stream",
    "devices": "device",
    "applications": "application",
}


def desired_rows(
    manifest: Manifest, sboms: Mapping[str, str] | None = None
) -> dict[str, dict[Key, Row]]:
    """Every declared row the manifest asks for, by table and key; `sboms` gives the digest of
    each model's SBOM file, so that a changed SBOM is a change to its model."""
    digests = sboms or {}
    rows: list[Row] = []
    values: dict[str, Any]
    for place in manifest.places:
        values = {"name": place.name, "kind": str(place.kind), "address": place.address}
        extra = {"area": place.area, OCCUPANTS: sorted(place.occupants)}
        rows.append(Row("places", (place.id,), {**values, **extra}))
    for subject in manifest.subjects:
        rows.append(
            Row(
                "subjects",
                (subject.id,),
                {
                    "name": subject.name,
                    "role": subject.role,
                    "contact": subject.contact,
                    "language": subject.language,
                },
            )
        )
    for recipient in manifest.recipients:
        spec = recipient.model_dump(mode="json")
        values = {"name": recipient.name, "kind": recipient.kind, "spec": spec}
        rows.append(Row("recipients", (recipient.id,), values))
    for model in manifest.device_models:
        rows.append(
            Row(
                "device_models",
                (model.id,),
                {
                    "manufacturer": model.manufacturer,
                    "model": model.model,
                    "firmware_versions": list(model.firmware_versions),
                    "support_until": model.support_until,
                    "update_mechanism": str(model.update_mechanism),
                    "mud_url": model.mud_url,
                    "sbom_sha256": digests.get(model.id),
                    "monitoring": (
                        None
                        if model.monitoring is None
                        else model.monitoring.model_dump(mode="json", exclude_defaults=True)
                    ),
                },
            )
        )
        for stream in model.streams:
            retention = period_of(stream.retention) if stream.retention else None
            values = {
                "personal": stream.personal,
                "retention_seconds": int(retention.total_seconds()) if retention else None,
                "spec": stream.model_dump(mode="json"),
            }
            rows.append(Row("streams", (model.id, stream.name), values))
    for device in manifest.devices:
        rows.append(
            Row(
                "devices",
                (device.id,),
                {
                    "name": device.name,
                    "model_id": device.model,
                    "place_id": device.place,
                    "subject_id": device.subject,
                    "firmware": device.firmware,
                    "senml_name": device.senml_name,
                },
            )
        )
    for app in manifest.applications:
        values = {
            "name": app.name,
            "operated_by": app.operated_by,
            "purposes": list(app.purposes),
            "spec": app.model_dump(mode="json"),
        }
        rows.append(Row("applications", (app.id,), values))
    by_table: dict[str, dict[Key, Row]] = {table: {} for table in TABLES}
    for row in rows:
        by_table[row.table][row.key] = row
    return by_table


@dataclass(frozen=True)
class StoredRow:
    row: Row
    retired: bool
    readings: int = 0
    """For streams: how many readings are stored under it."""


def diff(
    desired: Mapping[str, Mapping[Key, Row]],
    stored: Mapping[str, Mapping[Key, StoredRow]],
) -> Plan:
    """Compare desired and stored rows table by table, in dependency order."""
    changes: list[Change] = []
    for table in TABLES:
        wanted = desired.get(table, {})
        have = stored.get(table, {})
        for key, row in wanted.items():
            existing = have.get(key)
            if existing is None:
                changes.append(Change(Action.add, row))
                continue
            differing = _differing(existing.row.values, row.values)
            if existing.retired:
                changes.append(Change(Action.restore, row, differing, before=existing.row.values))
            elif differing:
                changes.append(Change(Action.change, row, differing, before=existing.row.values))
        for key, existing in have.items():
            if key not in wanted and not existing.retired:
                changes.append(Change(Action.retire, existing.row, note=_retire_note(existing)))
    confirm = tuple(c for c in changes if c.action is Action.retire and _has_readings(c, stored))
    return Plan(tuple(changes), confirm)


def _differing(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name in new if old.get(name) != new[name])


def _has_readings(change: Change, stored: Mapping[str, Mapping[Key, StoredRow]]) -> bool:
    existing = stored.get(change.row.table, {}).get(change.row.key)
    return existing is not None and existing.readings > 0


def _retire_note(existing: StoredRow) -> str:
    if existing.row.table != "streams":
        return "kept in the records as retired; nothing stored is deleted"
    if existing.readings == 0:
        return "no readings are stored for it; new readings will be refused"
    spec = existing.row.values.get("spec") or {}
    retention = spec.get("retention") if isinstance(spec, Mapping) else None
    kept = f"until their retention period ({retention}) ends" if retention else "until erased"
    return (
        f"{existing.readings} stored readings are kept, read-only, {kept}; "
        "new readings will be refused"
    )


def describe(plan: Plan) -> Iterable[str]:
    """The plan as lines a person reads before saying yes."""
    if plan.empty:
        yield "No changes: the store already matches the manifest."
        return
    symbols = {Action.add: "+", Action.change: "~", Action.retire: "-", Action.restore: "+"}
    for change in plan.changes:
        noun = NOUNS[change.row.table]
        name = "/".join(change.row.key)
        yield f"  {symbols[change.action]} {change.action.value} {noun} {name}"
        for difference in change.differences:
            yield f"      {difference}"
        if change.note:
            yield f"      {change.note}"
    counts = {action: 0 for action in Action}
    for change in plan.changes:
        counts[change.action] += 1
    summary = ", ".join(f"{n} to {a.value}" for a, n in counts.items() if n)
    yield f"Plan: {summary}."


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan for a script (`apply --dry-run --json`): every change with its differences."""
    return {
        "changes": [
            {
                "action": change.action.value,
                "kind": NOUNS[change.row.table],
                "id": "/".join(change.row.key),
                "differences": [
                    {"setting": d.setting, "before": d.before, "after": d.after}
                    for d in change.differences
                ],
                "note": change.note or None,
                "needs_confirmation": change in plan.needs_confirmation,
            }
            for change in plan.changes
        ],
    }
