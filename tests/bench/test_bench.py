"""`goodthings bench` end to end, small: real `serve` subprocesses, a real Mosquitto, real
SQLite and PostgreSQL. Figures are checked for shape and consistency, never for speed: timing
assertions on a shared machine would only make the suite flaky."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from brokers import install_mosquitto
from cli_helpers import run
from goodthings.bench import BenchReport
from goodthings.bench.hubs import free_port, port_is_free
from goodthings.bench.load import BenchError, StoreWatch, percentile
from goodthings.bench.runner import _check
from goodthings.cli.bench import _print
from goodthings.core.store.engine import open_engine, sqlite_url

READINGS = 2000
PACK = 50
RATES = (
    "raw_readings_per_s",
    "http_readings_per_s",
    "mqtt_readings_per_s_1_worker",
    "mqtt_readings_per_s_2_workers",
    "http_readings_per_s_2_workers",
)
FIGURES = (
    *RATES,
    "full_to_raw_ratio",
    "full_to_raw_ratio_2_workers",
    "ingest_latency_p50_ms",
    "ingest_latency_p99_ms",
    "withdrawal_delay_p99_ms",
    "ledger_sign_ms",
    "ledger_sign_ratio",
    "erase_unreadable_ms",
    "export_readings_per_s",
    "monitor_overhead_ratio",
    "flood_detect_ms",
    "peak_rss_mb",
)


@pytest.fixture(scope="module", autouse=True)
def _mosquitto_installed() -> None:
    install_mosquitto()


def _bench(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    ran = run(
        capsys,
        "bench",
        "--readings",
        str(READINGS),
        "--pack-size",
        str(PACK),
        "--rounds",
        "2",
        "--json",
        *extra,
    )
    assert ran.code == 0, ran.err
    report: dict[str, object] = json.loads(ran.out)
    return report


def _assert_consistent(report: dict[str, object]) -> None:
    for key in FIGURES:
        value = report[key]
        assert isinstance(value, float), key
        assert value > 0 or key == "withdrawal_delay_p99_ms", f"{key} = {value}"
    assert report["readings"] == READINGS
    assert report["pack_size"] == PACK
    ratio = report["http_readings_per_s"] / report["raw_readings_per_s"]  # type: ignore[operator]
    assert report["full_to_raw_ratio"] == pytest.approx(ratio, abs=0.002)
    both = report["http_readings_per_s_2_workers"] / report["raw_readings_per_s"]  # type: ignore[operator]
    assert report["full_to_raw_ratio_2_workers"] == pytest.approx(both, abs=0.002)
    assert report["ingest_latency_p50_ms"] <= report["ingest_latency_p99_ms"]  # type: ignore[operator]
    assert report["peak_rss_mb"] <= report["peak_rss_mb_2_workers"]  # type: ignore[operator]
    assert isinstance(report["erase_readings"], int) and report["erase_readings"] > 0
    assert isinstance(report["export_readings"], int)
    assert report["export_readings"] >= report["erase_readings"], "the export held them all"
    assert isinstance(report["quarantine_effective_ms"], float)
    assert report["quarantine_effective_ms"] >= 0
    assert report["false_quarantines"] == 0
    machine = report["machine"]
    assert isinstance(machine, dict)
    assert {"cpu_model", "cpu_cores", "ram_gb", "python", "sqlite", "database"} <= set(machine)


def test_bench_on_sqlite_reports_every_figure_and_keeps_a_verifiable_deployment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kept = tmp_path / "kept"
    report = _bench(capsys, "--keep", str(kept), "--http-connections", "3")
    _assert_consistent(report)
    assert report["http_concurrency"] == 3
    assert "SQLite" in str(report["machine"]["database"])  # type: ignore[index]
    with closing(sqlite3.connect(kept / "goodthings.db")) as connection:
        # The monitoring phase's readings are dated today, the throughput phases' days before.
        stored = connection.execute(
            "select count(*) from readings where device_id != 'band-alex' and time < ?",
            (time.time() - 7200,),
        ).fetchone()[0]
    assert stored == 5 * READINGS  # raw, HTTP, MQTT with one worker and two, HTTP with two
    assert (kept / "serve-1.log").exists() and (kept / "serve-2.log").exists()
    verified = run(capsys, "ledger", "verify", "--home", str(kept))
    assert verified.code == 0, verified.err


@pytest.mark.postgres
def test_bench_on_postgresql_reports_every_figure(
    capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    report = _bench(capsys, "--database-url", postgres_url)
    _assert_consistent(report)
    assert "PostgreSQL" in str(report["machine"]["database"])  # type: ignore[index]


def test_bench_refuses_a_keep_directory_that_holds_something(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "precious.txt").write_text("mine")
    ran = run(capsys, "bench", "--readings", "10", "--keep", str(tmp_path))
    assert ran.code == 1
    assert "not empty" in ran.err
    assert (tmp_path / "precious.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("stored", "sent", "message"),
    [(3, 5, "readings were lost"), (5, 3, "readings were stored twice")],
)
def test_a_phase_whose_count_differs_from_what_was_sent_fails_loudly(
    tmp_path: Path, stored: int, sent: int, message: str
) -> None:
    path = tmp_path / "store.db"
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("create table readings (id integer primary key, time real)")
        connection.executemany(
            "insert into readings (time) values (?)", [(1000.0 + i,) for i in range(stored)]
        )
    engine = open_engine(sqlite_url(path))
    try:
        with pytest.raises(BenchError, match=message):
            _check(StoreWatch(engine), "phase", 1000.0, sent, settle=0.0)
        _check(StoreWatch(engine), "phase", 1000.0, stored, settle=0.0)
    finally:
        engine.dispose()


def test_a_reported_count_that_differs_fails_before_the_store_is_counted(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path / "unused.db"))
    try:
        with pytest.raises(BenchError, match="reported 9 stored"):
            _check(StoreWatch(engine), "http", 0.0, 10, reported=9)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([3.0, 1.0, 2.0], 0.5, 2.0),
        ([float(i) for i in range(1, 101)], 0.99, 99.0),
        ([float(i) for i in range(1, 21)], 0.99, 20.0),  # fewer than 100: p99 is the largest
        ([5.0], 0.5, 5.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    assert percentile(values, fraction) == expected


def test_the_table_for_people_shows_every_figure_with_the_machine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = BenchReport(
        readings=1000,
        pack_size=10,
        http_concurrency=4,
        raw_readings_per_s=50_000.0,
        http_readings_per_s=20_000.0,
        mqtt_readings_per_s_1_worker=30_000.0,
        mqtt_readings_per_s_2_workers=40_000.0,
        full_to_raw_ratio=0.4,
        http_readings_per_s_2_workers=35_000.0,
        full_to_raw_ratio_2_workers=0.7,
        ingest_latency_p50_ms=12.5,
        ingest_latency_p99_ms=40.0,
        withdrawal_rounds=20,
        withdrawal_delay_p99_ms=55.0,
        withdrawal_storage_delay_p99_ms=30.0,
        ledger_sign_ms=0.061,
        ledger_sign_ratio=0.0123,
        erase_unreadable_ms=27.0,
        erase_readings=31,
        export_readings_per_s=250_000.0,
        export_readings=4321,
        monitor_overhead_ratio=0.97,
        flood_detect_ms=1234.0,
        quarantine_effective_ms=88.0,
        false_quarantines=0,
        peak_rss_mb=100.0,
        peak_rss_mb_2_workers=200.0,
        machine={
            "cpu_model": "Test CPU",
            "cpu_cores": 2,
            "ram_gb": 4.0,
            "python": "3.11.7",
            "database": "SQLite 3.40.1",
        },
        soak={
            "seconds": 600.0,
            "rss_growth_mb": 3.25,
            "workers": [
                {
                    "worker": "1",
                    "rss_start_mb": 150.0,
                    "rss_end_mb": 153.25,
                    "rss_slope_mb_per_min": 0.31,
                }
            ],
        },
    )
    _print(report)
    shown = capsys.readouterr().out
    for expected in (
        "Test CPU, 2 cores",
        "SQLite 3.40.1",
        "50,000 readings/s",
        "20,000 readings/s",
        "30,000 readings/s",
        "40,000 readings/s",
        "0.40",
        "HTTP, full path, 2 workers (8 connections)",
        "35,000 readings/s",
        "0.70",
        "12.5 / 40.0 ms",
        "p99 of 20",
        "55 ms",
        "30 ms",
        "0.06 ms",
        "1.2%",
        "(31 readings)",
        "27 ms",
        "(4,321 readings)",
        "250,000 readings/s",
        "0.970",
        "1234",
        "88",
        "100 MiB",
        "200 MiB",
        "after warm-up (600 s)",
        "3.2 MiB",
        "150.0 → 153.2, +0.31",
    ):
        assert expected in shown


def test_a_soak_with_ports_profile_and_history_is_measured_and_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kept, profiles, history = tmp_path / "kept", tmp_path / "profiles", tmp_path / "runs.jsonl"
    http_port, mqtt_port = free_port(), free_port()
    while http_port + 1 == mqtt_port or not port_is_free(http_port + 1):
        http_port = free_port()
    options = ["--keep", str(kept), "--history", str(history), "--profile", str(profiles)]
    options += ["--http-port", str(http_port), "--mqtt-port", str(mqtt_port)]
    report = _bench(capsys, *options, "--duration", "6", "--soak-rate", "2000")
    _assert_consistent(report)
    soak = report["soak"]
    assert isinstance(soak, dict)
    assert soak["seconds"] >= 6 and soak["warm_up_seconds"] == pytest.approx(1.2)
    # The runner counted the soak's own day of the store against what it sent.
    assert 6 * 2000 * 0.5 <= soak["readings"] <= 6 * 2000 + PACK
    assert [worker["worker"] for worker in soak["workers"]] == ["1", "2"]
    for worker in soak["workers"]:
        assert worker["samples"] >= 3 and worker["rss_start_mb"] > 10
    for phase in ("http", "mqtt", "soak"):
        assert "</svg>" in (profiles / f"{phase}-worker-1.svg").read_text()
    assert f"listener {mqtt_port} 127.0.0.1" in (kept / "mosquitto" / "mosquitto.conf").read_text()
    assert f"127.0.0.1:{http_port}/" in (kept / "serve-1.log").read_text()
    assert f"127.0.0.1:{http_port + 1}/" in (kept / "serve-2.log").read_text()
    [line] = history.read_text().splitlines()
    assert json.loads(line)["figures"]["soak"]["readings"] == soak["readings"]
    assert report["history"] == {"file": str(history), "previous_at": None, "changes": {}}


def test_an_asked_for_port_in_use_is_named_before_any_worker_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = run(capsys, "bench", "--readings", "10", "--http-port", str(port))
        assert ran.code == 1
        assert f"port {port} on 127.0.0.1 is in use" in ran.err
        ran = run(capsys, "bench", "--readings", "10", "--mqtt-port", str(port))
        assert ran.code == 1
        assert f"port {port} on 127.0.0.1 already has a server" in ran.err
