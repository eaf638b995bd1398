"""The hub's periodic work (retention purges, webhook deliveries, interrupted erasures), each
on its own thread.

A job that fails is logged by its error's type only (the message could quote personal data)
and tried again at its next turn: one bad night must not stop purges for good. Each run's
result is counted, and given a hub's metrics the jobs publish those counts there while they
run (`goodthings_background_job_*`), so a job failing every night shows on a dashboard.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from goodthings.core import ledger
from goodthings.core.keys import load_secret_root
from goodthings.core.lifecycle import Lifecycle
from goodthings.rights.erasure import resume_interrupted
from goodthings.rights.retention import purge_expired
from goodthings.rights.sharing import WebhookSecrets, deliver_due, schedule
from goodthings.runtime.hub import Hub
from goodthings.runtime.metrics import HubMetrics
from goodthings.runtime.witness_push import WitnessPusher

logger = logging.getLogger(__name__)

MONITOR_EVERY = 5.0
"""Seconds between the monitor's flushes and looks for silent devices."""
ERASURE_RESUME_EVERY = 60.0
"""Seconds between two looks for erasures a killed `goodthings erase` left half-way."""


@dataclass(frozen=True)
class Job:
    name: str
    every: float
    """Seconds between the end of one run and the start of the next."""
    run: Callable[[], object]


@dataclass
class _Results:
    succeeded: int = 0
    failed: int = 0
    last_success: float = 0.0
    """Unix time the last successful run ended; 0 before the first."""
    last_duration: float = 0.0


class BackgroundJobs(Lifecycle, Collector):
    """Run each job now and then every `job.every` seconds until stopped; with `metrics`, its
    results are in them from `start` to `stop`."""

    def __init__(self, jobs: list[Job], metrics: HubMetrics | None = None) -> None:
        self._jobs = jobs
        self._metrics = metrics
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._results = {job.name: _Results() for job in jobs}
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._metrics is not None:
            self._metrics.register(self)
        self._stop.clear()
        for job in self._jobs:
            thread = threading.Thread(target=self._loop, args=(job,), name=job.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        if self._metrics is not None:
            self._metrics.unregister(self)

    def collect(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "goodthings_background_job_runs",
            "Runs of the hub's periodic jobs, by name and result (ok, failed)",
            # Not `job`: Prometheus gives every scraped series its scrape job under that name.
            labels=["name", "result"],
        )
        last = GaugeMetricFamily(
            "goodthings_background_job_last_success_timestamp_seconds",
            "When each job last ended without an error (Unix time; 0: not yet)",
            labels=["name"],
        )
        duration = GaugeMetricFamily(
            "goodthings_background_job_last_duration_seconds",
            "How long each job's latest run took",
            labels=["name"],
        )
        with self._lock:
            for name, results in self._results.items():
                runs.add_metric([name, "ok"], results.succeeded)
                runs.add_metric([name, "failed"], results.failed)
                last.add_metric([name], results.last_success)
                duration.add_metric([name], results.last_duration)
        yield from (runs, last, duration)

    def _loop(self, job: Job) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                job.run()
            except Exception as error:
                logger.error(
                    "%s failed (%s); trying again in %.0f s",
                    job.name,
                    type(error).__name__,
                    job.every,
                )
                self._record(job.name, began, ok=False)
            else:
                self._record(job.name, began, ok=True)
            self._stop.wait(job.every)

    def _record(self, name: str, began: float, *, ok: bool) -> None:
        with self._lock:
            results = self._results[name]
            results.last_duration = time.monotonic() - began
            if ok:
                results.succeeded += 1
                results.last_success = time.time()
            else:
                results.failed += 1


def hub_jobs(hub: Hub, client: httpx2.Client) -> list[Job]:
    """What a running hub does on its own: purge past retention, deliver to recipients, sign
    the ledger's newest entries when no append has signed them for a second, finish erasures
    that another process was killed in the middle of, and push checkpoints to the HTTP witness
    when there is one."""
    settings = hub.home.settings
    secrets = WebhookSecrets(load_secret_root(hub.home.keys_dir))

    def share() -> None:
        schedule(hub.engine)
        deliver_due(hub.engine, hub.keyring, hub.signer, secrets, client)

    jobs = [
        Job(
            "retention", settings.retention_interval, lambda: purge_expired(hub.engine, hub.signer)
        ),
        Job("sharing", settings.sharing_interval, share),
        Job(
            "erasures",
            ERASURE_RESUME_EVERY,
            lambda: resume_interrupted(hub.engine, hub.keyring, hub.signer),
        ),
        Job(
            "ledger",
            ledger.CheckpointPolicy().every_seconds,
            lambda: ledger.sign_head(hub.engine, hub.signer),
        ),
        *(
            [Job("witness", 1.0, WitnessPusher(hub.engine, settings.witness_url, client).run)]
            if settings.witness_url
            else []
        ),
    ]
    if hub.monitor is not None:
        jobs.append(Job("monitor", MONITOR_EVERY, hub.monitor.tick))
    return jobs
