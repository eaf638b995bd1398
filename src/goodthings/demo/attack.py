"""A Mirai-like attack on the demo's own broker, and a running commentary of what the hub does.

The bot tries the Mirai botnet's default passwords (the bundled list) against the embedded
broker, each on a fresh connection, as the real scanner did against telnet. The hub's broker
takes a device's id as its username, so the bot tries them as the deployment's devices in turn
(ids are printed on labels and guessable): credential stuffing, which the monitor finds
(failed sign-ins against many devices from one address). Every one is refused and the lockout
slows it down. Then it uses a credential it "stole" from a real
device of the deployment and floods from it. The hub's monitor sees the flood, quarantines the
device as its model's `monitoring:` profile asks, and raises an alert; the other devices go on
being stored. The bot connects from its own loopback address, so that the lockout of that
address does not lock the legitimate devices (on 127.0.0.1) out with it.

`Watch` prints, as they happen, the lockouts and alerts from the store and the monitor's
detections and quarantines from its notification hook, so the demo's viewer can follow along.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from goodthings.core.config import Home
from goodthings.core.errors import DeploymentError
from goodthings.core.manifest import load_manifest
from goodthings.core.manifest.schema import Response
from goodthings.core.store import Selection, count_readings
from goodthings.core.store import tables as t
from goodthings.deployment import apply_manifest, open_store
from goodthings.runtime import Hub
from goodthings.security.monitoring import Acted
from goodthings.security.passwords import Refusal, bundled_list

Say = Callable[[str], None]

STOLEN_DEVICE = "meter-1"
"""The smart-home device whose token the bot stole: its model's profile quarantines a flood."""
BOT_ADDRESS = "127.0.0.66"
"""The bot's own address: all of 127.0.0.0/8 is loopback on Linux."""
FLOOD_ADDRESS = "127.0.0.67"
"""Another bot of the same botnet, the one that uses the stolen token: the first one's address
is locked out by then, as it should be."""
STOLEN_MODEL = "wattwise-m2"
_PROFILE = """    monitoring:
      # Added by `goodthings demo`: a meter reports every few seconds, so ten messages a
      # second are no meter's; cut the device off at once (its token has been stolen).
      max_rate: 600
      actions:
        flood: quarantine
"""
_AT_ONCE = 8
"""Sign-ins tried in parallel, as Mirai's scanner does."""
_FLOOD_LIMIT = 3_000
"""Messages the bot sends at most, should the hub somehow not stop it."""


def guard_the_stolen_device(home: Home) -> None:
    """Give the demo deployment's meter model a `monitoring:` profile that quarantines a flood,
    in its manifest and applied, so the attack is cut off within seconds.

    Only the demo's own deployment gets it, not the bundled example: the bench and the tests
    send the example's meter far more than a real one would, and must not see it quarantined.
    """
    text = home.manifest_path.read_text(encoding="utf-8")
    anchor = f"  - id: {STOLEN_MODEL}\n"
    if anchor not in text:
        raise DeploymentError(f"the demo's deployment has no model {STOLEN_MODEL}")
    start = text.index(anchor) + len(anchor)
    end = text.index("    streams:\n", start)
    if "    monitoring:\n" in text[start:end]:
        return  # the example declares one of its own: the demo uses it as it is
    home.manifest_path.write_text(text[:end] + _PROFILE + text[end:], encoding="utf-8")
    engine = open_store(home)
    try:
        apply_manifest(engine, load_manifest(home.manifest_path))
    finally:
        engine.dispose()


def _own_address(address: str) -> str | None:
    """`address` when this system lets a socket bind it (Linux does); None otherwise."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return None
    return address


class MiraiBot:
    """Tries the Mirai pairs after `delay` seconds, then floods as `stolen_device`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        stolen_device: str,
        stolen_credential: str,
        targets: Sequence[str] = (),
        delay: float,
        say: Say,
    ) -> None:
        """`targets` are the device ids the bot signs in as, in turn (none: Mirai's own
        usernames, root and admin, which are no device's)."""
        self._host, self._port = host, port
        self._targets = list(targets)
        self._device, self._credential = stolen_device, stolen_credential
        self._delay = delay
        self._say = say
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-mirai", daemon=True)
        self._source = _own_address(BOT_ADDRESS)
        self._flood_source = _own_address(FLOOD_ADDRESS)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        if self._stop.wait(self._delay):
            return
        where = self._source or "127.0.0.1"
        pairs = bundled_list(Refusal.mirai)
        self._say(
            f"Attack: a Mirai-like bot at {where} is trying the {len(pairs)} default "
            "passwords of the Mirai botnet against the hub's broker, as "
            + (
                f"{len(self._targets)} of its devices in turn."
                if self._targets
                else "root and admin."
            )
        )

        def attempt(number: int) -> bool:
            username, password = pairs[number]
            if self._targets:
                username = self._targets[number % len(self._targets)]
            if self._stop.is_set():
                return False
            if self._sign_in(username, password, f"mirai-{number}", self._source):
                self._say(f"Attack: the broker let {username!r} in: that should never happen.")
                return False
            if number < 3:
                shown = password or "(empty)"
                self._say(f"Attack: sign-in as {username!r} / {shown!r} refused.")
            return True

        with ThreadPoolExecutor(_AT_ONCE, thread_name_prefix="demo-mirai") as pool:
            refused = sum(pool.map(attempt, range(len(pairs))))
        if self._stop.is_set():
            return
        self._say(
            f"Attack: {refused} of {len(pairs)} sign-ins refused; not one default password "
            "works on this hub."
        )
        self._flood()

    def _client(self, client_id: str) -> paho.Client:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        return client

    def _sign_in(self, username: str, password: str, client_id: str, source: str | None) -> bool:
        """One attempt on a fresh connection; True if the broker accepted it."""
        client = self._client(client_id)
        client.username_pw_set(username, password)
        try:
            client.connect(self._host, self._port, bind_address=source or "")
        except OSError:
            return False
        done = threading.Event()
        result: list[bool] = []

        def on_connect(_c: paho.Client, _u: object, _f: object, reason: object, _p: object) -> None:
            result.append(not getattr(reason, "is_failure", True))
            done.set()

        def on_disconnect(*_args: object) -> None:
            done.set()

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.loop_start()
        done.wait(10)
        client.disconnect()
        client.loop_stop()
        return bool(result and result[0])

    def _flood(self) -> None:
        """Sign in with the stolen credential (waiting out the address's lockout) and flood."""
        where = self._flood_source or self._source or "127.0.0.1"
        self._say(
            f"Attack: another bot of the botnet, at {where}, uses the token stolen from "
            f"{self._device} and floods the hub with readings in its name."
        )
        source = self._flood_source or self._source
        while not self._stop.is_set():
            if self._sign_in(self._device, self._credential, f"{self._device}-bot-probe", source):
                break
            self._stop.wait(1.0)  # still locked out: the lockout only slows an attacker
        client = self._client(f"{self._device}-bot")
        client.username_pw_set(self._device, self._credential)
        gone = threading.Event()
        client.on_disconnect = lambda *_args: gone.set()
        try:
            client.connect(self._host, self._port, bind_address=source or "")
        except OSError:
            return
        client.loop_start()
        sent = 0
        try:
            while sent < _FLOOD_LIMIT and not self._stop.is_set() and not gone.is_set():
                records = [{"n": "power", "v": 9999.0, "u": "W", "bt": time.time()}]
                client.publish(f"gt/{self._device}/up", json.dumps(records), qos=0)
                sent += 1
                if sent % 50 == 0:
                    self._stop.wait(0.05)  # about a thousand a second, without starving the hub
        finally:
            client.disconnect()
            client.loop_stop()
        self._say(f"Attack: the bot stopped after {sent} messages.")


class Watch:
    """Prints the hub's lockouts, alerts, detections and quarantines as they happen, and shows
    that the other devices go on being stored after a quarantine."""

    def __init__(self, hub: Hub, *, say: Say, poll: float = 0.5) -> None:
        self._hub = hub
        self._say = say
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-watch", daemon=True)
        self._quarantined: dict[str, int] = {}
        """Quarantined device → the readings of the other devices stored at that moment."""
        self._lock = threading.Lock()
        with hub.engine.connect() as connection:
            self._last_alert = int(
                connection.execute(select(func.max(t.alerts.c.id))).scalar() or 0
            )

    def start(self) -> None:
        monitor = self._hub.monitor
        if monitor is not None:
            previous = monitor.notify

            def told(acted: Acted) -> None:
                self._acted(acted)
                if previous is not None:
                    previous(acted)

            monitor.notify = told
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _acted(self, acted: Acted) -> None:
        finding = acted.finding
        about = finding.device_id or finding.source or "the hub"
        self._say(f"Monitor: {finding.kind.value} detected ({about}): {finding.explanation}")
        if acted.response is Response.quarantine and finding.device_id is not None:
            self._say(
                f"Quarantine: {finding.device_id} is cut off: the broker refuses it and the "
                "hub stores nothing more from it, until the operator releases it."
            )
            with self._lock:
                self._quarantined[finding.device_id] = self._others(finding.device_id)

    def _others(self, device_id: str) -> int:
        """Readings stored from every device but `device_id`."""
        with self._hub.engine.connect() as connection:
            every = count_readings(connection)
            return every - count_readings(connection, Selection(device_id=device_id))

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            with self._hub.engine.connect() as connection:
                rows = connection.execute(
                    select(t.alerts.c.id, t.alerts.c.severity, t.alerts.c.kind, t.alerts.c.message)
                    .where(t.alerts.c.id > self._last_alert)
                    .order_by(t.alerts.c.id)
                ).all()
            for row in rows:
                self._last_alert = row.id
                if row.kind == "auth-lockout":
                    self._say(f"Lockout (an alert for the operator): {row.message}")
                else:
                    self._say(f"Alert ({row.severity}) for the operator: {row.message}")
            with self._lock:
                waiting = dict(self._quarantined)
            for device_id, before in waiting.items():
                now = self._others(device_id)
                if now > before:
                    self._say(
                        f"Demo: the other devices go on: {now - before} readings stored from "
                        f"them since {device_id} was quarantined."
                    )
                    with self._lock:
                        del self._quarantined[device_id]
