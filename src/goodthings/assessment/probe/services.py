"""How the probe talks to each kind of service: one sign-in attempt at a time, with a timeout.

Each tester answers one question, "does this username and password get in?", the way a device's
owner would find out by trying: a telnet shell prompt, an SSH session, an HTTP page behind basic
authentication, an MQTT broker's acceptance. SSH goes through asyncssh, HTTP through httpx2,
MQTT through paho; telnet is only a prompt and a line each way, with option negotiation refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncssh
import httpx2
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

Login = Callable[[str, int, str, str, float], Awaitable[bool]]


@dataclass(frozen=True)
class Service:
    name: str
    ports: tuple[int, ...]
    cleartext: bool
    """Whether what it carries, passwords included, can be read on the wire."""
    login: Login


async def port_open(address: str, port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


_IAC, _DONT, _DO, _WONT, _WILL, _SB, _SE = 255, 254, 253, 252, 251, 250, 240


def _without_negotiation(data: bytes, writer: asyncio.StreamWriter) -> bytes:
    """The text of what a telnet server sent, refusing every option it asks for."""
    text, index = bytearray(), 0
    while index < len(data):
        byte = data[index]
        if byte != _IAC or index + 1 >= len(data):
            text.append(byte)
            index += 1
            continue
        command = data[index + 1]
        if command in (_DO, _DONT, _WILL, _WONT) and index + 2 < len(data):
            option = data[index + 2]
            if command in (_DO, _WILL):
                writer.write(bytes([_IAC, _WONT if command == _DO else _DONT, option]))
            index += 3
        elif command == _SB:
            end = data.find(bytes([_IAC, _SE]), index)
            index = len(data) if end < 0 else end + 2
        else:
            index += 2
    return bytes(text)


async def _read_until(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    words: tuple[bytes, ...],
    timeout: float,
) -> bytes:
    seen = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(word in seen.lower() for word in words):
        left = deadline - loop.time()
        if left <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(1024), left)
        except TimeoutError:
            break
        if not chunk:
            break
        seen += _without_negotiation(chunk, writer)
    return seen


async def telnet_login(address: str, port: int, user: str, password: str, timeout: float) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except (OSError, TimeoutError):
        return False
    try:
        await _read_until(reader, writer, (b"login", b"username", b"user:"), timeout)
        writer.write(user.encode() + b"\r\n")
        await _read_until(reader, writer, (b"password",), timeout)
        writer.write(password.encode() + b"\r\n")
        answer = await _read_until(reader, writer, (b"#", b"$", b">", b"incorrect"), timeout)
        lowered = answer.lower()
        refused = b"incorrect" in lowered or b"denied" in lowered or b"login:" in lowered
        return not refused and answer.rstrip()[-1:] in (b"#", b"$", b">")
    except OSError:
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def ssh_login(address: str, port: int, user: str, password: str, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            connection = await asyncssh.connect(
                address,
                port,
                username=user,
                password=password,
                known_hosts=None,
                client_keys=None,
                agent_path=None,
                preferred_auth="password,keyboard-interactive",
            )
    except (OSError, TimeoutError, asyncssh.Error):
        return False
    connection.close()
    return True


async def http_login(address: str, port: int, user: str, password: str, timeout: float) -> bool:
    """Only a page that asks for basic authentication and then lets this pair in counts."""
    url = f"http://{_host(address)}:{port}/"
    try:
        async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            asked = await client.get(url)
            challenge = asked.headers.get("www-authenticate", "").lower()
            if asked.status_code != 401 or not challenge.startswith("basic"):
                return False
            answer = await client.get(url, auth=(user, password))
    except httpx2.HTTPError:
        return False
    return 200 <= answer.status_code < 400


async def mqtt_login(address: str, port: int, user: str, password: str, timeout: float) -> bool:
    """An empty username tries an anonymous connection: a broker that takes it is open."""
    return await asyncio.to_thread(_mqtt_accepts, address, port, user, password, timeout)


def _mqtt_accepts(address: str, port: int, user: str, password: str, timeout: float) -> bool:
    answered = threading.Event()
    accepted: list[bool] = []

    def on_connect(
        _client: mqtt.Client, _data: object, _flags: object, reason: object, _props: object
    ) -> None:
        accepted.append(not getattr(reason, "is_failure", True))
        answered.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.on_connect = on_connect
    if user:
        client.username_pw_set(user, password)
    try:
        client.connect(address, port, keepalive=10)
    except OSError:
        return False
    client.loop_start()
    try:
        answered.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return bool(accepted and accepted[0])


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


SERVICES = (
    Service("telnet", (23, 2323), True, telnet_login),
    Service("ssh", (22,), False, ssh_login),
    Service("http", (80, 8080), True, http_login),
    Service("mqtt", (1883,), True, mqtt_login),
)
