"""A real Mosquitto for the tests, on a free loopback port: installed if missing, never skipped.

Starting and stopping it is the product's own code (the bench needs a private broker too);
only installing it is the tests' business.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from goodthings.bench.mosquitto import Broker, find_mosquitto, private_mosquitto

__all__ = ["Broker", "install_mosquitto", "mosquitto"]


def install_mosquitto() -> Path:
    """Install Debian's package, as the project's own files must (a fresh machine has none)."""
    found = find_mosquitto()
    if found is not None:
        return found
    if shutil.which("apt-get") is None:
        raise RuntimeError("Mosquitto is needed by the tests: install Debian's `mosquitto` package")
    install = ["apt-get", "install", "-y", "-q", "mosquitto"]
    if subprocess.run(install, check=False, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)
    found = find_mosquitto()
    if found is None:
        raise RuntimeError("`apt-get install mosquitto` ran but no mosquitto binary is there")
    return found


@contextmanager
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A private Mosquitto (never the machine's own on 1883), stopped and waited for at the end."""
    with private_mosquitto(tmp_path / "mosquitto", install_mosquitto()) as broker:
        yield broker
