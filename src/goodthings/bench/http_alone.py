"""The bench's raw and HTTP phases alone, with a CPU profile of the worker: for working on the
HTTP path without running every phase.

    python -m goodthings.bench.http_alone --readings 50000 --profile worker.speedscope.json

The figures are measured as `goodthings bench` measures them (the same scenario, the same
load generator, the same checks of what was stored). `--profile` records the worker with
py-spy while the packs are sent, sampling CPU time only (`py-spy record` without `--idle`), so
that waiting on a loaded machine does not show up as cost; py-spy must be installed
(`pip install py-spy`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from goodthings.bench import scenario
from goodthings.bench.hubs import HubProcess
from goodthings.bench.load import (
    BenchError,
    HttpPack,
    HttpResult,
    Publisher,
    StoreWatch,
    raw_insert,
    send_http,
)
from goodthings.bench.mosquitto import private_mosquitto
from goodthings.core.store import open_engine

_DAY = 86400.0


@dataclass(frozen=True)
class HttpAlone:
    readings: int
    pack_size: int
    http_concurrency: int
    raw_readings_per_s: float
    http_readings_per_s: float
    full_to_raw_ratio: float
    worker_cpu_us_per_reading: float
    """The worker's CPU time (user and system, all threads) over the phase, per reading: what
    the path costs, whatever else the machine is doing."""
    worker_cpu_us_by_thread: dict[str, float]
    """The same, per live thread of the worker: `main` (the event loop) and the others by their
    system name, summed (Python 3.11 gives them all the interpreter's)."""
    client_cpu_us_per_reading: float
    """This process's CPU time per reading while it sent them: the load generator's share of
    the machine."""
    loadavg: str


def measure(
    root: Path,
    readings: int,
    pack_size: int,
    concurrency: int,
    profile: Path | None,
    *,
    mqtt: bool = False,
) -> HttpAlone:
    """Raw insert, then the same number of readings POSTed to one `goodthings serve` worker
    (or, with `mqtt`, published to it through Mosquitto, to compare the two paths' cost)."""
    setting = scenario.prepare(root)
    base = math.floor(time.time() - 5 * _DAY)
    engine = open_engine(setting.home.database_url)
    watch = StoreWatch(engine)
    try:
        batches = [
            scenario.rows(p) for p in scenario.packs(setting.devices, readings, pack_size, base)
        ]
        _, elapsed = raw_insert(engine, batches)
        raw_rate = readings / elapsed
        loads = list(scenario.packs(setting.devices, readings, pack_size, base + _DAY))
        packs = [
            HttpPack(setting.device_tokens[p[0][0].device_id], scenario.senml_json(p), len(p))
            for p in loads
        ]
        with private_mosquitto(root / "mosquitto") as broker:
            worker = HubProcess(root, "1", broker.url)
            worker.start()
            recorder = _profiler(worker.pid, profile) if profile is not None else None
            try:
                cpu_before = cpu_seconds(worker.pid)
                threads_before = thread_cpu_seconds(worker.pid)
                client_before = time.process_time()
                if mqtt:
                    topics = [f"gt/{p[0][0].device_id}/up" for p in loads]
                    result = _publish(broker.host, broker.port, topics, packs, watch)
                else:
                    result = send_http(worker.port, packs, concurrency)
                worker_cpu = cpu_seconds(worker.pid) - cpu_before
                client_cpu = time.process_time() - client_before
                threads = thread_cpu_seconds(worker.pid)
                by_thread = {
                    name: round((spent - threads_before.get(name, 0.0)) / readings * 1e6, 2)
                    for name, spent in sorted(threads.items(), key=lambda item: -item[1])
                    if spent - threads_before.get(name, 0.0) > 0
                }
            finally:
                if recorder is not None:
                    recorder.send_signal(signal.SIGINT)  # py-spy writes its profile then
                    recorder.wait(120)
                worker.stop()
        if result.stored != readings:
            raise BenchError(f"sent {readings} readings, the hub reported {result.stored} stored")
        stored = watch.count(base + _DAY, base + 2 * _DAY)
        if stored != readings:
            raise BenchError(f"sent {readings} readings, the store holds {stored}")
    finally:
        engine.dispose()
    http_rate = readings / result.elapsed
    return HttpAlone(
        readings,
        pack_size,
        concurrency,
        raw_rate,
        http_rate,
        http_rate / raw_rate,
        worker_cpu / readings * 1e6,
        by_thread,
        client_cpu / readings * 1e6,
        Path("/proc/loadavg").read_text().strip(),
    )


def _publish(
    host: str, port: int, topics: Sequence[str], packs: Sequence[HttpPack], watch: StoreWatch
) -> HttpResult:
    """The packs as MQTT messages on their devices' topics; done when the store holds them."""
    messages = [(topic, pack.body) for topic, pack in zip(topics, packs, strict=True)]
    publisher = Publisher(host, port)
    try:
        base_id = watch.max_id()
        started = time.perf_counter()
        publisher.publish(messages)
        done = watch.wait_for(base_id, sum(pack.readings for pack in packs))
    finally:
        publisher.close()
    return HttpResult(done - started, [], sum(pack.readings for pack in packs))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its threads so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time of each thread of a process so far, by thread name (/proc/PID/task)."""
    spent: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        spent[name] = spent.get(name, 0.0) + seconds
    return spent


def _profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    formats = {".json": "speedscope", ".txt": "raw"}  # raw: collapsed stacks, one per line
    fmt = formats.get(output.suffix, "flamegraph")
    command = [
        py_spy,
        "record",
        "--gil",
        "--pid",
        str(pid),
        "--output",
        str(output),
        "--format",
        fmt,
    ]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    time.sleep(1.0)  # py-spy attaches before the load starts
    return recorder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=50_000)
    parser.add_argument("--pack-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument(
        "--mqtt",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="publish through Mosquitto instead",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goodthings-http-") as tmp:
        report = measure(
            Path(tmp) / "deployment",
            options.readings,
            options.pack_size,
            options.concurrency,
            options.profile,
            mqtt=options.mqtt,
        )
    print(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    main()
