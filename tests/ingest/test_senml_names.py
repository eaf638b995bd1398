"""A device's SenML name: RFC 8428's recommended base names (`urn:dev:ow:…:`, `urn:dev:mac:…`)
name a device's streams when the manifest gives the device that name."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from goodthings.core.errors import ManifestError
from goodthings.core.manifest import load_manifest_text
from goodthings.deployment import apply_manifest
from goodthings.ingest.batch import Incoming
from goodthings.ingest.senml import stream_name
from goodthings.runtime.hub import Hub

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "smart-home.yaml"
OW = "urn:dev:ow:10e2073a01080063:"
MAC = "urn:dev:mac:0024befffe804ff1"


@pytest.mark.parametrize(
    ("name", "senml_name", "expected"),
    [
        (f"{OW}temperature", OW, "temperature"),
        (f"{MAC}:temperature", MAC, "temperature"),
        (f"{MAC}/temperature", MAC, "temperature"),
        ("thermostat-1:temperature", OW, "temperature"),  # the device id still works
        ("temperature", OW, "temperature"),
        (OW, OW, OW),  # the prefix alone names no stream
        ("urn:dev:ow:10e2073a01080064:temperature", OW, "urn:dev:ow:10e2073a01080064:temperature"),
        (f"{MAC}0:temperature", MAC, f"{MAC}0:temperature"),  # not a prefix at a separator
    ],
)
def test_stream_name(name: str, senml_name: str, expected: str) -> None:
    assert stream_name(name, "thermostat-1", senml_name) == expected


def _with_name(senml_name: str, device: str = "thermostat-1") -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    anchor = f"  - id: {device}\n"
    assert anchor in text
    return text.replace(anchor, f'{anchor}    senml_name: "{senml_name}"\n')


def test_the_rfc_base_name_names_the_devices_streams(smart_home: Hub) -> None:
    apply_manifest(smart_home.engine, load_manifest_text(_with_name(OW), "goodthings.yaml"))
    smart_home.pipeline.refresh(force=True)
    # RFC 8428 §5.1.2's shape: the device's URN as base name, then the measurement.
    pack = [
        {"bn": OW, "bt": time.time() - 2, "bu": "Cel", "bver": 5, "n": "temperature", "v": 21.5},
        {"n": "temperature", "t": 1, "v": 21.6},
    ]
    outcome = smart_home.pipeline.ingest(
        [Incoming("thermostat-1", json.dumps(pack).encode(), time.time())]
    )
    [result] = outcome.results
    assert result.refusal is None, result.error
    assert result.stored == 2


def test_another_devices_base_name_is_not_this_devices(smart_home: Hub) -> None:
    apply_manifest(smart_home.engine, load_manifest_text(_with_name(OW), "goodthings.yaml"))
    smart_home.pipeline.refresh(force=True)
    pack = [{"bn": "urn:dev:ow:ffffffffffffffff:", "n": "temperature", "v": 21.5}]
    outcome = smart_home.pipeline.ingest(
        [Incoming("thermostat-1", json.dumps(pack).encode(), time.time())]
    )
    [result] = outcome.results
    assert result.stored == 0 and result.refusal is not None
    assert "has no stream 'urn:dev:ow:ffffffffffffffff:temperature'" in (result.error or "")


def test_two_devices_with_one_senml_name_are_refused_naming_the_line() -> None:
    text = _with_name(OW).replace("  - id: meter-1\n", f'  - id: meter-1\n    senml_name: "{OW}"\n')
    with pytest.raises(ManifestError) as caught:
        load_manifest_text(text, "goodthings.yaml")
    message = str(caught.value)
    assert "goodthings.yaml:" in message and "senml_name" in message
    assert "is used twice" in message


@pytest.mark.parametrize("bad", ["urn:dev:ow:10e2073a01080063;", " urn:dev:x", "-urn"])
def test_a_senml_name_outside_rfc_8428_is_refused(bad: str) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest_text(_with_name(bad), "goodthings.yaml")
    assert "not a valid SenML name" in str(caught.value)
    assert "goodthings.yaml:" in str(caught.value)
