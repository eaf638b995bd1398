"""The hub's periodic work (retention purges, webhook deliveries, interrupted erasures), each
on its own thread.

A job that fails is logged by its error's type only (the message could quote personal data)
and tried again at its next turn: one bad night must not stop purges for good.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx2

from goodthings.core import ledger
from goodthings.core.keys import load_secret_root
from goodthings.core.lifecycle import Lifecycle
from goodthings.rights.erasure import resume_interrupted
from goodthings.rights.retention import purge_expired
from goodthings.rights.sharing import WebhookSecrets, deliver_due, schedule
from goodthings.runtime.hub import Hub

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


class BackgroundJobs(Lifecycle):
    """Run each job now and then every `job.every` seconds until stopped."""

    def __init__(self, jobs: list[Job]) -> None:
        self._jobs = jobs
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
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

    def _loop(self, job: Job) -> None:
        while not self._stop.is_set():
            try:
                job.run()
            except Exception as error:
                logger.error(
                    "%s failed (%s); trying again in %.0f s",
                    job.name,
                    type(error).__name__,
                    job.every,
                )
            self._stop.wait(job.every)


def hub_jobs(hub: Hub, client: httpx2.Client) -> list[Job]:
    """What a running hub does on its own: purge past retention, deliver to recipients, sign
    the ledger's newest entries when no append has signed them for a second, finish erasures
    that another process was killed in the middle of."""
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
    ]
    if hub.monitor is not None:
        jobs.append(Job("monitor", MONITOR_EVERY, hub.monitor.tick))
    return jobs
