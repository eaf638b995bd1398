"""The bench's phases in order, on one throwaway deployment and one database:

1. raw: the pipeline's own insert (a plain COPY on PostgreSQL, `bench.pgcopy`), the same rows,
   no parsing, gate, encryption or ledger;
2. http: the full path, packs POSTed to a `goodthings serve` worker;
3. mqtt, one worker: the same packs published to a private Mosquitto;
4. mqtt, two workers: a second `serve` joins the shared subscription;
   then http, two workers: the same packs POSTed to both, twice the connections, half to each;
5. withdrawal: consent given and withdrawn while both workers run;
6. ledger: what signing the ledger head adds to one append;
7. export: the withdrawal's person's full export, every value decrypted;
8. erasure: the withdrawal's person is erased while another process holds their key;
9. monitoring: the monitor's cost, flood detection and quarantine (`bench.monitoring`);

and, with `duration`, a soak after the MQTT phases (`bench.soak`): a steady load on both workers
while their memory is sampled. With `profile`, py-spy records the first worker through the HTTP,
MQTT and soak phases (`bench.profile`).

Each phase writes readings with times of its own (a day apart), so the store can be counted per
phase afterwards: every phase must have stored exactly what it sent, or the bench fails.
"""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from goodthings.bench import scenario
from goodthings.bench.erasure import measure_erasure, measure_signing
from goodthings.bench.export import measure_export
from goodthings.bench.hubs import HubProcess
from goodthings.bench.load import (
    BenchError,
    HttpPack,
    Publisher,
    Say,
    StoreWatch,
    percentile,
    send_http,
)
from goodthings.bench.monitoring import measure_monitoring
from goodthings.bench.mosquitto import private_mosquitto
from goodthings.bench.pgcopy import raw_phase
from goodthings.bench.profile import profiled
from goodthings.bench.soak import SoakResult, run_soak
from goodthings.bench.withdrawal import Withdrawal, measure_withdrawal
from goodthings.core.keys import load_signing_key
from goodthings.core.store import normalise_url, open_engine
from goodthings.runtime.hub import Hub

_DAY = 86400.0
_DIGITS = {"ledger_sign_ms": 3, "full_to_raw_ratio_2_workers": 4}
"""Figures rounded finer than a tenth: signing takes some hundredths of a millisecond, and a
ratio is told to four places (the rest: four for `_ratio`, one otherwise)."""


@dataclass(frozen=True)
class BenchOptions:
    readings: int = 300_000
    """Readings per phase (raw, HTTP, MQTT with one worker, MQTT with two)."""
    pack_size: int = 100
    """Readings per SenML pack: per HTTP request, per MQTT message, per raw transaction."""
    database_url: str | None = None
    """None: a SQLite file in the bench's directory (the embedded default)."""
    keep: Path | None = None
    """Build the deployment here and leave it (with the workers' logs) for inspection."""
    http_concurrency: int = 32
    """HTTP connections each sending a pack at a time, as that many devices would. With few,
    the hub waits for the next request between groups (each sender waits for its 202)."""
    withdrawal_rounds: int = 20
    http_port: int | None = None
    """The first worker's HTTP port, the second's the next one up; None: free ports."""
    mqtt_port: int | None = None
    """The private Mosquitto's port; None: a free one."""
    duration: float | None = None
    """Seconds of soak after the MQTT phases; None: no soak."""
    soak_rate: float = 5_000.0
    """Readings per second the soak keeps up, half over HTTP and half over MQTT."""
    profile: Path | None = None
    """Write py-spy flame graphs of the first worker's phases into this directory."""


@dataclass(frozen=True)
class BenchReport:
    """Every figure of one run; the keys of `--json`."""

    readings: int
    pack_size: int
    http_concurrency: int
    raw_readings_per_s: float
    http_readings_per_s: float
    mqtt_readings_per_s_1_worker: float
    mqtt_readings_per_s_2_workers: float
    full_to_raw_ratio: float
    """HTTP full path over raw insert, as issue #3 sets its target."""
    http_readings_per_s_2_workers: float
    """HTTP full path with two `serve` workers, each with `http_concurrency` connections (as
    behind a reverse proxy that spreads them): what a second core buys over HTTP."""
    full_to_raw_ratio_2_workers: float
    ingest_latency_p50_ms: float
    ingest_latency_p99_ms: float
    """HTTP: from sending a pack to its 202, answered after the commit, under full load."""
    withdrawal_rounds: int
    withdrawal_delay_p99_ms: float
    """From the withdrawal's commit to the retained policy saying collect=false."""
    withdrawal_storage_delay_p99_ms: float
    """From the withdrawal's commit to the last reading of the stream stored."""
    ledger_sign_ms: float
    """What signing the ledger head (a checkpoint) adds to one ledger append."""
    ledger_sign_ratio: float
    """`ledger_sign_ms` over the HTTP full path's time per pack: what signing the head after
    every batch would cost (the hub signs every 100 entries or every second, less often)."""
    erase_unreadable_ms: float
    """From an erasure request to the moment another process holding the person's key opens
    none of their readings, with the store holding 4 times `readings` readings."""
    erase_readings: int
    """How many readings of the erased person the erasure purged afterwards."""
    export_readings_per_s: float
    """A person's full export (`goodthings export`): readings decrypted and written per second."""
    export_readings: int
    """How many readings that export holds, counted in the archive written."""
    monitor_overhead_ratio: float
    """The pipeline's throughput with the abuse monitor over without it, in the same run."""
    flood_detect_ms: float
    """From a flood's first pack to the quarantine's commit."""
    quarantine_effective_ms: float
    """p99 from a quarantine's commit to the newest reading stored by a worker over HTTP."""
    false_quarantines: int
    """Devices of a normal fleet with jitter, retries and outages that were quarantined."""
    peak_rss_mb: float
    """The largest peak resident memory of any hub worker."""
    peak_rss_mb_2_workers: float
    """Both workers' peaks added up."""
    machine: dict[str, object] = field(default_factory=dict)
    raw_method: str = "insert"
    """How the raw phase wrote: the pipeline's insert (SQLite) or a plain COPY (PostgreSQL)."""
    soak: dict[str, object] | None = None
    """The soak's figures (`SoakResult.as_dict`), when the run had one."""

    def as_dict(self) -> dict[str, object]:
        """The figures rounded to what the measurement can tell apart."""
        return {
            key: round(value, _DIGITS.get(key, 4 if key.endswith("_ratio") else 1))
            if isinstance(value, float)
            else value
            for key, value in asdict(self).items()
        }


def run_bench(options: BenchOptions, say: Say = lambda _message: None) -> BenchReport:
    """Run every phase and check every count; raise BenchError when anything was lost."""
    if options.readings < 1 or options.pack_size < 1:
        raise BenchError("--readings and --pack-size must be at least 1")
    if options.duration is not None and (options.duration <= 0 or options.soak_rate <= 0):
        raise BenchError("--duration and --soak-rate must be more than 0")
    with _directory(options.keep) as root:
        return _run(root, options, say)


@contextmanager
def _directory(keep: Path | None) -> Iterator[Path]:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="goodthings-bench-") as tmp:
            yield Path(tmp) / "deployment"
        return
    if keep.exists() and any(keep.iterdir()):
        raise BenchError(f"{keep} is not empty; --keep needs a new or empty directory")
    yield keep.resolve()


def _run(root: Path, options: BenchOptions, say: Say) -> BenchReport:
    n, k = options.readings, options.pack_size
    database_url = normalise_url(options.database_url) if options.database_url else None
    say(f"Preparing the smart-home deployment in {root}")
    setting = scenario.prepare(root, database_url)
    devices = setting.devices
    # Recent enough that no stream's retention (a week at the shortest) purges them mid-run.
    base = math.floor(time.time() - 6 * _DAY)
    phases = ("raw", "http", "m1", "m2", "h2", "soak")
    starts = {phase: base + index * _DAY for index, phase in enumerate(phases)}
    engine = open_engine(setting.home.database_url)
    watch = StoreWatch(engine)
    hubs: list[HubProcess] = []
    try:
        with ExitStack() as stack:
            broker = stack.enter_context(
                private_mosquitto(root / "mosquitto", port=options.mqtt_port)
            )

            raw_method, raw = raw_phase(engine)
            say(f"raw: writing {n:,} readings by {raw_method} in transactions of {k}")
            batches = [scenario.rows(p) for p in scenario.packs(devices, n, k, starts["raw"])]
            inserted, elapsed = raw(engine, batches)
            del batches
            _check(watch, "raw", starts["raw"], n, reported=inserted)
            raw_rate = n / elapsed
            say(f"raw: {raw_rate:,.0f} readings/s")

            first = HubProcess(root, "1", broker.url, database_url, port=options.http_port)
            hubs.append(first)
            stack.callback(first.stop)
            say("http: starting a `goodthings serve` worker")
            first.start()
            packs = _http_packs(setting, n, k, starts["http"])
            say(f"http: {len(packs):,} packs over {options.http_concurrency} connections")
            with profiled(options.profile, first.pid, "http-worker-1", say):
                result = send_http(first.port, packs, options.http_concurrency)
            pack_count = len(packs)
            del packs
            _check(watch, "http", starts["http"], n, reported=result.stored)
            http_rate = n / result.elapsed
            say(f"http: {http_rate:,.0f} readings/s")

            publisher = Publisher(broker.host, broker.port)
            stack.callback(publisher.close)
            with profiled(options.profile, first.pid, "mqtt-worker-1", say):
                mqtt1 = _mqtt_phase(
                    watch, publisher, devices, n, k, starts["m1"], hubs, "1 worker", say
                )
            second_port = None if options.http_port is None else options.http_port + 1
            second = HubProcess(root, "2", broker.url, database_url, port=second_port)
            hubs.append(second)
            stack.callback(second.stop)
            say("mqtt: starting a second worker")
            second.start()
            mqtt2 = _mqtt_phase(
                watch, publisher, devices, n, k, starts["m2"], hubs, "2 workers", say
            )
            packs = _http_packs(setting, n, k, starts["h2"])
            connections = 2 * options.http_concurrency
            say(f"http: {len(packs):,} packs over {connections} connections, half to each worker")
            both = send_http((first.port, second.port), packs, connections)
            del packs
            _check(watch, "http, 2 workers", starts["h2"], n, reported=both.stored)
            http2_rate = n / both.elapsed
            say(f"http, 2 workers: {http2_rate:,.0f} readings/s")
            soak: SoakResult | None = None
            if options.duration is not None:
                with profiled(options.profile, first.pid, "soak-worker-1", say):
                    soak = run_soak(
                        duration=options.duration,
                        rate=options.soak_rate,
                        devices=devices,
                        pack_size=k,
                        start=starts["soak"],
                        http_port=first.port,
                        tokens=setting.device_tokens,
                        publisher=publisher,
                        watch=watch,
                        workers={hub.worker: hub.pid for hub in hubs},
                        alive=lambda: _all_alive(hubs),
                        say=say,
                    )
                _check(watch, "soak", starts["soak"], soak.readings)

            say(f"withdrawal: {options.withdrawal_rounds} rounds of give and withdraw")
            withdrawal = measure_withdrawal(
                engine,
                load_signing_key(setting.home.keys_dir),
                (broker.host, broker.port),
                Withdrawal(
                    scenario.WITHDRAWAL_DEVICE,
                    scenario.WITHDRAWAL_SUBJECT,
                    scenario.WITHDRAWAL_STREAM,
                    scenario.WITHDRAWAL_PURPOSE,
                ),
                options.withdrawal_rounds,
                say,
            )
            say("ledger: the cost of signing the head")
            signer = load_signing_key(setting.home.keys_dir)
            sign_ms = measure_signing(engine, signer)
            say(f"export: {scenario.WITHDRAWAL_SUBJECT}'s full export")
            export = measure_export(
                setting.home, engine, signer, scenario.WITHDRAWAL_SUBJECT, root / "export.zip"
            )
            say(f"export: {export.readings:,} readings, {export.readings_per_s:,.0f} readings/s")
            say(
                f"erasure: erasing {scenario.WITHDRAWAL_SUBJECT} while another process holds the key"
            )
            erasure = measure_erasure(setting.home, engine, signer, scenario.WITHDRAWAL_SUBJECT)
            say(f"erasure: unreadable everywhere after {erasure.unreadable_ms:.0f} ms")
            local = Hub.open(setting.home)
            try:
                watched = measure_monitoring(
                    local,
                    devices,
                    readings=n,
                    pack_size=k,
                    worker_port=first.port,
                    token=setting.device_tokens[scenario.QUARANTINE_DEVICE],
                    device_id=scenario.QUARANTINE_DEVICE,
                    rounds=options.withdrawal_rounds,
                    say=say,
                )
            finally:
                local.close()
            for hub in hubs:
                hub.check_alive()
        # Leaving the stack stopped the workers (and read their peak memory) and the broker.
        peaks = [hub.peak_rss_mb or 0.0 for hub in hubs]
        machine = machine_info(engine)
    finally:
        engine.dispose()
    return BenchReport(
        readings=n,
        pack_size=k,
        http_concurrency=options.http_concurrency,
        raw_readings_per_s=raw_rate,
        http_readings_per_s=http_rate,
        mqtt_readings_per_s_1_worker=mqtt1,
        mqtt_readings_per_s_2_workers=mqtt2,
        full_to_raw_ratio=http_rate / raw_rate,
        http_readings_per_s_2_workers=http2_rate,
        full_to_raw_ratio_2_workers=http2_rate / raw_rate,
        ingest_latency_p50_ms=percentile(result.latencies, 0.50) * 1000,
        ingest_latency_p99_ms=percentile(result.latencies, 0.99) * 1000,
        withdrawal_rounds=options.withdrawal_rounds,
        withdrawal_delay_p99_ms=percentile(withdrawal.policy_delays, 0.99) * 1000,
        withdrawal_storage_delay_p99_ms=percentile(withdrawal.storage_delays, 0.99) * 1000,
        ledger_sign_ms=sign_ms,
        ledger_sign_ratio=sign_ms / (result.elapsed * 1000 / pack_count),
        erase_unreadable_ms=erasure.unreadable_ms,
        erase_readings=erasure.readings_erased,
        export_readings_per_s=export.readings_per_s,
        export_readings=export.readings,
        monitor_overhead_ratio=watched.overhead_ratio,
        flood_detect_ms=watched.flood_detect_ms,
        quarantine_effective_ms=watched.effective_p99_ms,
        false_quarantines=watched.false_quarantines,
        peak_rss_mb=max(peaks),
        peak_rss_mb_2_workers=sum(peaks),
        machine=machine,
        raw_method=raw_method,
        soak=None if soak is None else soak.as_dict(),
    )


def _http_packs(setting: scenario.Scenario, n: int, k: int, start: float) -> list[HttpPack]:
    return [
        HttpPack(setting.device_tokens[pack[0][0].device_id], scenario.senml_json(pack), len(pack))
        for pack in scenario.packs(setting.devices, n, k, start)
    ]


def _mqtt_phase(
    watch: StoreWatch,
    publisher: Publisher,
    devices: tuple[scenario.DeviceLoad, ...],
    n: int,
    k: int,
    start: float,
    hubs: list[HubProcess],
    label: str,
    say: Say,
) -> float:
    """Publish every pack, then wait until the last reading is stored; readings per second."""
    messages = [
        (f"gt/{pack[0][0].device_id}/up", scenario.senml_json(pack))
        for pack in scenario.packs(devices, n, k, start)
    ]
    say(f"mqtt, {label}: publishing {len(messages):,} packs through Mosquitto")

    def alive() -> None:
        for hub in hubs:
            hub.check_alive()

    base_id = watch.max_id()
    started = time.perf_counter()
    publisher.publish(messages)
    try:
        done = watch.wait_for(base_id, n, alive=alive)
    except BenchError as error:
        logs = "\n".join(f"worker {hub.worker}:\n{hub.log_tail(10)}" for hub in hubs)
        raise BenchError(f"mqtt, {label}: {error}; the workers' last output:\n{logs}") from None
    _check(watch, f"mqtt, {label}", start, n)
    rate = n / (done - started)
    say(f"mqtt, {label}: {rate:,.0f} readings/s")
    return rate


def _all_alive(hubs: list[HubProcess]) -> None:
    for hub in hubs:
        hub.check_alive()


def _check(
    watch: StoreWatch,
    phase: str,
    start: float,
    sent: int,
    reported: int | None = None,
    settle: float = 10.0,
) -> None:
    """Fail loudly unless the store holds exactly the readings the phase sent."""
    if reported is not None and reported != sent:
        raise BenchError(f"{phase}: sent {sent} readings but the hub reported {reported} stored")
    deadline = time.monotonic() + settle
    while True:  # on PostgreSQL, the workers' last transactions may still be committing
        stored = watch.count(start, start + _DAY)
        if stored >= sent or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if stored != sent:
        raise BenchError(
            f"{phase}: sent {sent} readings but the store holds {stored}: "
            f"{'readings were lost' if stored < sent else 'readings were stored twice'}"
        )


def machine_info(engine: Engine) -> dict[str, object]:
    """What the figures were measured on: they mean little without it."""
    info: dict[str, object] = {
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        info["database"] = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"
    else:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version()")).scalar()
        info["database"] = str(version).split(" on ")[0]
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None
