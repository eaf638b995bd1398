"""Commands a script calls print one JSON document on stdout with --json, and the plan says what
each changed setting was and becomes, in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.keys import load_signing_key
from goodthings.core.ledger import journal
from goodthings.core.store import tables as t
from goodthings.deployment import open_store
from templates import init_from_template


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    home = Home(tmp_path / "home")
    init_from_template(home, "smart-home")
    return home.root


def _older_firmware(root: Path) -> None:
    manifest = root / "goodthings.yaml"
    manifest.write_text(manifest.read_text().replace('firmware: "5.1.0"', 'firmware: "5.0.2"'))


def test_manifest_check_json_counts_a_valid_manifest(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    ran = run(capsys, "manifest", "check", "--json", "--home", str(deployment))
    document = json.loads(ran.out)
    assert ran.code == 0
    assert document["valid"] is True
    assert document["devices"] == 5 and document["places"] == 1


def test_manifest_check_json_lists_problems_with_their_line(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    manifest = deployment / "goodthings.yaml"
    manifest.write_text(manifest.read_text().replace("place: flat-4", "place: flat-9", 1))
    ran = run(capsys, "manifest", "check", "--json", "--home", str(deployment))
    document = json.loads(ran.out)
    assert ran.code == 1
    assert document["valid"] is False
    assert any(
        "flat-9" in problem["message"] and problem["line"] for problem in document["problems"]
    )


def test_apply_dry_run_json_gives_old_and_new_values_in_words(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    _older_firmware(deployment)
    ran = run(capsys, "apply", "--dry-run", "--json", "--home", str(deployment))
    (change,) = json.loads(ran.out)["changes"]
    assert (change["action"], change["kind"], change["id"]) == ("change", "device", "thermostat-1")
    assert change["differences"] == [
        {"setting": "firmware version", "before": "5.1.0", "after": "5.0.2"}
    ]


def test_apply_dry_run_says_old_to_new_not_field_names(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    _older_firmware(deployment)
    ran = run(capsys, "apply", "--dry-run", "--home", str(deployment))
    assert "firmware version: 5.1.0 → 5.0.2" in ran.out
    assert "(firmware)" not in ran.out


def test_a_changed_retention_is_said_once_as_the_manifest_writes_it(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    manifest = deployment / "goodthings.yaml"
    manifest.write_text(manifest.read_text().replace("retention: P30D", "retention: P60D", 1))
    ran = run(capsys, "apply", "--dry-run", "--home", str(deployment))
    assert "retention: P30D → P60D" in ran.out
    assert "seconds" not in ran.out and "spec" not in ran.out


def test_apply_json_without_dry_run_is_refused(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    ran = run(capsys, "apply", "--json", "--home", str(deployment))
    assert ran.code == 1
    assert "--dry-run" in ran.err


def _ledger_of_five(root: Path) -> None:
    """Five entries signed every three (at entries 1 and 4): one entry is not yet signed."""
    home = Home(root)
    engine = open_store(home)
    signer = load_signing_key(home.keys_dir)
    try:
        for index in range(5):
            with engine.begin() as connection:
                journal.append(
                    connection,
                    signer,
                    actor="test",
                    action="ingest",
                    target="readings",
                    counts={"stored": index},
                    policy=journal.CheckpointPolicy(every_entries=3, every_seconds=3600),
                )
    finally:
        engine.dispose()


def test_ledger_verify_json_reports_an_intact_ledger_and_each_check(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    _ledger_of_five(deployment)
    ran = run(capsys, "ledger", "verify", "--json", "--home", str(deployment))
    document = json.loads(ran.out)
    assert ran.code == 0, ran.err
    assert document["ok"] is True and document["reason"] is None
    assert document["entries"] == 5
    assert document["checkpoints"] == 2 and document["unsigned_tail"] == 1
    assert document["key_history"] == 1
    assert {check["check"] for check in document["checks"]} >= {"chain", "checkpoints", "head"}


def test_ledger_verify_json_names_the_fault_and_keeps_the_exit_code(
    capsys: pytest.CaptureFixture[str], deployment: Path
) -> None:
    _ledger_of_five(deployment)
    engine = open_store(Home(deployment))
    try:
        with engine.begin() as connection:
            connection.execute(
                update(t.ledger_entries).where(t.ledger_entries.c.seq == 2).values(actor="forged")
            )
    finally:
        engine.dispose()
    ran = run(capsys, "ledger", "verify", "--json", "--no-witness", "--home", str(deployment))
    document = json.loads(ran.out)
    assert ran.code == 1
    assert document["ok"] is False
    assert document["first_bad_seq"] == 2 and document["reason"]
