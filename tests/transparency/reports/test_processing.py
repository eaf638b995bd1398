"""Records of processing: every personal stream of every example, in HTML and PDF, with live state."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.manifest import load_manifest_text
from goodthings.deployment.directory import EXAMPLES
from goodthings.ingest.batch import Incoming
from goodthings.runtime.hub import Hub
from goodthings.transparency.reports import build_record, held_now, to_html, to_pdf

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"


def _personal_streams(example: str) -> set[str]:
    manifest = load_manifest_text((EXAMPLES_DIR / f"{example}.yaml").read_text()).manifest
    used = {device.model for device in manifest.devices}
    return {
        f"{model.id}/{stream.name}"
        for model in manifest.device_models
        if model.id in used
        for stream in model.streams
        if stream.personal
    }


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_report_lists_every_personal_stream_of_the_example(example: str) -> None:
    manifest = load_manifest_text((EXAMPLES_DIR / f"{example}.yaml").read_text()).manifest
    record = build_record(manifest)
    expected = _personal_streams(example)
    assert expected and set(record.personal_streams) == expected
    html = to_html(record)
    pdf = to_pdf(record)
    assert pdf.startswith(b"%PDF-")
    for stream in expected:
        assert f"{stream}: " in html
        assert f"({stream}: ".encode() in pdf or f"{stream}: ".encode() in pdf
    purposes = {
        (f"{model.id}/{stream.name}", use.purpose)
        for model in manifest.device_models
        for stream in model.streams
        if stream.personal and f"{model.id}/{stream.name}" in expected
        for use in stream.purposes
    }
    assert {(a.stream, a.purpose) for a in record.activities} == purposes


def test_risks_include_inferences_health_data_and_passers_by() -> None:
    city = build_record(
        load_manifest_text((EXAMPLES_DIR / "city-street.yaml").read_text()).manifest
    )
    titles = [risk.title for risk in city.risks]
    assert any(title.startswith("Inference: the route a person takes") for title in titles)
    assert "People who cannot be asked" in titles
    home = build_record(load_manifest_text((EXAMPLES_DIR / "smart-home.yaml").read_text()).manifest)
    assert "Special category data (GDPR Art. 9)" in [risk.title for risk in home.risks]
    assert "Automated decisions and profiling" in [risk.title for risk in home.risks]


def test_special_category_activities_name_their_art9_condition() -> None:
    care = build_record(load_manifest_text((EXAMPLES_DIR / "care-home.yaml").read_text()).manifest)
    bases = {(a.stream, a.purpose): a.legal_basis for a in care.activities}
    assert bases[("somnia-bs200/in_bed", "ServiceProvision")] == (
        "Contract; GDPR Art. 9(2)(h) health or social care"
    )
    assert bases[("vigil-fr60/fall", "LegalCompliance")] == (
        "Legal obligation; GDPR Art. 9(2)(h) health or social care"
    )


def test_held_now_counts_readings_and_consents(smart_home: Hub) -> None:
    records = [{"n": "power", "t": 1_790_000_000 + i, "v": 400.0 + i} for i in range(3)]
    smart_home.pipeline.ingest([Incoming("meter-1", json.dumps(records).encode(), time.time())])
    with smart_home.engine.connect() as connection:
        held = held_now(connection)
    assert held["wattwise-m2/power"].readings == 3
    assert held["pulse-band-2/heart_rate"].readings == 0


def test_report_processing_command(
    capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path
) -> None:
    assert run(capsys, "init", str(home.root), "--example", "care-home").code == 0
    html = tmp_path / "record.html"
    ran = run(capsys, "report", "processing", "--out", str(html), "--home", str(home.root))
    assert ran.code == 0 and "personal streams" in ran.out
    assert "Records of processing: Rosewood House care home" in html.read_text()
    assert "Held now" in html.read_text()
    pdf = tmp_path / "record.pdf"
    assert (
        run(capsys, "report", "processing", "--out", str(pdf), "--home", str(home.root)).code == 0
    )
    assert pdf.read_bytes().startswith(b"%PDF-")
    wrong = run(
        capsys, "report", "processing", "--out", str(tmp_path / "r.txt"), "--home", str(home.root)
    )
    assert wrong.code == 1 and ".html or .pdf" in wrong.err
