"""A deployment worth killing a command in: the smart home, where alex consented and has
enough readings that erasing or exporting them takes a while, copied fresh for each round."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from goodthings.core.config import Home
from goodthings.rights.consent import records as consent
from goodthings.runtime import Hub
from hubs import clean_environment
from portal_helpers import send
from templates import init_from_template

PERSON = "alex"
PACKS, PER_PACK = 40, 500
READINGS = PACKS * PER_PACK


def prepare(root: Path) -> Path:
    home = Home(root)
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        for stream in ("heart_rate", "steps"):
            consent.give(
                hub.engine,
                hub.signer,
                consent.ConsentChange(PERSON, stream, "ServicePersonalisation"),
            )
        hub.pipeline.refresh()
        start = time.time() - READINGS - 10
        for pack in range(PACKS):
            values = [60.0 + (pack + i) % 90 for i in range(PER_PACK)]
            assert send(hub, "band-alex", "heart_rate", values, start + pack * PER_PACK) == PER_PACK
    finally:
        hub.close()
    return root


def goodthings(root: Path, *argv: str) -> list[str]:
    """The command line of `goodthings ARGV --home ROOT` as a subprocess."""
    return [sys.executable, "-m", "goodthings", *argv, "--home", str(root)]


def keys_command(hub: Hub, verb: str) -> tuple[list[str], dict[str, str]]:
    """`goodthings keys VERB` for the hub's deployment, with the environment it runs in."""
    command = [sys.executable, "-m", "goodthings", "keys", verb, "--home", str(hub.home.root)]
    environment = clean_environment()
    if hub.home.database_url_override:
        environment["GOODTHINGS_DATABASE_URL"] = hub.home.database_url_override
    return command, environment


def kill_once_started(
    command: list[str],
    environment: dict[str, str],
    started: Path,
    chance: random.Random,
    *,
    within: float,
    poll: float = 0.005,
) -> None:
    """Run `command` and SIGKILL it at a random moment up to `within` seconds after `started`
    appears (past start-up), or at once if it finished before."""
    with subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL) as process:
        while process.poll() is None and not started.exists():
            time.sleep(poll)
        time.sleep(chance.uniform(0, within))
        process.send_signal(signal.SIGKILL)
        process.wait()
