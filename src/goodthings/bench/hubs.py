"""`goodthings serve` worker processes for the bench: started as an operator would, measured
from outside (peak RSS from /proc), stopped gracefully.

The hub runs in processes of its own so that the bench's load generator does not share its
interpreter (and its GIL) with the hub it measures.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from goodthings.core.errors import GoodthingsError
from goodthings.core.lifecycle import Lifecycle

HOST = "127.0.0.1"


class HubProcessError(GoodthingsError):
    """A `goodthings serve` worker did not start, or died during the bench."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether `port` can be bound on the loopback address now (an asked-for port is checked
    before a worker is started on it, so the bench says which port was taken)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def hub_environment(database_url: str | None) -> dict[str, str]:
    """The environment for a worker: none of the caller's GOODTHINGS_* settings leak in, the
    HTTP rate limit is lifted (the bench measures the ingest path, not the limiter), and a first
    sign-in may wait longer for its argon2id check: the bench's connections sign in at once, and
    on a busy machine the default 10 s could refuse one before the phase measures anything."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOODTHINGS_")}
    env["GOODTHINGS_INGEST_RATE"] = "1000000000"
    env["GOODTHINGS_INGEST_BURST"] = "1000000000"
    env["GOODTHINGS_ARGON2_WAIT"] = "120"
    if database_url is not None:
        env["GOODTHINGS_DATABASE_URL"] = database_url
    return env


class HubProcess(Lifecycle):
    """One `python -m goodthings serve --worker NAME` on `port` (None: a free one), joined to
    `mqtt_url`."""

    def __init__(
        self,
        root: Path,
        worker: str,
        mqtt_url: str,
        database_url: str | None = None,
        args: Sequence[str] = (),
        port: int | None = None,
    ) -> None:
        if port is not None and not port_is_free(port):
            raise HubProcessError(
                f"port {port} on {HOST} is in use: choose another HTTP port for the bench's "
                f"worker {worker}, or leave the option out to take a free one"
            )
        self.worker = worker
        self.port = free_port() if port is None else port
        self.log_path = root / f"serve-{worker}.log"
        self._command = [
            sys.executable,
            "-m",
            "goodthings",
            "serve",
            "--home",
            str(root),
            "--port",
            str(self.port),
            "--mqtt",
            mqtt_url,
            "--worker",
            worker,
            *args,
        ]
        self._env = hub_environment(database_url)
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.peak_rss_mb: float | None = None
        """The worker's peak resident memory (VmHWM), read just before it was stopped."""

    def start(self, timeout: float = 180.0) -> None:
        """Start the worker; return once its web server answers (so MQTT is subscribed too).
        Three minutes: a worker starts in seconds, but on a machine shared with other runs at a
        load average of 20 it was seen to take more than one."""
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self._command, stdout=self._log, stderr=subprocess.STDOUT, env=self._env
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if answers_healthz(self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise HubProcessError(
            f"worker {self.worker} did not answer on port {self.port} within {timeout:.0f} s; "
            f"its output:\n{self.log_tail()}"
        )

    def check_alive(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            raise HubProcessError(
                f"worker {self.worker} exited with status {self._process.returncode}; "
                f"its output:\n{self.log_tail()}"
            )

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def rss_mb(self) -> float | None:
        """Peak resident memory so far, from /proc (None where there is no /proc)."""
        if self._process is None:
            return None
        return peak_rss_mb(self._process.pid)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT, as Ctrl-C: the worker commits and acknowledges what it took, then exits."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            self.peak_rss_mb = peak_rss_mb(process.pid)
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (the kernel's high-water mark of resident memory) of a process, in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def answers_healthz(port: int) -> bool:
    """Whether `GET /healthz` on 127.0.0.1:`port` answers 200 (a hub worker, a NATS node's
    monitoring port): not yet listening, or not yet well, is False."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
