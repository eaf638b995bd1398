"""A real Mosquitto for the tests, on a free loopback port: installed if missing, never skipped.

Starting and stopping it is the product's own code (the bench needs a private broker too);
installing it, and the dynamic-security and TLS set-ups the security tests need, are the tests'.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from debian import apt_install
from goodthings.bench.mosquitto import HOST, find_mosquitto, private_mosquitto

__all__ = ["Broker", "TlsFiles", "install_mosquitto", "mosquitto"]

MOSQUITTO_CTRL = Path("/usr/bin/mosquitto_ctrl")
DYNAMIC_SECURITY = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")


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


@dataclass(frozen=True)
class TlsFiles:
    cafile: Path
    certfile: Path
    keyfile: Path


def install_mosquitto() -> Path:
    """Install Debian's package, as the project's own files must (a fresh machine has none)."""
    found = find_mosquitto()
    if found is not None:
        return found
    apt_install("mosquitto")
    found = find_mosquitto()
    if found is None:
        raise RuntimeError("`apt-get install mosquitto` ran but no mosquitto binary is there")
    return found


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


def _tls_listener(files: TlsFiles, port: int, client_certificates: bool) -> list[str]:
    listener = [
        f"listener {port} {HOST}",
        f"cafile {files.cafile}",
        f"certfile {files.certfile}",
        f"keyfile {files.keyfile}",
    ]
    if not client_certificates:
        return listener
    # Mutual TLS: a client must show a certificate from the CA; its common name is its username.
    return [*listener, "require_certificate true", "use_identity_as_username true"]


@contextmanager
def mosquitto(
    tmp_path: Path,
    *,
    dynamic_security: bool = False,
    tls: TlsFiles | None = None,
    client_certificates: bool = True,
    debug_log: bool = False,
) -> Iterator[Broker]:
    """A private Mosquitto (never the machine's own on 1883), stopped and waited for at the end.

    With `dynamic_security`, the plugin is loaded with a fresh admin client and nothing else:
    every other client must be provisioned through it. With `tls`, a second listener speaks
    TLS; it asks clients for a certificate unless `client_certificates` is False. With
    `debug_log`, the log has the debug lines (denied publishes, subscriptions' filters)."""
    binary = install_mosquitto()
    directory = tmp_path / "mosquitto"
    directory.mkdir(parents=True, exist_ok=True)
    admin_password = secrets.token_urlsafe(16) if dynamic_security else None
    settings = (
        _dynamic_security(directory, admin_password) if admin_password else ["allow_anonymous true"]
    )
    if debug_log:
        settings = [*settings, "log_type debug"]
    second = (lambda port: _tls_listener(tls, port, client_certificates)) if tls else None
    with private_mosquitto(directory, binary, settings=settings, second_listener=second) as running:
        yield Broker(
            running.host,
            running.port,
            running.log_path,
            "admin" if admin_password else None,
            admin_password,
            running.tls_port,
        )
