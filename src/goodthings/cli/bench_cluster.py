"""`goodthings bench --cluster`: the broker cluster's figures, printed."""

from __future__ import annotations

import json
from pathlib import Path

from goodthings.bench import BenchError, ClusterOptions, run_cluster_bench
from goodthings.cli._common import err, out
from goodthings.cli._progress import phases

PHASES = ("cluster, 1 workers", "cluster, 2 workers", "cluster, 3 workers", "kill")


def bench_cluster(
    readings: int,
    pack_size: int,
    database_url: str | None,
    keep: Path | None,
    *,
    as_json: bool,
) -> None:
    """Run the cluster bench; a loss after the kill fails the command, as a lost count does."""
    if database_url is None:
        raise BenchError(
            "--cluster needs --database-url of an empty PostgreSQL database, for example "
            "postgresql://postgres@127.0.0.1:5432/bench"
        )
    options = ClusterOptions(
        database_url=database_url, readings=readings, pack_size=pack_size, keep=keep
    )
    with phases(err, PHASES) as say:
        report = run_cluster_bench(options, say=say)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        m = report.machine
        out.print(
            f"goodthings bench --cluster: {report.readings:,} readings per phase, packs of "
            f"{report.pack_size}, three nats-server nodes"
        )
        out.print(f"  on {m['cpu_model']}, {m['cpu_cores']} cores, {m['ram_gb']} GB RAM")
        out.print(f"  {m['database']}")
        for workers, rate in report.readings_per_s.items():
            out.print(f"  {workers} worker(s) over the cluster {rate:>15,.0f} readings/s")
        out.print(f"  stored counts checked         {'yes' if report.stored_checked else 'no':>15}")
        out.print(f"  acknowledged during the kill  {report.kill_acknowledged:>15,} readings")
        out.print(f"  lost after the kill           {report.kill_lost:>15,} (target 0)")
        out.print(f"  stored twice                  {report.kill_stored_twice:>15,}")
    if report.kill_lost or report.kill_stored_twice:
        raise BenchError(
            f"{report.kill_lost} acknowledged readings were lost and {report.kill_stored_twice} "
            "stored twice after a broker node was killed"
        )
