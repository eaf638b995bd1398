"""Appending a device to a manifest's text keeps everything else, comments included."""

from __future__ import annotations

import pytest
import yaml

from goodthings.core.manifest.edit import append_device

DEVICE = {"id": "meter-2", "model": "wattwise-m2", "place": "flat-4", "firmware": "2.4.0"}


@pytest.mark.parametrize(
    ("text", "expected_devices"),
    [
        ("version: 1\n# the devices\ndevices:\n  - id: a\n    model: m\n", ["a", "meter-2"]),
        ("devices:\n- id: a\n  model: m\n\n# apps next\napplications: []\n", ["a", "meter-2"]),
        ("version: 1\ndevices: []\napplications: []\n", ["meter-2"]),
        ("version: 1\n", ["meter-2"]),
        ("version: 1\ndevices:    # none yet\napplications: []", ["meter-2"]),
    ],
)
def test_append_device(text: str, expected_devices: list[str]) -> None:
    edited = append_device(text, DEVICE)
    parsed = yaml.safe_load(edited)
    assert [d["id"] for d in parsed["devices"]] == expected_devices
    assert parsed["devices"][-1] == DEVICE
    for line in text.splitlines():
        if line.startswith("#"):
            assert line in edited  # comments survive
    if "applications" in text:
        assert parsed["applications"] == []


def test_values_are_quoted_so_yaml_keeps_them_as_text() -> None:
    edited = append_device("devices: []\n", {"id": "x", "firmware": "1.10"})
    assert yaml.safe_load(edited)["devices"][0]["firmware"] == "1.10"
