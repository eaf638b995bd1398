"""`goodthings serve` as a real subprocess, for tests that kill, restart or run several hubs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def clean_environment() -> dict[str, str]:
    """The test's environment without GOODTHINGS_* settings that would redirect the hub."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GOODTHINGS_")}


class ServeProcess:
    """One `python -m goodthings serve` on a free port, its output kept in a file."""

    def __init__(
        self,
        root: Path,
        args: Sequence[str],
        log: Path,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.port = free_port() if port is None else port
        self.log = log
        command = [sys.executable, "-m", "goodthings", "serve", "--home", str(root)]
        command += ["--port", str(self.port), *args]
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**clean_environment(), **(env or {})},
            )
        self._wait_healthy()

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _wait_healthy(self, timeout: float = 90.0) -> None:
        """Generous: on a machine shared with other test runs, start-up alone can take 30 s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as answer:  # noqa: S310 (loopback)
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"serve did not answer within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or an OOM kill."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Ctrl-C: the hub commits and acknowledges what it took, then exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def serving(
    root: Path,
    *args: str,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[ServeProcess]:
    """`env`: settings for this hub only (GOODTHINGS_INGEST_BURST=2), over a clean environment;
    `port`: this one rather than a free one (workers sharing a port)."""
    hub = ServeProcess(root, args, log or root.parent / f"serve-{free_port()}.log", env, port)
    try:
        yield hub
    finally:
        hub.stop()
