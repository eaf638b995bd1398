"""Objections to automated decisions and profiling are recorded and enforced on application reads."""

from __future__ import annotations

import json
import time

import pytest

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.errors import PolicyError
from goodthings.ingest.batch import Incoming
from goodthings.rights.access import Grant, ReadingsQuery, read_readings
from goodthings.rights.consent import records as consent
from goodthings.rights.objections import record
from goodthings.runtime.hub import Hub

NOW = 1_790_000_000.0
DASHBOARD = Grant("energy-dashboard", ("OptimisationForConsumer",), time.time() + 300)


def _ready(hub: Hub) -> None:
    for subject in ("alex", "sam"):
        for stream in ("presence", "power"):
            consent.give(
                hub.engine,
                hub.signer,
                consent.ConsentChange(subject, stream, "OptimisationForConsumer"),
            )
    hub.pipeline.refresh()
    for device, name, value in (("presence-living", "presence", True), ("meter-1", "power", 500.0)):
        key = "vb" if isinstance(value, bool) else "v"
        pack = json.dumps([{"n": name, "t": NOW, key: value}]).encode()
        assert hub.pipeline.ingest([Incoming(device, pack, time.time())]).results[0].stored == 1


def _read(hub: Hub, stream: str) -> tuple[int, dict[str, int]]:
    result = read_readings(
        hub.engine,
        hub.keyring,
        hub.signer,
        DASHBOARD,
        ReadingsQuery(stream, "OptimisationForConsumer"),
    )
    return len(result.readings), dict(result.withheld)


def test_an_objection_withholds_a_stream_with_automated_decisions(smart_home: Hub) -> None:
    _ready(smart_home)
    assert _read(smart_home, "presence") == (1, {})
    record(smart_home.engine, smart_home.signer, "sam", "presence")
    assert _read(smart_home, "presence") == (0, {"objected": 1})
    # power has no automated decisions and the dashboard makes none: unaffected
    record(smart_home.engine, smart_home.signer, "sam", "power")
    assert _read(smart_home, "power") == (1, {})
    record(smart_home.engine, smart_home.signer, "sam", "presence", withdraw=True)
    assert _read(smart_home, "presence") == (1, {})


def test_an_objection_must_be_about_the_persons_own_stream(smart_home: Hub) -> None:
    with pytest.raises(
        PolicyError, match="'sam' is not concerned by a personal stream 'heart_rate'"
    ):
        record(smart_home.engine, smart_home.signer, "sam", "heart_rate")


def test_objection_commands(capsys: pytest.CaptureFixture[str], home: Home) -> None:
    assert run(capsys, "init", str(home.root)).code == 0
    where = ["--home", str(home.root)]
    added = run(capsys, "objection", "add", "--subject", "alex", "--stream", "heart_rate", *where)
    assert added.code == 0 and "alex objected for pulse-band-2/heart_rate" in added.out
    run(capsys, "objection", "withdraw", "--subject", "alex", "--stream", "heart_rate", *where)
    shown = run(capsys, "objection", "show", "--subject", "alex", "--json", *where)
    assert [c["state"] for c in json.loads(shown.out)] == ["objected", "withdrawn"]
    wrong = run(capsys, "objection", "add", "--subject", "alex", "--stream", "toaster", *where)
    assert wrong.code == 1 and "is not concerned by a personal stream 'toaster'" in wrong.err
