"""Devices for the auditor's probe to find, in a network namespace the test creates.

One namespace stands for a small device network behind a veth pair: each device is an address
of its own there, running one service. Run as a script, this module is one such service
(`python probe_hosts.py telnet|ssh|http ADDRESS USER PASSWORD`, or `open ADDRESS PORT -` for a
port that only accepts connections), started inside the namespace.
No traffic leaves the namespace and the host's end of the pair.
"""

from __future__ import annotations

import asyncio
import base64
import getpass
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from debian import installed

SUBNET = "10.213.7"
HOST_SIDE = f"{SUBNET}.1"


@dataclass(frozen=True)
class Lan:
    namespace: str

    def run(self, *command: str, directory: Path) -> subprocess.Popen[bytes]:
        log = directory / f"{Path(command[0]).name}-{len(list(directory.iterdir()))}.log"
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, *command], stdout=output, stderr=output
            )


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


def ensure_tools() -> None:
    """iproute2 for the namespace, Mosquitto's own tool for its password file."""
    installed("ip", "iproute2")
    installed("mosquitto_passwd", "mosquitto")


@contextmanager
def device_lan(addresses: list[str]) -> Iterator[Lan]:
    """A namespace holding `addresses` (last octets), reachable from here through a veth pair."""
    ensure_tools()
    name = f"gtp{os.getpid() % 100000}"
    host_end, lan_end = f"{name}h", f"{name}l"
    _ip("netns", "del", name, check=False)
    _ip("link", "del", host_end, check=False)
    _ip("netns", "add", name)
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", lan_end)
        _ip("link", "set", lan_end, "netns", name)
        _ip("addr", "add", f"{HOST_SIDE}/29", "dev", host_end)
        _ip("link", "set", host_end, "up")
        for last in addresses:
            _ip("-n", name, "addr", "add", f"{SUBNET}.{last}/29", "dev", lan_end)
        _ip("-n", name, "link", "set", lan_end, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        yield Lan(name)
    finally:
        _ip("link", "del", host_end, check=False)
        _ip("netns", "del", name, check=False)


def wait_for(address: str, port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the test device on {address}:{port} exited")
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the test device on {address}:{port} did not start")


def mosquitto_config(directory: Path, address: str, user: str, password: str) -> Path:
    """A broker with a password file holding a default login, as shipped on some gateways."""
    directory.mkdir(parents=True, exist_ok=True)
    passwords = directory / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(passwords), user, password],
        check=True,
        capture_output=True,
    )
    config = directory / "mosquitto.conf"
    config.write_text(
        "\n".join(
            [
                f"user {getpass.getuser()}",
                f"listener 1883 {address}",
                "allow_anonymous false",
                f"password_file {passwords}",
                "persistence false",
                "",
            ]
        )
    )
    return config


# --- the services, run inside the namespace -----------------------------------------------


def _without_options(line: bytes) -> bytes:
    """A line as typed, without the client's answers to option offers (IAC DONT/WONT x)."""
    while (start := line.find(b"\xff")) >= 0:
        line = line[:start] + line[start + 3 :]
    return line.strip()


async def _telnet(address: str, user: str, password: str) -> None:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(bytes([255, 251, 1]))  # IAC WILL ECHO, as busybox telnetd does
        for _ in range(3):
            writer.write(b"\r\nlogin: ")
            name = _without_options(await reader.readline())
            writer.write(b"Password: ")
            secret = _without_options(await reader.readline())
            if name == user.encode() and secret == password.encode():
                writer.write(b"\r\nBusyBox v1.19 built-in shell (ash)\r\n# ")
                await writer.drain()
                await reader.read(100)
                break
            writer.write(b"\r\nLogin incorrect")
        writer.close()

    server = await asyncio.start_server(session, address, 23)
    async with server:
        await server.serve_forever()


async def _ssh(address: str, user: str, password: str) -> None:
    import asyncssh

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, given: str) -> bool:
            return username == user and given == password

    key = asyncssh.generate_private_key("ssh-ed25519")
    await asyncssh.create_server(Server, address, 22, server_host_keys=[key])
    await asyncio.Future()


async def _open(address: str, port: int) -> None:
    """A port that only accepts connections and closes them: an interface left switched on."""

    async def session(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(session, address, port)
    async with server:
        await server.serve_forever()


def _http(address: str, user: str, password: str) -> None:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="router"')
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<h1>Router settings</h1>")

    ThreadingHTTPServer((address, 80), Handler).serve_forever()


if __name__ == "__main__":
    kind, at, login, secret = sys.argv[1:5]
    if kind == "telnet":
        asyncio.run(_telnet(at, login, secret))
    elif kind == "ssh":
        asyncio.run(_ssh(at, login, secret))
    elif kind == "http":
        _http(at, login, secret)
    elif kind == "open":
        asyncio.run(_open(at, int(login)))
    else:
        raise SystemExit(f"unknown service {kind}")
