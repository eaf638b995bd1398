"""The label: earned by the report's verdicts, shown only while fresh, and never level 4."""

from __future__ import annotations

import copy
import html
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import update

from cli_helpers import run
from goodthings.assessment.label import LABEL_VALID, label_of
from goodthings.assessment.record import current_label, label_standing
from goodthings.assessment.report import sign_report
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.runtime import Hub
from goodthings.web.app import create_app
from templates import init_from_template


def signed_report(capsys: pytest.CaptureFixture[str], root: Path) -> dict[str, Any]:
    ran = run(capsys, "assess", "--home", str(root), "--json")
    document = json.loads(ran.out)
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("example", ["smart-home", "care-home", "city-street"])
def test_every_blueprint_reaches_level_1_out_of_the_box(
    example: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = Home(tmp_path / example)
    init_from_template(home, example)
    label = label_of(signed_report(capsys, home.root)["report"])
    assert label.security_level >= 1 and label.privacy_grade == "A"
    assert label.security_level < 3  # no probe was run: level 3 needs one
    badge = tmp_path / "badge.svg"
    ran = run(capsys, "assess", "label", "--home", str(home.root), "--out", str(badge))
    assert ran.code == 0, ran.err
    assert f"Security {label.security_level}/4" in badge.read_text()
    assert f"Valid until {label.valid_until:%d %b %Y}" in badge.read_text()


def test_a_baseline_failure_earns_no_label(
    smart_home: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with smart_home.engine.begin() as connection:
        connection.execute(update(t.device_models).values(support_until=date(2020, 1, 1)))
    report = signed_report(capsys, smart_home.home.root)["report"]
    assert label_of(report).security_level == 0
    ran = run(
        capsys, "assess", "label", "--home", str(smart_home.home.root), "--out",
        str(tmp_path / "badge.svg"),
    )  # fmt: skip
    assert ran.code == 1 and "does not meet security level 1" in ran.err
    assert "(see `goodthings assess --standard psti`)" in ran.err, "where to look first"
    assert not (tmp_path / "badge.svg").exists()


def test_privacy_grade_drops_with_each_privacy_control_not_met(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    report = signed_report(capsys, smart_home.home.root)["report"]
    worse = copy.deepcopy(report)
    privacy = [v for v in worse["verdicts"] if v["provision"].startswith(("gdpr-", "principle-"))]
    privacy[0]["verdict"] = "fail"
    assert label_of(worse).privacy_grade == "B"
    privacy[1]["verdict"] = "fail"
    assert label_of(worse).privacy_grade == "C"


def test_level_3_needs_a_clean_probe_and_level_4_is_never_granted(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    report = signed_report(capsys, smart_home.home.root)["report"]
    assert label_of(report).security_level == 2  # every ETSI check met, no probe yet
    probed = copy.deepcopy(report)
    for verdict in probed["verdicts"]:
        if verdict["provision"] in ("cra-i-2-j", "en18031-gec"):
            verdict["verdict"] = "pass"
    assert label_of(probed).security_level == 3
    every_pass = copy.deepcopy(report)
    for verdict in every_pass["verdicts"]:
        verdict["verdict"] = "pass"
    assert label_of(every_pass).security_level == 3


def test_the_label_is_shown_only_while_fresh(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    label = label_of(signed_report(capsys, smart_home.home.root)["report"])
    assert label.shown_at(datetime.now(UTC))
    assert not label.shown_at(label.measured_at + LABEL_VALID + timedelta(seconds=1))


def test_the_public_summary_and_badge_follow_the_latest_report(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(smart_home.home), base_url="https://testserver")
    with client:
        assert "has not been assessed yet" in client.get("/assessment").text
        assert client.get("/assessment/label.svg").status_code == 404
        signed_report(capsys, smart_home.home.root)
        page = client.get("/assessment")
        assert "Every control the hub could check from its live state is met." in page.text
        assert '<img src="/assessment/label.svg"' in page.text
        badge = client.get("/assessment/label.svg")
        assert badge.status_code == 200 and badge.headers["content-type"] == "image/svg+xml"
        assert "Privacy A" in badge.text


def _kept_report(root: Path) -> Path:
    return sorted((root / "assessments").glob("*.json"))[-1]


def test_a_report_changed_on_disk_from_fail_to_pass_shows_no_label_and_says_why(
    smart_home: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The attack: a report that earned no label (support has ended) is edited where it is
    kept, its failures turned into passes, so that it would earn one. Its signature no longer
    matches, so no badge, notice or sign shows a label, and each says why where it would be."""
    root = smart_home.home.root
    with smart_home.engine.begin() as connection:
        connection.execute(update(t.device_models).values(support_until=date(2020, 1, 1)))
    signed_report(capsys, root)
    assert label_standing(root).verified  # and the answer is kept for these bytes
    kept = _kept_report(root)
    document = json.loads(kept.read_text())
    for verdict in document["report"]["verdicts"]:
        if verdict["verdict"] == "fail":
            verdict["verdict"] = "pass"
    document["report"]["summary"]["pass"] += document["report"]["summary"]["fail"]
    document["report"]["summary"]["fail"] = 0
    kept.write_text(json.dumps(document, indent=2))
    assert label_of(document["report"]).security_level >= 1  # what the forger wanted
    assert current_label(root) is None
    standing = label_standing(root)
    assert not standing.verified and "signature does not match" in standing.why_not
    ran = run(capsys, "assess", "label", "--home", str(root), "--out", str(tmp_path / "b.svg"))
    assert ran.code == 1 and "signature does not match" in ran.err
    assert "--standard psti" not in ran.err, "a forged report is not a baseline failure"
    assert not (tmp_path / "b.svg").exists()
    client = TestClient(create_app(smart_home.home), base_url="https://testserver")
    with client:
        page = html.unescape(client.get("/assessment").text)
        assert '<img src="/assessment/label.svg"' not in page
        assert "No label is shown: the latest report's signature does not match" in page
        badge = client.get("/assessment/label.svg")
        assert badge.status_code == 404 and "signature does not match" in badge.text
        assert "label.svg" not in client.get("/notice").text
    sign = tmp_path / "sign.svg"
    made = run(capsys, "sign", "--place", "flat-4", "--out", str(sign), "--home", str(root))
    assert made.code == 0, made.err
    assert "no assessment label" in made.out and "signature does not match" in made.out
    assert "security level" not in sign.read_text()


def test_a_report_with_a_signature_of_another_key_shows_no_label(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    """Re-signing the changed report with a key of one's own does not help either."""
    root = smart_home.home.root
    signed_report(capsys, root)
    kept = _kept_report(root)
    forged = sign_report(json.loads(kept.read_text())["report"], Ed25519PrivateKey.generate())
    kept.write_text(json.dumps(forged))
    assert current_label(root) is None
    assert "none of this deployment's signing keys" in label_standing(root).why_not


def test_a_report_signed_before_a_signing_key_rotation_keeps_its_label(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    root = smart_home.home.root
    signed_report(capsys, root)
    before = current_label(root)
    assert before is not None
    rotated = run(capsys, "keys", "rotate-signing", "--home", str(root))
    assert rotated.code == 0, rotated.err
    assert current_label(root) == before
