"""scripts/refresh_dpv_terms.py turns a DPV release's Turtle files into our list of terms."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "refresh_dpv_terms.py"
RELEASE_DIR = Path(__file__).resolve().parent / "dpv-release"
GENERATED = ROOT / "src" / "goodthings" / "core" / "manifest" / "dpv_released.json"
DPV = "https://w3id.org/dpv#"
PD = "https://w3id.org/dpv/pd#"
EU_GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_dpv_terms", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_terms_of_our_namespaces_are_listed_by_name(script: ModuleType) -> None:
    found = script.released_terms(script.load(RELEASE_DIR))
    assert found["terms"] == {
        DPV: ["Consent", "RightsFulfilment", "SpecialCategoryPersonalData", "hasPurpose"],
        PD: ["Behavioural", "Health"],
        EU_GDPR: ["A6-1-a", "A9-2-a"],
    }


def test_sunset_terms_are_set_apart(script: ModuleType) -> None:
    found = script.released_terms(script.load(RELEASE_DIR))
    assert found["sunset"] == [DPV + "PersonalDataHandling"]


def test_special_categories_and_art9_conditions_come_from_the_release(
    script: ModuleType,
) -> None:
    found = script.released_terms(script.load(RELEASE_DIR))
    assert found["special_categories"] == [PD + "Health"]
    assert found["art9_conditions"] == ["A9-2-a"]


def test_the_command_writes_the_file_the_package_reads(tmp_path: Path) -> None:
    out = tmp_path / "released.json"
    subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(RELEASE_DIR),
            "--release",
            "9.9",
            "--source",
            "test",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    written = json.loads(out.read_text(encoding="utf-8"))
    kept = json.loads(GENERATED.read_text(encoding="utf-8"))
    assert written.keys() == kept.keys()
    assert (written["release"], written["source"]) == ("9.9", "test")


def test_the_kept_list_is_a_released_dpv() -> None:
    kept = json.loads(GENERATED.read_text(encoding="utf-8"))
    assert kept["release"] in {"2.2", "2.3"}
    assert "dpv-" in kept["source"]
    assert "Behavioural" in kept["terms"][PD]
    assert "Behavioral" not in kept["terms"][PD]
    assert DPV + "PersonalDataHandling" in kept["sunset"]
