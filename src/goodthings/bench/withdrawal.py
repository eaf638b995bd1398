"""How long a withdrawn consent keeps collecting: at the device, and in the store.

Each round gives a consent, waits until the device's retained policy allows the stream, then
withdraws it and times two things from the moment the withdrawal committed:

* until the policy the hub publishes on `gt/<device>/policy` says `collect: false` (what an
  obedient device acts on);
* until readings of that stream stop being stored, from a simulated device that ignores its
  policy and keeps sending every few milliseconds (what the gate guarantees on its own).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as paho
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, select

from goodthings.bench.load import BenchError, Say
from goodthings.core.store import Selection, latest_time
from goodthings.core.store import tables as t
from goodthings.rights.consent import records as consent

_SEND_INTERVAL = 0.005
"""The disobedient device sends one reading every 5 ms: the resolution of the storage delay."""


@dataclass(frozen=True)
class Withdrawal:
    device_id: str
    subject_id: str
    stream: str
    purpose: str


@dataclass(frozen=True)
class WithdrawalResult:
    policy_delays: list[float]
    """Seconds from each withdrawal's commit to the retained policy saying collect=false."""
    storage_delays: list[float]
    """Seconds from each withdrawal's commit to the last reading of the stream stored."""


class _PolicyWatch:
    """Subscribes to a device's policy topic and remembers when `stream` was last switched."""

    def __init__(self, client: paho.Client, device_id: str, stream: str) -> None:
        self._stream = stream
        self._changed = threading.Condition()
        self._collect: bool | None = None
        self._at = 0.0
        client.on_message = self._on_message
        client.subscribe(f"gt/{device_id}/policy", qos=1)

    def _on_message(self, _client: object, _userdata: object, message: paho.MQTTMessage) -> None:
        at = time.time()
        streams = json.loads(message.payload).get("streams", {})
        collect = bool(streams.get(self._stream, {}).get("collect", False))
        with self._changed:
            if collect != self._collect:
                self._collect, self._at = collect, at
                self._changed.notify_all()

    def wait(self, collect: bool, timeout: float) -> float:
        """When the policy last became `collect` (waiting for it if need be)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._collect is collect, timeout):
                raise BenchError(
                    f"the device's retained policy did not say collect={collect} within "
                    f"{timeout:.0f} s; consent changes are not reaching devices"
                )
            return self._at


def measure_withdrawal(
    engine: Engine,
    signer: Ed25519PrivateKey,
    broker: tuple[str, int],
    target: Withdrawal,
    rounds: int,
    say: Say,
    timeout: float = 15.0,
) -> WithdrawalResult:
    """Give, then withdraw, `rounds` times, while a device keeps sending regardless."""
    change = consent.ConsentChange(target.subject_id, target.stream, target.purpose, method="cli")
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id="goodthings-bench-withdrawal", protocol=paho.MQTTv5
    )
    client.connect(*broker)
    client.loop_start()
    stop = threading.Event()
    sender = threading.Thread(
        target=_send_regardless, args=(client, target, stop), name="bench-disobedient-device"
    )
    given_at: list[float] = []
    withdrawn_at: list[float] = []
    policy_delays: list[float] = []
    try:
        watch = _PolicyWatch(client, target.device_id, target.stream)
        sender.start()
        for index in range(rounds):
            given_at.append(time.time())
            consent.give(engine, signer, change)
            watch.wait(True, timeout)
            time.sleep(0.05)  # let readings be stored, so that stopping them means something
            consent.withdraw(engine, signer, change)
            committed = time.time()
            withdrawn_at.append(committed)
            policy_delays.append(max(0.0, watch.wait(False, timeout) - committed))
            say(f"  withdrawal {index + 1}/{rounds}: policy {policy_delays[-1] * 1000:.0f} ms")
        time.sleep(0.5)  # the last readings sent before the end are committed or dropped
    finally:
        stop.set()
        if sender.is_alive():
            sender.join()
        client.disconnect()
        client.loop_stop()
    return WithdrawalResult(
        policy_delays, _storage_delays(engine, target, withdrawn_at, given_at[1:])
    )


def _send_regardless(client: paho.Client, target: Withdrawal, stop: threading.Event) -> None:
    topic = f"gt/{target.device_id}/up"
    while not stop.wait(_SEND_INTERVAL):
        body = json.dumps([{"n": target.stream, "u": "beat/min", "v": 60.0, "t": time.time()}])
        client.publish(topic, body.encode(), qos=1)


def _storage_delays(
    engine: Engine, target: Withdrawal, withdrawn_at: list[float], regiven_at: list[float]
) -> list[float]:
    """For each withdrawal, how long after it the last reading was stored, until consent was
    given again (0 when none was)."""
    delays = []
    ends = [*regiven_at, time.time() + 60]
    with engine.connect() as connection:
        stream_ids = tuple(
            connection.execute(
                select(t.streams.c.id).where(t.streams.c.name == target.stream)
            ).scalars()
        )
        for start, end in zip(withdrawn_at, ends, strict=True):
            selection = Selection(
                device_id=target.device_id, stream_ids=stream_ids, start=start, end=end
            )
            last = latest_time(connection, selection)
            delays.append(0.0 if last is None else last - start)
    return delays
