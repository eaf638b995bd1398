"""`goodthings ingest rejected`: what an operator sees of refused packs, in words and as JSON."""

from __future__ import annotations

import hashlib
import json

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.ingest import Incoming
from goodthings.runtime.hub import Hub
from templates import init_from_template

NOW = 1_790_000_000.0
POISON = b'[{"n":"temperature","v":NaN},]'


@pytest.fixture
def deployment(home: Home) -> Home:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        hub.pipeline.ingest(
            [
                Incoming("thermostat-1", POISON, NOW),
                Incoming("meter-1", b'[{"n":"power","v":"1234 W, secret"}]', NOW + 1),
                Incoming("thermostat-1", b'[{"bt":1790000000,"n":"temperature","v":20}]', NOW),
            ]
        )
    finally:
        hub.close()
    return home


def test_rejected_lists_refused_packs_newest_first_in_words(
    deployment: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "ingest", "rejected", "--home", str(deployment.root))
    assert ran.code == 0, ran.err
    assert ran.out.index("meter-1") < ran.out.index("thermostat-1")
    assert "2026-09-21T" in ran.out and "not valid SenML (malformed)" in ran.out
    assert "record 0, field 'v': NaN is not a JSON number" in ran.out
    assert hashlib.sha256(POISON).hexdigest() in ran.out
    assert f"{len(POISON)} bytes of application/senml+json" in ran.out
    assert "secret" not in ran.out and "1234" not in ran.out


def test_rejected_as_json_for_one_device(
    deployment: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(
        capsys,
        "ingest",
        "rejected",
        "--home",
        str(deployment.root),
        "--device",
        "thermostat-1",
        "--json",
    )
    assert ran.code == 0, ran.err
    (record,) = json.loads(ran.out)
    assert {key: record[key] for key in ("device_id", "received_at", "refusal", "size")} == {
        "device_id": "thermostat-1",
        "received_at": NOW,
        "refusal": "malformed",
        "size": len(POISON),
    }
    assert record["sha256"] == hashlib.sha256(POISON).hexdigest()


def test_rejected_says_when_there_is_nothing(
    deployment: Home, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "ingest", "rejected", "--home", str(deployment.root), "--device", "band-alex")
    assert (ran.code, ran.out.strip()) == (0, "No refused packs from band-alex.")
