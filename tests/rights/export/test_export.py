"""Export: everything about a person in a ZIP, decrypted for them, streamed in constant memory,
optionally encrypted to their age key."""

from __future__ import annotations

import csv
import io
import json
import stat
import time
import tracemalloc
import zipfile
from pathlib import Path

import pyrage
import pytest
from sqlalchemy import insert, select

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.keys import ReadingOpener
from goodthings.core.store import Selection, select_readings
from goodthings.core.store import tables as t
from goodthings.ingest.batch import Incoming
from goodthings.policy import inputs, people_concerned, reads
from goodthings.rights.consent import records as consent
from goodthings.rights.export import ExportError, export_subject, parse_recipient
from goodthings.rights.export.archive import PAGE, _iso, _iso_column, _iso_page
from goodthings.runtime.hub import Hub
from portal_helpers import send
from templates import init_from_template


def _agree(hub: Hub) -> None:
    for stream in ("heart_rate", "steps"):
        change = consent.ConsentChange("alex", stream, "ServicePersonalisation")
        consent.give(hub.engine, hub.signer, change)
    consent.give(
        hub.engine, hub.signer, consent.ConsentChange("alex", "power", "OptimisationForConsumer")
    )
    consent.give(
        hub.engine, hub.signer, consent.ConsentChange("sam", "power", "OptimisationForConsumer")
    )
    hub.pipeline.refresh()


def _export(hub: Hub, subject: str = "alex") -> zipfile.ZipFile:
    buffer = io.BytesIO()
    export_subject(hub.engine, hub.keyring, hub.signer, subject, buffer)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_the_export_holds_every_part_with_a_readme(smart_home: Hub) -> None:
    _agree(smart_home)
    assert send(smart_home, "band-alex", "heart_rate", [61.25, 62.5, 63.75]) == 3
    assert send(smart_home, "meter-1", "power", [420.0, 380.0]) == 2
    archive = _export(smart_home)
    names = set(archive.namelist())
    assert {"README.txt", "person.json", "readings.csv", "choices.json", "ledger.jsonl"} <= names
    readme = archive.read("README.txt").decode()
    for name in ("person.json", "readings.csv", "choices.json", "receipts/", "ledger.jsonl"):
        assert name in readme
    rows = list(csv.DictReader(io.StringIO(archive.read("readings.csv").decode())))
    hearts = [float(r["value"]) for r in rows if r["stream"] == "heart_rate"]
    assert hearts == [61.25, 62.5, 63.75]
    power = [(float(r["value"]), r["shared"]) for r in rows if r["stream"] == "power"]
    assert power == [(420.0, "yes"), (380.0, "yes")]
    choices = json.loads(archive.read("choices.json"))
    assert len(choices) == 3 and all(c["receipt_id"] for c in choices)
    assert len([n for n in names if n.startswith("receipts/")]) == 3
    ledger = [json.loads(line) for line in archive.read("ledger.jsonl").splitlines()]
    assert {"consent.give", "ingest"} <= {entry["action"] for entry in ledger}
    assert json.loads(archive.read("person.json"))["places"] == ["flat-4"]


def test_another_persons_export_has_none_of_alexs_own_readings(smart_home: Hub) -> None:
    _agree(smart_home)
    send(smart_home, "band-alex", "heart_rate", [61.0, 62.0])
    rows = _export(smart_home, "sam").read("readings.csv").decode()
    assert "heart_rate" not in rows
    assert "subject:alex" not in _export(smart_home, "sam").read("ledger.jsonl").decode()


def test_an_export_is_recorded_in_the_ledger(smart_home: Hub) -> None:
    _agree(smart_home)
    send(smart_home, "band-alex", "steps", [10.0, 20.0])
    _export(smart_home)
    with smart_home.engine.connect() as connection:
        entry = (
            connection.execute(
                select(t.ledger_entries).where(t.ledger_entries.c.action == "export")
            )
            .mappings()
            .one()
        )
    assert entry["object"] == "subject:alex"
    assert entry["counts"] == {"readings": 2, "encrypted": 0}


def test_an_encrypted_export_opens_only_with_the_persons_identity(smart_home: Hub) -> None:
    _agree(smart_home)
    send(smart_home, "band-alex", "heart_rate", [77.125])
    identity = pyrage.x25519.Identity.generate()
    sealed = io.BytesIO()
    export_subject(
        smart_home.engine,
        smart_home.keyring,
        smart_home.signer,
        "alex",
        sealed,
        recipient=str(identity.to_public()),
    )
    assert not sealed.getvalue().startswith(b"PK")
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(sealed.getvalue(), [pyrage.x25519.Identity.generate()])
    opened = zipfile.ZipFile(io.BytesIO(pyrage.decrypt(sealed.getvalue(), [identity])))
    assert "77.125" in opened.read("readings.csv").decode()


def test_a_wrong_age_key_is_refused_with_what_would_be_right() -> None:
    with pytest.raises(ExportError, match="starts with 'age1'"):
        parse_recipient("ssh-ed25519 AAAA")


def _fill(hub: Hub, count: int) -> None:
    start = time.time() - count - 10
    for offset in range(0, count, 5000):
        size = min(5000, count - offset)
        pack = [{"bt": start + offset, "n": "heart_rate", "v": 60.0}] + [
            {"n": "heart_rate", "t": i, "v": 60.0 + i % 40} for i in range(1, size)
        ]
        outcome = hub.pipeline.ingest(
            [Incoming("band-alex", json.dumps(pack).encode(), time.time())]
        )
        assert outcome.results[0].stored == size


def _peak_export_memory(hub: Hub, path: Path) -> int:
    tracemalloc.start()
    try:
        with path.open("wb") as handle:
            export_subject(hub.engine, hub.keyring, hub.signer, "alex", handle)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_memory_does_not_grow_with_the_number_of_readings(
    home: Home, tmp_path: Path
) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        _agree(hub)
        _fill(hub, 10_000)
        small = _peak_export_memory(hub, tmp_path / "small.zip")
        _fill(hub, 90_000)
        large = _peak_export_memory(hub, tmp_path / "large.zip")
        rows = zipfile.ZipFile(tmp_path / "large.zip").read("readings.csv").count(b"\n")
    finally:
        hub.close()
    assert rows == 100_001
    # Ten times the readings: the peak stays within a small constant of the smaller export's.
    assert large < small * 1.5 + 1_000_000, (small, large)


def test_export_command_writes_a_private_file(
    smart_home: Hub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _agree(smart_home)
    send(smart_home, "band-alex", "heart_rate", [66.0])
    target = tmp_path / "alex.zip"
    home = smart_home.home
    args = ["--home", str(home.root)]
    if home.database_url_override:
        monkeypatch.setenv("GOODTHINGS_DATABASE_URL", home.database_url_override)
    ran = run(capsys, "export", "alex", "--out", str(target), *args)
    assert ran.code == 0, ran.err
    assert "Exported 1 readings of alex" in ran.out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "66.0" in zipfile.ZipFile(target).read("readings.csv").decode()
    bad = run(capsys, "export", "alex", "--out", str(target), "--recipient", "nope", *args)
    assert bad.code == 1 and "age1" in bad.err


def test_the_export_reports_its_running_count(smart_home: Hub) -> None:
    _agree(smart_home)
    assert send(smart_home, "band-alex", "heart_rate", [61.25, 62.5, 63.75]) == 3
    seen: list[int] = []
    total = export_subject(
        smart_home.engine, smart_home.keyring, smart_home.signer, "alex", io.BytesIO(),
        watch=seen.append,
    )  # fmt: skip
    assert total >= 3
    assert seen == sorted(seen) and seen[-1] == total


def test_times_made_a_page_at_a_time_read_as_made_one_by_one() -> None:
    # Rounding to the microsecond (half to even, carried into the next second), times before
    # 1970 and times that are no date must come out as `datetime` writes them.
    base = 1_790_000_000.0
    times = [base + i * 0.001 for i in range(3000)] + [
        base + 0.9999995,
        base + 0.0000005,
        base + 0.0000015,
        -1.5e-6,
        -0.25,
        0.0,
        253402300799.9999999,
        -62135596800.4,
        1e300,
        -1e300,
        float("inf"),
        float("nan"),
    ]
    assert _iso_page(times) == [_iso(seconds) for seconds in times]


def _row_wise_readings_csv(hub: Hub, subject: str) -> str:
    """readings.csv as the export wrote it before its column-wise read path: a StoredReading
    per row, opened a page at a time, each date made by `datetime`, every row by the CSV
    writer. The reference the export's bytes must still equal."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["device", "stream", "time_utc", "time_unix", "value", "shared"])
    with hub.engine.connect() as connection:
        facts = inputs.read_inputs(connection)
        opener = ReadingOpener(hub.keyring, connection)
        for device in facts.devices:
            for rule in facts.rules.get(device.model_id, ()):
                if not reads.for_person(rule, device, subject).allowed:
                    continue
                shared = "yes" if len(people_concerned(rule, device)) > 1 else "no"
                selection = Selection(device_id=device.device_id, stream_ids=(rule.stream_id,))
                stored = list(select_readings(connection, selection))
                for start in range(0, len(stored), PAGE):
                    for row, value in opener.readable_page(stored[start : start + PAGE]):
                        writer.writerow(
                            [
                                row.device_id,
                                rule.name,
                                _iso(row.time),
                                repr(row.time),
                                value.hex() if isinstance(value, bytes) else value,
                                shared,
                            ]
                        )
    return text.getvalue()


def test_the_column_wise_export_writes_what_the_row_wise_one_did(smart_home: Hub) -> None:
    """Pages of sealed numbers (the fast path) and pages that are not: a value planted in clear
    by direct SQL, a text with a comma, a tampered value, another holder's reading in the same
    stream, times before 1970 and microseconds that round into the next second."""
    _agree(smart_home)
    start = time.time() - 20_000
    assert (
        send(smart_home, "band-alex", "heart_rate", [60.0 + i % 7 for i in range(12_000)], start)
        == 12_000
    )
    assert send(smart_home, "meter-1", "power", [400.25, 380.5, 0.1], start) == 3
    with smart_home.engine.begin() as connection:
        stream = connection.execute(
            select(t.streams.c.id).where(t.streams.c.name == "heart_rate")
        ).scalar_one()
        sealed = connection.execute(
            select(t.readings.c.sealed).where(t.readings.c.stream_id == stream).limit(1)
        ).scalar_one()
        base = {
            "device_id": "band-alex",
            "stream_id": stream,
            "ordinal": 0,
            "value": None,
            "value_text": None,
            "sealed": None,
        }
        connection.execute(
            insert(t.readings),
            [
                {**base, "subject_id": "alex", "time": start - 5.9999996, "value": 99.5},
                {**base, "subject_id": "alex", "time": start - 4.5, "value_text": 'on, "off"'},
                {**base, "subject_id": "alex", "time": start - 3.0, "sealed": sealed},
                {**base, "subject_id": "sam", "time": start - 2.0, "sealed": sealed},
                {**base, "subject_id": "alex", "time": -1.25, "value": 1.0},
                {**base, "subject_id": "alex", "time": -86_400.0000015, "value": 2.0},
            ],
        )
    expected = _row_wise_readings_csv(smart_home, "alex")
    written = _export(smart_home).read("readings.csv").decode()
    assert written.count("\n") > 12_000
    assert written == expected


def test_pages_of_booleans_and_of_values_that_do_not_open_write_what_the_row_wise_one_did(
    smart_home: Hub,
) -> None:
    """Pages sealed under one holder's key that are not all numbers, or in which some values
    do not open: booleans over more than a page, a number page with one value moved from
    another row (it must be left out, the others kept), and a page no value of which opens."""
    _agree(smart_home)
    for person in ("alex", "sam"):
        change = consent.ConsentChange(person, "presence", "OptimisationForConsumer")
        consent.give(smart_home.engine, smart_home.signer, change)
    smart_home.pipeline.refresh()
    start = time.time() - 20_000
    pack = [{"bt": start, "n": "presence", "vb": True}] + [
        {"n": "presence", "t": i, "vb": i % 3 == 0} for i in range(1, PAGE + 700)
    ]
    outcome = smart_home.pipeline.ingest(
        [Incoming("presence-living", json.dumps(pack).encode(), time.time())]
    )
    assert outcome.results[0].stored == PAGE + 700
    assert send(smart_home, "band-alex", "heart_rate", [70.0 + i % 5 for i in range(300)], start)
    assert send(smart_home, "meter-1", "power", [400.25 + i for i in range(200)], start) == 200
    r = t.readings
    with smart_home.engine.begin() as connection:
        stream = connection.execute(
            select(t.streams.c.id).where(t.streams.c.name == "heart_rate")
        ).scalar_one()
        first, second = connection.execute(
            select(r.c.time, r.c.sealed).where(r.c.stream_id == stream).order_by(r.c.time).limit(2)
        ).all()
        connection.execute(
            r.update().where(r.c.stream_id == stream, r.c.time == second.time),
            {"sealed": first.sealed},
        )
        power = connection.execute(
            select(t.streams.c.id).where(t.streams.c.name == "power")
        ).scalar_one()
        connection.execute(r.update().where(r.c.stream_id == power), {"sealed": b"\x00" * 37})
    expected = _row_wise_readings_csv(smart_home, "alex")
    written = _export(smart_home).read("readings.csv").decode()
    assert written.count(",True,") and written.count(",False,")
    assert written.count("heart_rate") == 299 and "power" not in written
    assert written == expected


def test_dates_made_a_column_at_a_time_read_as_made_one_by_one() -> None:
    base = 1_790_000_000.0
    pages = [
        [base + i * 0.001 for i in range(3000)],
        [base + i * 0.25 + 0.0000005 for i in range(3000)],
        [0.0, -0.0, 59.9999994, 60.0, 3599.5, 86_399.000001, 253402300798.5],
        [base + i + 0.0000005 * (i % 3) for i in range(3000)],
        [base, base + 0.9999995],  # rounds up into the next second: left to _iso_page
        [base, -0.25],
        [base, float("nan")],
        [float("nan"), base],
        [base, float("inf")],
        [],
    ]
    for times in pages:
        assert _iso_column(times) == [_iso(seconds) for seconds in times], times[:3]
