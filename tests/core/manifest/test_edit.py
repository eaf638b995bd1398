"""Appending a device to a manifest's text keeps everything else, comments included."""

from __future__ import annotations

import pytest
import yaml

from goodthings.core.manifest.edit import append_device, remove_device

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


SMART_DEVICES = (
    "version: 1\n"
    "devices:\n"
    "  - id: meter-1\n"
    "    model: m  # the meter\n"
    "  - id: thermostat-1\n"
    "    model: t\n"
    "\n"
    "# the apps\n"
    "applications: []\n"
)


@pytest.mark.parametrize(
    ("device", "left"), [("meter-1", ["thermostat-1"]), ("thermostat-1", ["meter-1"])]
)
def test_remove_device_keeps_the_rest(device: str, left: list[str]) -> None:
    edited = remove_device(SMART_DEVICES, device)
    assert edited is not None
    parsed = yaml.safe_load(edited)
    assert [d["id"] for d in parsed["devices"]] == left
    assert "# the apps" in edited and parsed["applications"] == []


@pytest.mark.parametrize(
    "text",
    [
        SMART_DEVICES.replace("meter-1", "meter-10"),  # a longer id is another device
        "devices:\n  - {id: meter-1, model: m}\n",  # flow style: left to the person
        "version: 1\n",
    ],
)
def test_remove_device_finds_only_its_own_block(text: str) -> None:
    assert remove_device(text, "meter-1") is None
