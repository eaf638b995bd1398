"""Personal values never reach the disk or the logs in clear: the database, its WAL, the logs."""

from __future__ import annotations

import json
import logging
import struct
import time
from pathlib import Path

import pytest

from goodthings.core.config import Home
from goodthings.ingest.batch import Incoming
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub
from templates import init_from_template

# Distinctive values, easy to find as text or as the bytes of a float.
HEART_RATES = [173.4589, 181.2297, 166.7713]
POWER = [98765.4321, 87654.3219]


def _needles() -> list[bytes]:
    needles = []
    for value in HEART_RATES + POWER:
        needles.append(repr(value).encode())
        needles.append(struct.pack(">d", value))
        needles.append(struct.pack("<d", value))
    return needles


def test_no_personal_value_in_the_database_file_its_wal_or_the_logs(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    consent.give(
        hub.engine,
        hub.signer,
        consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation"),
    )
    hub.pipeline.refresh()
    now = time.time()
    hearts = [{"bt": now, "n": "heart_rate", "v": HEART_RATES[0]}] + [
        {"n": "heart_rate", "t": i + 1, "v": v} for i, v in enumerate(HEART_RATES[1:])
    ]
    power = [{"bt": now, "n": "power", "v": POWER[0]}, {"n": "power", "t": 1, "v": POWER[1]}]
    outcome = hub.pipeline.ingest(
        [
            Incoming("band-alex", json.dumps(hearts).encode(), now),
            Incoming("meter-1", json.dumps(power).encode(), now),
        ]
    )
    assert [r.stored for r in outcome.results] == [3, 2]
    # Read while the hub still runs: the WAL holds the newest pages before a checkpoint.
    files = [p for p in home.root.glob("goodthings.db*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files), "expected a WAL file to scan"
    contents = b"".join(p.read_bytes() for p in files)
    logs = caplog.text.encode()
    for needle in _needles():
        assert needle not in contents, f"{needle!r} found in the database files"
        assert needle not in logs, f"{needle!r} found in the logs"
    hub.close()
    after_close = b"".join(p.read_bytes() for p in home.root.glob("goodthings.db*") if p.is_file())
    for needle in _needles():
        assert needle not in after_close


def test_the_scan_would_find_a_value_stored_in_clear(home: Home) -> None:
    """The same scan finds non-personal values, so its silence above means something."""
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    value = 23.456789
    hub.pipeline.ingest(
        [
            Incoming(
                "thermostat-1",
                json.dumps([{"bt": time.time(), "n": "temperature", "v": value}]).encode(),
                time.time(),
            )
        ]
    )
    contents = b"".join(
        p.read_bytes() for p in Path(home.root).glob("goodthings.db*") if p.is_file()
    )
    assert struct.pack(">d", value) in contents or struct.pack("<d", value) in contents
    hub.close()
