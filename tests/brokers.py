"""A real Mosquitto for the tests, on a free loopback port: installed if missing, never skipped."""

from __future__ import annotations

import getpass
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_CTRL = Path("/usr/bin/mosquitto_ctrl")
DYNAMIC_SECURITY = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    log_path: Path
    admin_username: str | None = None
    """With the dynamic-security plugin: its admin client (anonymous clients are refused)."""
    admin_password: str | None = None
    tls_port: int | None = None
    """With `tls`: a listener that requires a client certificate from the given CA."""


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


def _write_config(
    directory: Path, port: int, extra: list[str], listeners: list[str]
) -> tuple[Path, Path]:
    log_path = directory / "mosquitto.log"
    config = directory / "mosquitto.conf"
    config.write_text(
        "\n".join(
            [
                # As root, Mosquitto would switch to its own user and lose the tmp directory.
                f"user {getpass.getuser()}",
                f"listener {port} {HOST}",
                *(extra or ["allow_anonymous true"]),
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


def _dynamic_security(directory: Path, password: str) -> list[str]:
    """Initialise the plugin's state file with an admin client, as `mosquitto_ctrl` does."""
    state = directory / "dynamic-security.json"
    state.unlink(missing_ok=True)
    subprocess.run(
        [str(MOSQUITTO_CTRL), "dynsec", "init", str(state), "admin", password],
        check=True,
        capture_output=True,
    )
    state.chmod(0o600)  # it holds the clients' password hashes
    return [
        "allow_anonymous false",
        f"plugin {DYNAMIC_SECURITY}",
        f"plugin_opt_config_file {state}",
    ]


@dataclass(frozen=True)
class TlsFiles:
    cafile: Path
    certfile: Path
    keyfile: Path


def _tls_listener(port: int, files: TlsFiles) -> list[str]:
    # Mutual TLS: a client must show a certificate from the CA; its common name is its username.
    return [
        f"listener {port} {HOST}",
        f"cafile {files.cafile}",
        f"certfile {files.certfile}",
        f"keyfile {files.keyfile}",
        "require_certificate true",
        "use_identity_as_username true",
    ]


@contextmanager
def mosquitto(
    tmp_path: Path, *, dynamic_security: bool = False, tls: TlsFiles | None = None
) -> Iterator[Broker]:
    """A private Mosquitto (never the machine's own on 1883), stopped and waited for at the end.

    With `dynamic_security`, the plugin is loaded with a fresh admin client and nothing else:
    every other client must be provisioned through it."""
    binary = _install_mosquitto()
    directory = tmp_path / "mosquitto"
    directory.mkdir(exist_ok=True)
    admin_password = secrets.token_urlsafe(16) if dynamic_security else None
    extra = _dynamic_security(directory, admin_password) if admin_password else []
    # Another process may take the free port between the probe and the bind: try a few.
    for _attempt in range(5):
        port = _free_port()
        tls_port = _free_port() if tls else None
        listeners = _tls_listener(tls_port, tls) if tls and tls_port else []
        config, log_path = _write_config(directory, port, extra, listeners)
        process = subprocess.Popen(
            [str(binary), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        ports = [port] + ([tls_port] if tls_port else [])
        while (
            process.poll() is None
            and not all(_accepts(p) for p in ports)
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        if process.poll() is None and all(_accepts(p) for p in ports):
            break
        process.kill()
        process.wait()
    else:
        log = log_path.read_text() if log_path.exists() else "(no log)"
        raise RuntimeError(f"Mosquitto did not start on {HOST}; its log:\n{log}")
    try:
        yield Broker(
            HOST, port, log_path, "admin" if admin_password else None, admin_password, tls_port
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
