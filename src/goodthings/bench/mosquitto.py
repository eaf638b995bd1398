"""A private Mosquitto on a free loopback port, for the bench and the test suite.

The bench measures MQTT ingest through the broker production would use, not the embedded amqtt
one, and must never touch a broker the machine already runs (port 1883 may be in use by
something real): it starts its own, with its own configuration, and stops it afterwards.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from goodthings.core.errors import GoodthingsError

HOST = "127.0.0.1"
_KNOWN_PLACES = (Path("/usr/sbin/mosquitto"), Path("/usr/local/sbin/mosquitto"))


class MosquittoError(GoodthingsError):
    """Mosquitto is missing or would not start."""


@dataclass(frozen=True)
class Broker:
    """A running private broker: where to connect, and its log for when something goes wrong."""

    host: str
    port: int
    log_path: Path
    tls_port: int | None = None
    """The second listener's port, when one was asked for."""

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def find_mosquitto() -> Path | None:
    """Mosquitto's binary on PATH or where Debian puts it (/usr/sbin is not on every PATH)."""
    found = shutil.which("mosquitto")
    if found is not None:
        return Path(found)
    return next((path for path in _KNOWN_PLACES if path.exists()), None)


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


def _write_config(
    directory: Path, port: int, settings: Sequence[str], listeners: Sequence[str]
) -> tuple[Path, Path]:
    log_path = directory / "mosquitto.log"
    config = directory / "mosquitto.conf"
    config.write_text(
        "\n".join(
            [
                # As root, Mosquitto would switch to its own user and lose the directory.
                f"user {getpass.getuser()}",
                f"listener {port} {HOST}",
                *settings,
                "max_inflight_messages 1000",
                "max_queued_messages 100000",
                "persistence false",
                f"log_dest file {log_path}",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "log_type information",
                *listeners,
                "",
            ]
        )
    )
    return config, log_path


@contextmanager
def private_mosquitto(
    directory: Path,
    binary: Path | None = None,
    *,
    settings: Sequence[str] = ("allow_anonymous true",),
    second_listener: Callable[[int], list[str]] | None = None,
    port: int | None = None,
) -> Iterator[Broker]:
    """Start Mosquitto with its configuration and log in `directory`; stop it on leaving.

    `settings` are the plain listener's options (who may connect, plugins);
    `second_listener(port)` gives the configuration lines of another listener, e.g. TLS;
    `port` is the plain listener's port (None: a free one, retried if taken meanwhile)."""
    binary = binary or find_mosquitto()
    if binary is None:
        raise MosquittoError(
            "Mosquitto is not installed; install it (Debian: `apt-get install mosquitto`)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    if port is not None and _accepts(port):
        raise MosquittoError(
            f"port {port} on {HOST} already has a server: choose another Mosquitto port, or "
            "leave the option out to take a free one"
        )
    asked = port
    # Another process may take the free port between the probe and the bind: try a few.
    for _attempt in range(5 if asked is None else 1):
        port = _free_port() if asked is None else asked
        second = _free_port() if second_listener is not None else None
        listeners = second_listener(second) if second_listener and second else []
        config, log_path = _write_config(directory, port, settings, listeners)
        ports = [port] + ([second] if second else [])
        process = subprocess.Popen(  # noqa: S603 - our own configuration, no shell
            [str(binary), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while (
            process.poll() is None and not all(map(_accepts, ports)) and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        if process.poll() is None and all(map(_accepts, ports)):
            break
        process.kill()
        process.wait()
    else:
        log = log_path.read_text() if log_path.exists() else "(no log)"
        raise MosquittoError(f"Mosquitto did not start on {HOST}; its log:\n{log}")
    assert port is not None
    try:
        yield Broker(HOST, port, log_path, second)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
