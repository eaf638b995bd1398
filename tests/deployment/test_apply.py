"""Applying a manifest: idempotent, planned before it acts, and never losing stored readings."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, insert, select

from goodthings.core.errors import DeploymentError
from goodthings.core.manifest import load_manifest_text
from goodthings.core.store import tables as t
from goodthings.core.store.engine import migrate, open_engine
from goodthings.deployment.apply import ConfirmationNeeded, apply_manifest, plan_for
from goodthings.deployment.directory import EXAMPLES, example_text
from goodthings.deployment.plan import Action


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = open_engine(database_url)
    migrate(engine)
    yield engine  # type: ignore[misc]
    engine.dispose()


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for name, table in t.metadata.tables.items()
        }


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_applies_and_a_second_apply_changes_nothing(
    engine: Engine, example: str
) -> None:
    loaded = load_manifest_text(example_text(example), f"{example}.yaml")
    first = apply_manifest(engine, loaded)
    assert first.applied
    assert all(change.action is Action.add for change in first.plan.changes)
    streams = sum(len(model.streams) for model in loaded.manifest.device_models)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.streams)).scalar() == streams
        devices = connection.execute(select(func.count()).select_from(t.devices)).scalar()
        assert devices == len(loaded.manifest.devices)
    before = _snapshot(engine)
    second = apply_manifest(engine, loaded)
    assert second.plan.empty
    assert _snapshot(engine) == before


def test_a_changed_field_is_planned_as_a_change_of_that_field(engine: Engine) -> None:
    text = example_text("smart-home")
    apply_manifest(engine, load_manifest_text(text))
    edited = load_manifest_text(text.replace('firmware: "5.1.0"', 'firmware: "5.0.2"'))
    plan = apply_manifest(engine, edited, dry_run=True).plan
    assert [(c.action, c.row.key, c.fields) for c in plan.changes] == [
        (Action.change, ("thermostat-1",), ("firmware",))
    ]


def test_dry_run_changes_nothing(engine: Engine) -> None:
    before = _snapshot(engine)
    result = apply_manifest(engine, load_manifest_text(example_text("smart-home")), dry_run=True)
    assert not result.applied and not result.plan.empty
    assert _snapshot(engine) == before


def _without_door_sensor(text: str) -> str:
    start = text.index("  - id: opensense-d1")
    end = text.index("  - id: opensense-p3")
    device = (
        "  - id: front-door\n    name:\n      en: Front door sensor\n"
        "      fr: Capteur de la porte d'entrée\n"
        '    model: opensense-d1\n    place: flat-4\n    firmware: "1.8.0"\n'
    )
    assert device in text
    return (text[:start] + text[end:]).replace(device, "")


def _store_reading(engine: Engine, model: str, stream: str) -> None:
    with engine.begin() as connection:
        stream_id = connection.execute(
            select(t.streams.c.id).where(t.streams.c.model_id == model, t.streams.c.name == stream)
        ).scalar_one()
        connection.execute(
            insert(t.readings).values(
                device_id="front-door", stream_id=stream_id, time=1.7e9, value=1.0
            )
        )


def test_retiring_a_stream_with_readings_waits_for_yes_and_keeps_them(engine: Engine) -> None:
    text = example_text("smart-home")
    apply_manifest(engine, load_manifest_text(text))
    _store_reading(engine, "opensense-d1", "open")
    smaller = load_manifest_text(_without_door_sensor(text))

    plan = apply_manifest(engine, smaller, dry_run=True).plan
    retired = {c.row.key: c for c in plan.changes if c.action is Action.retire}
    assert set(retired) == {("front-door",), ("opensense-d1",), ("opensense-d1", "open")}
    note = retired[("opensense-d1", "open")].note
    assert "1 stored readings are kept, read-only, until their retention period (P7D) ends" in note
    assert [c.row.key for c in plan.needs_confirmation] == [("opensense-d1", "open")]

    before = _snapshot(engine)
    with pytest.raises(ConfirmationNeeded, match="--yes"):
        apply_manifest(engine, smaller)
    assert _snapshot(engine) == before

    apply_manifest(engine, smaller, confirmed=True)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.readings)).scalar() == 1
        retired_at = connection.execute(
            select(t.streams.c.retired_at).where(t.streams.c.name == "open")
        ).scalar_one()
    assert retired_at is not None


def test_a_retired_row_that_comes_back_is_restored(engine: Engine) -> None:
    text = example_text("smart-home")
    apply_manifest(engine, load_manifest_text(text))
    apply_manifest(engine, load_manifest_text(_without_door_sensor(text)), confirmed=True)
    plan = apply_manifest(engine, load_manifest_text(text)).plan
    assert {c.action for c in plan.changes} == {Action.restore}
    with engine.connect() as connection:
        retired = connection.execute(
            select(func.count()).select_from(t.devices).where(t.devices.c.retired_at.is_not(None))
        ).scalar()
    assert retired == 0


def test_occupants_follow_the_manifest(engine: Engine) -> None:
    text = example_text("smart-home")
    apply_manifest(engine, load_manifest_text(text))
    apply_manifest(
        engine, load_manifest_text(text.replace("occupants: [alex, sam]", "occupants: [alex]"))
    )
    with engine.connect() as connection:
        rows = connection.execute(select(t.place_occupants.c.subject_id)).scalars().all()
    assert rows == ["alex"]


def test_a_manifest_of_another_deployment_is_refused(engine: Engine) -> None:
    text = example_text("smart-home")
    apply_manifest(engine, load_manifest_text(text))
    other = text.replace("id: maple-court-flat-4", "id: another-flat")
    before = _snapshot(engine)
    with pytest.raises(DeploymentError, match="belongs to deployment 'maple-court-flat-4'"):
        apply_manifest(engine, load_manifest_text(other))
    assert _snapshot(engine) == before


def test_each_applied_version_of_the_manifest_is_kept(engine: Engine) -> None:
    text = example_text("smart-home")
    apply_manifest(engine, load_manifest_text(text))
    apply_manifest(engine, load_manifest_text(text))
    apply_manifest(
        engine, load_manifest_text(text.replace('firmware: "5.1.0"', 'firmware: "5.0.2"'))
    )
    with engine.connect() as connection:
        versions = connection.execute(select(t.manifest_versions.c.content)).scalars().all()
    assert len(versions) == 2
    assert versions[0] == text


def test_plan_reads_without_writing(engine: Engine) -> None:
    loaded = load_manifest_text(example_text("smart-home"))
    with engine.connect() as connection:
        plan = plan_for(connection, loaded)
    assert len(plan.changes) > 10
    assert _snapshot(engine)["devices"] == []
