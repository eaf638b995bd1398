"""`goodthings bench`: measure this machine's hub, end to end, on a throwaway deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from goodthings.bench import BenchOptions, BenchReport, run_bench
from goodthings.bench.history import Comparison, default_path, record
from goodthings.cli._common import err, out
from goodthings.cli._progress import phases

PHASES = (
    "raw",
    "http",
    "mqtt, 1 worker",
    "mqtt, 2 workers",
    "soak",
    "withdrawal",
    "ledger",
    "erasure",
)
"""The bench's phases as its messages name them, for the progress bar."""


def bench(
    readings: Annotated[
        int, typer.Option("--readings", help="Readings sent in each throughput phase.")
    ] = BenchOptions.readings,
    pack_size: Annotated[
        int,
        typer.Option("--pack-size", help="Readings per SenML pack (per request, per message)."),
    ] = BenchOptions.pack_size,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object for scripts.")
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Run on this (empty, throwaway) database instead of a temporary SQLite file.",
        ),
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option(
            "--keep", help="Build the deployment in this new directory and keep it, with logs."
        ),
    ] = None,
    rounds: Annotated[
        int, typer.Option("--rounds", min=1, help="Consent withdrawals to time.")
    ] = BenchOptions.withdrawal_rounds,
    http_connections: Annotated[
        int,
        typer.Option(
            "--http-connections",
            min=1,
            help="HTTP connections sending at once, as that many devices would (twice as many "
            "for two workers).",
        ),
    ] = BenchOptions.http_concurrency,
    http_port: Annotated[
        int | None,
        typer.Option(
            "--http-port",
            min=1,
            max=65534,
            help="The first worker's HTTP port on 127.0.0.1, the second's the next one up "
            "(default: free ports).",
        ),
    ] = None,
    mqtt_port: Annotated[
        int | None,
        typer.Option(
            "--mqtt-port",
            min=1,
            max=65535,
            help="The bench's own Mosquitto's port on 127.0.0.1 (default: a free port).",
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            min=1,
            help="Also soak: keep a steady load for SECONDS and report the workers' memory growth.",
        ),
    ] = None,
    soak_rate: Annotated[
        float,
        typer.Option("--soak-rate", min=1, help="Readings per second the soak keeps up."),
    ] = BenchOptions.soak_rate,
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile",
            help="Write py-spy flame graphs of the first worker's HTTP, MQTT and soak phases "
            "into this directory.",
        ),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            help="Append this run to this JSON Lines file and compare it with the previous run "
            "of the same options (default: bench-history.jsonl in the user's state directory).",
        ),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Instead: 1, 2 and 3 workers over a private three-node NATS cluster and the "
            "PostgreSQL database of --database-url, then a node killed under load.",
        ),
    ] = False,
) -> None:
    """Measure ingest throughput, latency, withdrawal delay and memory on this machine."""
    if cluster:
        from goodthings.cli.bench_cluster import bench_cluster

        bench_cluster(readings, pack_size, database_url, keep, as_json=as_json)
        return
    options = BenchOptions(
        readings=readings,
        pack_size=pack_size,
        database_url=database_url,
        keep=keep,
        withdrawal_rounds=rounds,
        http_concurrency=http_connections,
        http_port=http_port,
        mqtt_port=mqtt_port,
        duration=duration,
        soak_rate=soak_rate,
        profile=profile,
    )
    named = PHASES if duration is not None else tuple(p for p in PHASES if p != "soak")
    with phases(err, named) as say:
        report = run_bench(options, say=say)
    figures = report.as_dict()
    comparison = record(history or default_path(), history_options(options), figures)
    if as_json:
        print(json.dumps({**figures, "history": comparison.as_dict()}, indent=2))
    else:
        _print(report)
        _print_comparison(comparison)


def history_options(options: BenchOptions) -> dict[str, object]:
    """What makes two runs comparable: the size and shape of the load, the database's kind
    (never its URL, which can hold a password), a soak's length and rate, and whether py-spy
    was sampling. Ports and directories change no figure."""
    url = options.database_url or "sqlite"
    return {
        "readings": options.readings,
        "pack_size": options.pack_size,
        "http_concurrency": options.http_concurrency,
        "withdrawal_rounds": options.withdrawal_rounds,
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "duration": options.duration,
        "soak_rate": options.soak_rate if options.duration is not None else None,
        "profiled": options.profile is not None,
    }


def _print_comparison(comparison: Comparison) -> None:
    if comparison.previous_at is None:
        out.print(f"  (first run with these options, kept in {comparison.path})")
        return
    out.print(f"against the previous run with the same options ({comparison.previous_at}):")
    for change in comparison.changes:
        out.print(f"  {change.describe()}{'  worse' if change.worse else ''}", markup=False)


def _print(report: BenchReport) -> None:
    m = report.machine
    out.print(
        f"goodthings bench: {report.readings:,} readings per phase, packs of {report.pack_size}"
    )
    out.print(f"  on {m['cpu_model']}, {m['cpu_cores']} cores, {m['ram_gb']} GB RAM")
    out.print(f"  Python {m['python']}, {m['database']}")
    rate = "readings/s"
    rows = [
        (
            "raw COPY (no policy)" if report.raw_method == "copy" else "raw insert (no policy)",
            f"{report.raw_readings_per_s:,.0f}",
            rate,
        ),
        (
            f"HTTP, full path ({report.http_concurrency} connections)",
            f"{report.http_readings_per_s:,.0f}",
            rate,
        ),
        ("MQTT via Mosquitto, 1 worker", f"{report.mqtt_readings_per_s_1_worker:,.0f}", rate),
        ("MQTT via Mosquitto, 2 workers", f"{report.mqtt_readings_per_s_2_workers:,.0f}", rate),
        ("full path / raw (HTTP)", f"{report.full_to_raw_ratio:.2f}", ""),
        (
            f"HTTP, full path, 2 workers ({2 * report.http_concurrency} connections)",
            f"{report.http_readings_per_s_2_workers:,.0f}",
            rate,
        ),
        ("full path / raw (HTTP, 2 workers)", f"{report.full_to_raw_ratio_2_workers:.2f}", ""),
        (
            "ingest latency p50 / p99 (HTTP)",
            f"{report.ingest_latency_p50_ms:.1f} / {report.ingest_latency_p99_ms:.1f}",
            "ms",
        ),
        (
            f"withdrawal → policy, p99 of {report.withdrawal_rounds}",
            f"{report.withdrawal_delay_p99_ms:.0f}",
            "ms",
        ),
        (
            "withdrawal → last reading stored, p99",
            f"{report.withdrawal_storage_delay_p99_ms:.0f}",
            "ms",
        ),
        ("signing the ledger head, per append", f"{report.ledger_sign_ms:.2f}", "ms"),
        ("  as a share of the full path per pack", f"{report.ledger_sign_ratio:.1%}", ""),
        (
            f"erasure → unreadable in every process ({report.erase_readings:,} readings)",
            f"{report.erase_unreadable_ms:.0f}",
            "ms",
        ),
        (
            f"a person's full export ({report.export_readings:,} readings)",
            f"{report.export_readings_per_s:,.0f}",
            "readings/s",
        ),
        ("monitored / unmonitored (pipeline)", f"{report.monitor_overhead_ratio:.3f}", ""),
        ("flood start → quarantine decision", f"{report.flood_detect_ms:.0f}", "ms"),
        ("quarantine → no reading stored, p99", f"{report.quarantine_effective_ms:.0f}", "ms"),
        ("false quarantines over a normal fleet", f"{report.false_quarantines}", ""),
        ("peak RSS of a worker", f"{report.peak_rss_mb:.0f}", "MiB"),
        ("peak RSS of both workers", f"{report.peak_rss_mb_2_workers:.0f}", "MiB"),
    ]
    if report.soak is not None:
        soak = report.soak
        rows.append(
            (
                f"soak: memory growth after warm-up ({soak['seconds']:.0f} s)",
                f"{soak['rss_growth_mb']:.1f}",
                "MiB",
            )
        )
        for worker in soak["workers"]:  # type: ignore[attr-defined]
            rows.append(
                (
                    f"  worker {worker['worker']}: start → end, slope",
                    f"{worker['rss_start_mb']:.1f} → {worker['rss_end_mb']:.1f}, "
                    f"{worker['rss_slope_mb_per_min']:+.2f}",
                    "MiB, MiB/min",
                )
            )
    for label, value, unit in rows:
        out.print(f"  {label:<40} {value:>15} {unit}".rstrip())
