"""A real Mosquitto for the tests, on a free loopback port: installed if missing, never skipped."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO = Path("/usr/sbin/mosquitto")
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    log_path: Path


def _install_mosquitto() -> Path:
    """Install Debian's package, as the project's own files must (a fresh machine has none)."""
    if MOSQUITTO.exists():
        return MOSQUITTO
    if shutil.which("apt-get") is None:
        raise RuntimeError("Mosquitto is needed by the tests: install Debian's `mosquitto` package")
    install = ["apt-get", "install", "-y", "-q", "mosquitto"]
    if subprocess.run(install, check=False, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)
    if not MOSQUITTO.exists():
        raise RuntimeError(f"`apt-get install mosquitto` ran but {MOSQUITTO} is still missing")
    return MOSQUITTO


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def _write_config(directory: Path, port: int) -> tuple[Path, Path]:
    log_path = directory / "mosquitto.log"
    config = directory / "mosquitto.conf"
    config.write_text(
        "\n".join(
            [
                # As root, Mosquitto would switch to its own user and lose the tmp directory.
                f"user {getpass.getuser()}",
                f"listener {port} {HOST}",
                "allow_anonymous true",
                "max_inflight_messages 1000",
                "max_queued_messages 100000",
                "persistence false",
                f"log_dest file {log_path}",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "log_type information",
                "",
            ]
        )
    )
    return config, log_path


@contextmanager
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A private Mosquitto (never the machine's own on 1883), stopped and waited for at the end."""
    binary = _install_mosquitto()
    directory = tmp_path / "mosquitto"
    directory.mkdir(exist_ok=True)
    # Another process may take the free port between the probe and the bind: try a few.
    for _attempt in range(5):
        port = _free_port()
        config, log_path = _write_config(directory, port)
        process = subprocess.Popen(
            [str(binary), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while process.poll() is None and not _accepts(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None and _accepts(port):
            break
        process.kill()
        process.wait()
    else:
        log = log_path.read_text() if log_path.exists() else "(no log)"
        raise RuntimeError(f"Mosquitto did not start on {HOST}; its log:\n{log}")
    try:
        yield Broker(HOST, port, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
