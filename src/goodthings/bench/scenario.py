"""The bench's throwaway deployment and the readings it sends, shared by every phase.

One generator of readings feeds both the raw insert and the HTTP phase, so the ratio between
them compares the same rows: the same devices, streams, times, value types and key holders.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from goodthings.core.config import Home
from goodthings.core.keys import load_operator_token, load_signing_key
from goodthings.core.store import ReadingRow
from goodthings.deployment import init_deployment, open_store
from goodthings.policy import decide_all, inputs
from goodthings.rights.consent import records as consent
from goodthings.security import issue_token

EXAMPLE = "smart-home"
OCCUPANTS = ("alex", "sam")
CONSENTS: tuple[tuple[str, str], ...] = (
    ("presence", "OptimisationForConsumer"),
    ("open", "EnforceSecurity"),
)
"""Consent-based streams the bench consents to for every occupant, so their readings are kept."""

WITHDRAWAL_DEVICE = "band-alex"
WITHDRAWAL_SUBJECT = "alex"
WITHDRAWAL_STREAM = "heart_rate"
WITHDRAWAL_PURPOSE = "ServicePersonalisation"
"""The withdrawal phase toggles Alex's heart-rate consent: a device no other phase writes to, so
the throughput figures and the stored-count check are not disturbed by it."""

QUARANTINE_DEVICE = "thermostat-1"
"""The device the monitoring phase quarantines and releases while a worker stores its packs:
its temperature is not personal, so the erasure phase before leaves it collected."""

Kind = Literal["number", "boolean"]


@dataclass(frozen=True)
class StreamTarget:
    """One (device, stream) the load writes to, with what the gate decided for it."""

    device_id: str
    stream: str
    stream_id: int
    holder: str | None
    """Whose key seals the values; None for a stream that is not personal."""
    kind: Kind
    unit: str | None


@dataclass(frozen=True)
class DeviceLoad:
    """A device and the streams its packs carry, in the proportion they carry them."""

    device_id: str
    pattern: tuple[StreamTarget, ...]
    """Record i of a pack is for pattern[i % len(pattern)]."""


# (device, stream pattern): the thermostat sends a setpoint for every nine temperatures.
_LOAD: tuple[tuple[str, tuple[tuple[str, Kind, str | None], ...]], ...] = (
    ("meter-1", (("power", "number", "W"),)),
    ("thermostat-1", ((("temperature", "number", "Cel"),) * 9) + (("setpoint", "number", "Cel"),)),
    ("presence-living", (("presence", "boolean", None),)),
    ("front-door", (("open", "boolean", None),)),
)


@dataclass(frozen=True)
class Scenario:
    """A prepared deployment: where it lives, its credentials and what the load writes to."""

    home: Home
    operator_token: str
    device_tokens: dict[str, str]
    devices: tuple[DeviceLoad, ...]


def prepare(root: Path, database_url: str | None = None) -> Scenario:
    """Create the smart-home deployment in `root` (its database at `database_url` when given),
    consent where needed, issue device tokens."""
    home = Home(root, database_url)
    init_deployment(home, EXAMPLE)
    engine = open_store(home)
    try:
        signer = load_signing_key(home.keys_dir)
        for subject in OCCUPANTS:
            for stream, purpose in CONSENTS:
                consent.give(
                    engine, signer, consent.ConsentChange(subject, stream, purpose, method="cli")
                )
        with engine.begin() as connection:
            names = [device for device, _ in _LOAD] + [WITHDRAWAL_DEVICE]
            tokens = {device: issue_token(connection, device) for device in names}
        with engine.connect() as connection:
            facts = inputs.read_inputs(connection)
        policies = decide_all(facts.devices, facts.rules, facts.choices)
    finally:
        engine.dispose()
    devices = []
    for device_id, pattern in _LOAD:
        streams = policies[device_id].streams
        targets = []
        for name, kind, unit in pattern:
            decision = streams[name]
            if not decision.collect or decision.level != "exact":
                raise RuntimeError(
                    f"the bench expected {device_id}/{name} to be collected exactly, but the gate "
                    f"decided {decision.level} ({decision.reason}); has the example changed?"
                )
            targets.append(
                StreamTarget(device_id, name, decision.stream_id, decision.holder, kind, unit)
            )
        devices.append(DeviceLoad(device_id, tuple(targets)))
    return Scenario(
        home=home,
        operator_token=load_operator_token(home.keys_dir),
        device_tokens=tokens,
        devices=tuple(devices),
    )


Reading = tuple[StreamTarget, float, float | bool]
"""(target, absolute Unix time, value)."""

_STEP = 0.001
"""Readings of one device are 1 ms apart: distinct times, so nothing is dropped as a duplicate."""


def packs(
    devices: Sequence[DeviceLoad], readings: int, pack_size: int, start: float
) -> Iterator[list[Reading]]:
    """`readings` readings in packs of `pack_size` (the last may be smaller), devices in turn."""
    counters = dict.fromkeys((device.device_id for device in devices), 0)
    sent = 0
    turn = 0
    while sent < readings:
        device = devices[turn % len(devices)]
        turn += 1
        size = min(pack_size, readings - sent)
        first = counters[device.device_id]
        pattern = device.pattern
        pack: list[Reading] = []
        for offset in range(size):
            index = first + offset
            target = pattern[index % len(pattern)]
            value: float | bool = (
                index % 2 == 0 if target.kind == "boolean" else 200.0 + (index * 37 % 1000) / 10
            )
            pack.append((target, start + index * _STEP, value))
        counters[device.device_id] = first + size
        sent += size
        yield pack


def senml_json(pack: Sequence[Reading]) -> bytes:
    """A pack as a device would send it: base time once, then offsets from it."""
    base = pack[0][1]
    records: list[dict[str, object]] = []
    for index, (target, time, value) in enumerate(pack):
        record: dict[str, object] = {"n": target.stream}
        if index == 0:
            record["bt"] = base
        if target.unit is not None:
            record["u"] = target.unit
        record["vb" if isinstance(value, bool) else "v"] = value
        if index:
            record["t"] = round(time - base, 6)
        records.append(record)
    return json.dumps(records, separators=(",", ":")).encode()


# AES-GCM output the pipeline stores: 12-byte nonce, a 1-byte type tag, the value, a 16-byte tag.
_SEALED_NUMBER = 12 + 1 + 8 + 16
_SEALED_BOOLEAN = 12 + 1 + 1 + 16


def rows(pack: Sequence[Reading]) -> list[ReadingRow]:
    """The rows the pipeline would store for `pack`, with random bytes standing in for sealed
    values of the same length (SQLite stores them the same way; encryption is not measured)."""
    out: list[ReadingRow] = []
    for target, time, value in pack:
        device, stream_id = target.device_id, target.stream_id
        if target.holder is not None:
            size = _SEALED_BOOLEAN if isinstance(value, bool) else _SEALED_NUMBER
            out.append((device, stream_id, target.holder, time, 0, None, None, os.urandom(size)))
        elif isinstance(value, bool):
            text = "true" if value else "false"
            out.append((device, stream_id, None, time, 0, None, text, None))
        else:
            out.append((device, stream_id, None, time, 0, value, None, None))
    return out


def personal_share(devices: Sequence[DeviceLoad]) -> float:
    """The fraction of readings that are personal (sealed), with devices sending equal packs."""
    shares = [
        sum(target.holder is not None for target in device.pattern) / len(device.pattern)
        for device in devices
    ]
    return sum(shares) / len(shares)
