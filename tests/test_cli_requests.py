"""`goodthings requests list [--overdue] [--json]`: the register of people's requests, with the
overdue ones found by a script (exit 1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.keys import load_signing_key
from goodthings.core.store import tables_portal as tp
from goodthings.deployment import open_store
from goodthings.rights.erasure import request_erasure


@pytest.fixture
def deployment(capsys: pytest.CaptureFixture[str], home: Home) -> list[str]:
    assert run(capsys, "init", str(home.root), "--example", "smart-home").code == 0
    return ["--home", str(home.root)]


def _erasure_requested(home: Home, *, late: bool) -> None:
    engine = open_store(home)
    try:
        request_erasure(engine, load_signing_key(home.keys_dir), "sam", method="letter")
        if late:
            with engine.begin() as connection:
                connection.execute(
                    update(tp.erasure_requests).values(
                        deadline=datetime.now(UTC) - timedelta(hours=1)
                    )
                )
    finally:
        engine.dispose()


def test_an_open_request_within_its_deadline_is_not_overdue(
    capsys: pytest.CaptureFixture[str], home: Home, deployment: list[str]
) -> None:
    _erasure_requested(home, late=False)
    listed = run(capsys, "requests", "list", *deployment)
    assert listed.code == 0 and "erasure  sam  due " in listed.out
    assert "OVERDUE" not in listed.out
    overdue = run(capsys, "requests", "list", "--overdue", "--json", *deployment)
    assert (overdue.code, json.loads(overdue.out)) == (0, [])


def test_overdue_requests_are_listed_and_fail_the_command(
    capsys: pytest.CaptureFixture[str], home: Home, deployment: list[str]
) -> None:
    _erasure_requested(home, late=True)
    listed = run(capsys, "requests", "list", "--overdue", *deployment)
    assert listed.code == 1 and "OVERDUE" in listed.out
    as_json = run(capsys, "requests", "list", "--overdue", "--json", *deployment)
    [row] = json.loads(as_json.out)
    assert as_json.code == 1
    assert (row["kind"], row["subject"], row["state"], row["overdue"]) == (
        "erasure",
        "sam",
        "open",
        True,
    )
