"""The bench's soak: a steady load for a set time while the workers' resident memory is sampled.

A throughput phase shows how fast the hub is for a minute; a soak shows whether it stays the
same size for longer. The load is paced (packs at fixed times, not as fast as the hub answers),
half over HTTP to the first worker and half through Mosquitto to every worker on the shared
subscription, so each worker does steady work of both kinds. Memory is read from
/proc/PID/status (VmRSS) once a second; the first part of the run is a warm-up that is not
counted, since caches, pools and the allocator's arenas fill then by design. What is reported
is the growth from the end of the warm-up to the end of the run (each a median of a few samples,
so one collection does not decide it) and the slope of a least-squares line through every
sample after the warm-up: a leak shows as a slope that does not go to zero.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from goodthings.bench import scenario
from goodthings.bench.hubs import peak_rss_mb
from goodthings.bench.load import BenchError, Publisher, Say, StoreWatch

SAMPLE_INTERVAL = 1.0
"""Seconds between two readings of each worker's resident memory."""

WARM_UP_SHARE = 0.2
WARM_UP_MAX = 60.0
"""The warm-up is a fifth of the soak, at most a minute."""

_WINDOW = 5
"""Samples whose median stands for the start and for the end."""


@dataclass(frozen=True)
class WorkerMemory:
    """One worker's resident memory through the soak, in MiB."""

    worker: str
    rss_start_mb: float
    """At the end of the warm-up."""
    rss_end_mb: float
    rss_growth_mb: float
    rss_slope_mb_per_min: float
    """The least-squares slope through every sample after the warm-up."""
    samples: int


@dataclass(frozen=True)
class SoakResult:
    seconds: float
    warm_up_seconds: float
    readings: int
    """Readings sent (and, once the runner has counted the store, stored)."""
    readings_per_s: float
    """The pace kept, from what was sent over the time it took."""
    workers: tuple[WorkerMemory, ...]
    behind_s: float = 0.0
    """The most the load fell behind its schedule: more than a second or so means the hub (or
    the load generator) could not keep the asked-for rate, and the soak was not steady."""

    @property
    def rss_growth_mb(self) -> float:
        """The largest growth of any worker."""
        return max(worker.rss_growth_mb for worker in self.workers)

    def as_dict(self) -> dict[str, object]:
        return {
            "seconds": round(self.seconds, 1),
            "warm_up_seconds": round(self.warm_up_seconds, 1),
            "readings": self.readings,
            "readings_per_s": round(self.readings_per_s, 1),
            "behind_s": round(self.behind_s, 2),
            "rss_growth_mb": round(self.rss_growth_mb, 2),
            "workers": [
                {
                    "worker": worker.worker,
                    "rss_start_mb": round(worker.rss_start_mb, 2),
                    "rss_end_mb": round(worker.rss_end_mb, 2),
                    "rss_growth_mb": round(worker.rss_growth_mb, 2),
                    "rss_slope_mb_per_min": round(worker.rss_slope_mb_per_min, 3),
                    "samples": worker.samples,
                }
                for worker in self.workers
            ],
        }


@dataclass
class _Samples:
    """(seconds since the soak began, VmRSS in MiB) per worker, filled by the sampler thread."""

    pids: dict[str, int]
    points: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def resident_mb(pid: int) -> float | None:
    """VmRSS of a process now, in MiB (None where there is no /proc or the process is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float:
    """The least-squares slope of (seconds, MiB) points, in MiB per minute; 0 for fewer than 2."""
    if len(points) < 2:
        return 0.0
    times = [t for t, _ in points]
    if max(times) == min(times):
        return 0.0
    slope, _intercept = statistics.linear_regression(times, [mb for _, mb in points])
    return slope * 60


def memory_of(worker: str, points: Sequence[tuple[float, float]], warm_up: float) -> WorkerMemory:
    """Start, end, growth and slope of one worker's samples, leaving out the warm-up."""
    counted = [point for point in points if point[0] >= warm_up]
    if not counted:
        raise BenchError(f"soak: no memory sample of worker {worker} after the warm-up")
    start = statistics.median(mb for _, mb in counted[:_WINDOW])
    end = statistics.median(mb for _, mb in counted[-_WINDOW:])
    return WorkerMemory(worker, start, end, end - start, slope_per_minute(counted), len(counted))


def warm_up_for(duration: float) -> float:
    return min(WARM_UP_MAX, duration * WARM_UP_SHARE)


def run_soak(
    *,
    duration: float,
    rate: float,
    devices: Sequence[scenario.DeviceLoad],
    pack_size: int,
    start: float,
    http_port: int,
    tokens: dict[str, str],
    publisher: Publisher,
    watch: StoreWatch,
    workers: dict[str, int],
    alive: Callable[[], None],
    say: Say,
) -> SoakResult:
    """Keep `rate` readings/s going for `duration` seconds, sample the `workers` (name → pid),
    then wait until every reading sent is stored."""
    warm_up = warm_up_for(duration)
    samples = _Samples(workers, {name: [] for name in workers})
    stop = threading.Event()
    began = time.perf_counter()
    sampler = threading.Thread(
        target=_sample, args=(samples, began, stop), name="bench-soak-rss", daemon=True
    )
    base_id = watch.max_id()
    say(
        f"soak: {rate:,.0f} readings/s for {duration:,.0f} s "
        f"(the first {warm_up:.0f} s a warm-up), memory sampled every {SAMPLE_INTERVAL:.0f} s"
    )
    sampler.start()
    try:
        sent, behind = _paced_load(
            _soak_packs(devices, pack_size, start),
            rate=rate,
            until=began + duration,
            http_port=http_port,
            tokens=tokens,
            publisher=publisher,
            alive=alive,
        )
    finally:
        stop.set()
        sampler.join()
    seconds = time.perf_counter() - began
    watch.wait_for(base_id, sent, alive=alive)
    memory = tuple(
        memory_of(name, samples.points[name], warm_up) for name in sorted(samples.points)
    )
    result = SoakResult(seconds, warm_up, sent, sent / seconds, memory, behind)
    say(f"soak: {sent:,} readings, memory grew by {result.rss_growth_mb:.1f} MiB after the warm-up")
    for worker in memory:  # in the log too, should a later phase fail before the report
        peak = peak_rss_mb(workers[worker.worker])
        say(
            f"soak: worker {worker.worker}: {worker.rss_start_mb:.1f} → {worker.rss_end_mb:.1f} "
            f"MiB, {worker.rss_slope_mb_per_min:+.3f} MiB/min, peak so far {peak or 0:.1f} MiB"
        )
    return result


def _soak_packs(
    devices: Sequence[scenario.DeviceLoad], pack_size: int, start: float
) -> Iterator[list[scenario.Reading]]:
    """Packs without end (the pace and the clock end the soak), with the phase's own times;
    a day holds 86,400,000 readings per device at 1 ms apart, far more than any soak sends."""
    return scenario.packs(devices, 2**62, pack_size, start)


def _paced_load(
    packs: Iterator[list[scenario.Reading]],
    *,
    rate: float,
    until: float,
    http_port: int,
    tokens: dict[str, str],
    publisher: Publisher,
    alive: Callable[[], None],
) -> tuple[int, float]:
    """Send each pack when its turn comes at `rate`, HTTP and MQTT in turn; (readings sent,
    the most seconds the load was behind its schedule)."""
    connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
    sent = 0
    due = last_check = time.perf_counter()
    behind = 0.0
    try:
        for index, pack in enumerate(packs):
            now = time.perf_counter()
            if due >= until:
                break
            if due > now:
                time.sleep(due - now)
            behind = max(behind, now - due)
            device = pack[0][0].device_id
            body = scenario.senml_json(pack)
            if index % 2 == 0:
                _post(connection, tokens[device], body, index)
            else:
                publisher.publish([(f"gt/{device}/up", body)])
            sent += len(pack)
            due += len(pack) / rate
            if now - last_check > 1.0:
                alive()
                last_check = now
    finally:
        connection.close()
    return sent, behind


def _post(connection: http.client.HTTPConnection, token: str, body: bytes, index: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/senml+json"}
    try:
        connection.request("POST", "/ingest", body, headers)
        response = connection.getresponse()
        answer = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise BenchError(f"soak: HTTP client: {type(error).__name__}: {error}") from None
    if response.status != 202:
        raise BenchError(f"soak: pack {index}: HTTP {response.status} {answer[:300]!r}")


def _sample(samples: _Samples, began: float, stop: threading.Event) -> None:
    while True:
        now = time.perf_counter() - began
        for name, pid in samples.pids.items():
            mb = resident_mb(pid)
            if mb is not None:
                samples.points[name].append((now, mb))
        if stop.wait(SAMPLE_INTERVAL):
            return
