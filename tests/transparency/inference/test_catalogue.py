"""The correlation rule catalogue over manifests: what fires where, and what `apply` warns about."""

from __future__ import annotations

from pathlib import Path

import pytest

from goodthings.core.manifest import load_manifest_text
from goodthings.transparency.inference import RULES, evaluate, new_inferences

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"
DOC = (Path(__file__).resolve().parents[3] / "docs" / "transparency.md").read_text()


def _text(name: str) -> str:
    return (EXAMPLES_DIR / f"{name}.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("example", "rule", "places"),
    [
        ("smart-home", "daily-routine", ("flat-4",)),
        ("smart-home", "comings-and-goings", ("flat-4",)),
        ("smart-home", "fitness-and-illness", ("flat-4",)),
        ("care-home", "home-and-work", ("rosewood-house",)),
        ("care-home", "health-at-a-place", ("room-1",)),
        ("city-street", "routes-of-passers-by", ("mill-street-north", "mill-street-south")),
    ],
)
def test_rule_fires_on_the_example(example: str, rule: str, places: tuple[str, ...]) -> None:
    found = {(i.rule.id, i.places) for i in evaluate(load_manifest_text(_text(example)).manifest)}
    assert (rule, places) in found


def test_nothing_is_inferred_from_non_personal_streams_alone() -> None:
    manifest = load_manifest_text(_text("city-street")).manifest
    assert {i.rule.id for i in evaluate(manifest)} == {"routes-of-passers-by"}


def test_a_second_counter_place_is_a_new_inference_and_an_unchanged_manifest_is_not() -> None:
    text = _text("city-street")
    before = load_manifest_text(text).manifest
    assert new_inferences(before, before) == []
    one_counter = text.replace(
        "  - id: footfall-south\n    name: Footfall counter, south end\n    model: passby-wp2\n"
        "    place: mill-street-south\n",
        "  - id: footfall-south\n    name: Footfall counter, south end\n    model: passby-wp2\n"
        "    place: mill-street-north\n",
    )
    single = load_manifest_text(one_counter).manifest
    assert evaluate(single) == []
    added = new_inferences(single, before)
    assert [i.rule.id for i in added] == ["routes-of-passers-by"]


def test_adding_a_presence_sensor_beside_a_meter_reveals_the_daily_routine() -> None:
    text = _text("smart-home")
    without = text.replace(
        "  - id: presence-living\n    name:\n      en: Living-room presence sensor\n"
        "      fr: Capteur de présence du salon\n    model: opensense-p3\n"
        '    place: flat-4\n    firmware: "3.2.1"\n',
        "",
    )
    assert without != text
    added = new_inferences(load_manifest_text(without).manifest, load_manifest_text(text).manifest)
    assert {"daily-routine", "comings-and-goings"} <= {i.rule.id for i in added}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_rule_is_explained_in_the_operator_guide(rule: object) -> None:
    assert f"`{rule.id}`" in DOC  # type: ignore[attr-defined]
