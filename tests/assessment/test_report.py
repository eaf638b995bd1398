"""The signed report: TS 103 701's shape, a signature that catches any change, a ledger entry
that records it, what got worse since the previous one, and pages a person can read."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader
from sqlalchemy import update

from browsers import check as accessible
from browsers import chromium, screenshots
from cli_helpers import run
from goodthings.assessment import REPORT_FORMAT, report_problems
from goodthings.assessment.report import report_digest
from goodthings.core import ledger
from goodthings.core.store import tables as t
from goodthings.runtime import Hub
from portal_helpers import give


def assessed(capsys: pytest.CaptureFixture[str], hub: Hub, *options: str) -> dict[str, object]:
    ran = run(capsys, "assess", "--home", str(hub.home.root), "--format", "json", *options)
    assert ran.code in (0, 1), ran.err
    document = json.loads(ran.out)
    assert isinstance(document, dict)
    return document


@pytest.fixture
def busy_home(smart_home: Hub) -> Hub:
    """A deployment whose ledger already holds decisions, so the report has a checkpoint to cite."""
    give(smart_home, ("alex", "heart_rate", "ServicePersonalisation"))
    return smart_home


def test_the_report_has_a_statement_and_a_verdict_with_evidence_per_control(
    busy_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    signed = assessed(capsys, busy_home)
    report = signed["report"]
    assert isinstance(report, dict)
    assert report["format"] == REPORT_FORMAT
    statements = {s["provision"]: s for s in report["conformance_statement"]}
    verdicts = {v["provision"]: v for v in report["verdicts"]}
    assert statements.keys() == verdicts.keys()
    assert statements["etsi-5.2-1"]["status"] == "yes"
    assert verdicts["etsi-5.2-1"]["verdict"] == "pass"
    assert statements["etsi-5.1-4"]["status"] == "not assessed"
    assert verdicts["etsi-5.1-4"]["verdict"] == "inconclusive"
    assert {v["verdict"] for v in verdicts.values()} <= {
        "pass",
        "fail",
        "inconclusive",
        "not applicable",
    }
    evidence = verdicts["nist-8259a-data-protection"]["evidence"]
    assert evidence["method"] == "automatic" and len(evidence["sha256"]) == 64
    assert evidence["measured_at"] == report["measured_at"]
    assert report["ledger"]["seq"] >= 1 and len(report["ledger"]["hash"]) == 64
    assert report_problems(signed, busy_home.signer.public_key()) == []


def test_changing_any_value_of_the_report_breaks_its_signature(
    busy_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    signed = assessed(capsys, busy_home)
    key = busy_home.signer.public_key()
    forged = copy.deepcopy(signed)
    forged["report"]["verdicts"][0]["verdict"] = "pass"  # type: ignore[index]
    forged["report"]["summary"]["fail"] = 0  # type: ignore[index]
    if forged == signed:  # the first control already passed: change another value
        forged["report"]["measured_at"] = "2020-01-01T00:00:00+00:00"  # type: ignore[index]
    assert "it was changed" in " ".join(report_problems(forged, key))
    evidence = copy.deepcopy(signed)
    evidence["report"]["verdicts"][0]["evidence"]["values"]["planted"] = 1  # type: ignore[index]
    problems = report_problems(evidence, key)
    assert any("does not match its hash" in p for p in problems)
    other = Ed25519PrivateKey.generate().public_key()
    assert any("names signing key" in p for p in report_problems(signed, other))


def test_each_report_is_recorded_in_the_ledger_by_its_digest(
    busy_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    signed = assessed(capsys, busy_home)
    with busy_home.engine.connect() as connection:
        entries = list(ledger.entries(connection))
    recorded = [e for e in entries if e.action == "assessment.report"]
    assert len(recorded) == 1
    assert recorded[0].digest == report_digest(signed["report"])  # type: ignore[arg-type]
    assert recorded[0].actor == "operator:cli"
    assert recorded[0].seq > signed["report"]["ledger"]["seq"]  # type: ignore[index]
    result = ledger.check(busy_home.engine, busy_home.signer.public_key())
    assert result.ok, result.reason


def test_the_next_report_says_what_got_worse_since_the_previous(
    busy_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    first = assessed(capsys, busy_home)
    assert first["report"]["changes"] is None  # type: ignore[index]
    with busy_home.engine.begin() as connection:
        connection.execute(
            update(t.streams).where(t.streams.c.personal.is_(True)).values(retention_seconds=None)
        )
    second = assessed(capsys, busy_home)
    changes = second["report"]["changes"]  # type: ignore[index]
    assert changes["since"] == first["report"]["measured_at"]  # type: ignore[index]
    assert {"provision": "etsi-6-4", "was": "pass", "now": "fail"} in changes["worse"]
    ran = run(capsys, "assess", "--home", str(busy_home.home.root), "--standard", "etsi")
    assert ran.code == 1
    assert f"What got worse since {second['report']['measured_at']}:" not in ran.out  # type: ignore[index]
    assert "Nothing got worse since" in ran.out  # the same failure as the previous report
    kept = sorted((busy_home.home.root / "assessments").glob("*.json"))
    assert len(kept) == 3


def test_the_page_renders_in_chromium_accessibly_and_fits_a_phone(
    busy_home: Hub,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> None:
    with busy_home.engine.begin() as connection:
        connection.execute(
            update(t.streams).where(t.streams.c.personal.is_(True)).values(retention_seconds=None)
        )
    page_file = tmp_path / "report.html"
    ran = run(
        capsys, "assess", "--home", str(busy_home.home.root), "--format", "html", "--out",
        str(page_file),
    )  # fmt: skip
    assert ran.code == 1 and ran.out == ""
    shots = screenshots(tmp_path_factory, request)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(page_file.as_uri())
        assert page.locator("h1").inner_text() == "Assessment of Flat 4, Maple Court"
        assert "not met" in page.locator("#in-short").evaluate(
            "e => e.nextElementSibling.innerText"
        )
        assert page.locator("#not-met + ul").inner_text().count("etsi-6-4") == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        accessible(page, shots, "assessment-report")


def test_the_pdf_opens_and_says_the_outcome(
    busy_home: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pdf = tmp_path / "report.pdf"
    ran = run(
        capsys, "assess", "--home", str(busy_home.home.root), "--format", "pdf", "--out", str(pdf)
    )
    assert ran.code == 0, ran.err
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Every control the hub could check from its live state is met." in text
    assert "etsi-5.2-1" in text
    assert len(reader.pages) >= 2


def test_a_pdf_needs_a_file(busy_home: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "assess", "--home", str(busy_home.home.root), "--format", "pdf")
    assert ran.code == 2 and "--out FILE" in ran.err
