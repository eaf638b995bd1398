"""The bench's abuse-monitoring phase: what counting costs, how fast a flood is cut off, how soon
a quarantine holds in another process, and whether a normal fleet is left alone.

* overhead: the same packs through this process's pipeline with and without the monitor, in
  alternating rounds so that both see the same machine; the ratio of their rates.
* flood: a device of a model whose profile says `max_rate: 60` and `flood: quarantine` sends
  as fast as the pipeline takes it; from its first pack to the quarantine's commit.
* effective: a `serve` worker stores a device's packs over HTTP while this process quarantines
  it; from the quarantine's commit to the last new reading of the device seen in the store
  (polled every 5 ms for a second), per round, then released again.
* false quarantines: a normal fleet with jitter, retries and network outages that end in a
  burst of buffered packs, a day learned and two hours watched on a simulated clock, against
  strict profiles (quarantine on flood, off-profile and replay).

The profiles are written to the store as the manifest's `monitoring:` blocks would be.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select, update

from goodthings.bench import scenario
from goodthings.bench.load import BenchError, Say, percentile
from goodthings.core.store import last_id, monitoring
from goodthings.core.store import tables as t
from goodthings.core.store.monitoring import MinuteBucket
from goodthings.ingest.batch import Incoming, Refusal
from goodthings.runtime.hub import Hub
from goodthings.security.monitoring import Monitor, PackSeen, quarantine, release

_BATCH = 50
"""Packs per pipeline call in the overhead rounds, as the writer groups them under load."""
_FLOOD_PROFILE = {"max_rate": 60, "actions": {"flood": "quarantine"}}
_FLEET_PROFILE = {
    "max_rate": 30,
    "interval": "PT1M",
    "actions": {"flood": "quarantine", "off-profile": "quarantine", "replay": "quarantine"},
}


@dataclass(frozen=True)
class MonitoringFigures:
    overhead_ratio: float
    flood_detect_ms: float
    effective_p99_ms: float
    false_quarantines: int


def measure_monitoring(
    hub: Hub,
    devices: Sequence[scenario.DeviceLoad],
    *,
    readings: int,
    pack_size: int,
    worker_port: int,
    token: str,
    device_id: str,
    rounds: int,
    say: Say,
) -> MonitoringFigures:
    ratio = _overhead(hub, devices, readings, pack_size)
    say(f"monitoring: the monitor keeps {ratio:.1%} of the throughput without it")
    flood_ms = _flood(hub)
    say(f"monitoring: a flood was quarantined {flood_ms:.0f} ms after it began")
    effective = _effective(hub.engine, hub.signer, worker_port, token, device_id, rounds)
    say(f"monitoring: quarantine held in the worker within {effective:.0f} ms (p99)")
    false = _false_quarantines(hub)
    say(f"monitoring: {false} device(s) of a normal fleet quarantined")
    return MonitoringFigures(ratio, flood_ms, effective, false)


def _overhead(
    hub: Hub, devices: Sequence[scenario.DeviceLoad], readings: int, pack_size: int
) -> float:
    monitor = hub.monitor
    assert monitor is not None
    pipeline = hub.pipeline
    elapsed = {True: 0.0, False: 0.0}
    start = time.time() - 1800
    # A first round of each is not counted: it warms caches and connections for both.
    for index, watched in enumerate((False, True) * 4):
        batch = [
            Incoming(pack[0][0].device_id, scenario.senml_json(pack), time.time())
            for pack in scenario.packs(devices, readings // 8, pack_size, start + index * 200)
        ]
        pipeline.observer = monitor.observe if watched else None
        began = time.perf_counter()
        for first in range(0, len(batch), _BATCH):
            pipeline.ingest(batch[first : first + _BATCH])
        if index >= 2:
            elapsed[watched] += time.perf_counter() - began
    pipeline.observer = monitor.observe
    return elapsed[False] / elapsed[True]


def _profile(engine: Engine, profile: dict[str, object], model: str | None = None) -> None:
    models = t.device_models
    statement = update(models).values(monitoring=profile)
    with engine.begin() as connection:
        connection.execute(statement if model is None else statement.where(models.c.id == model))


def _flood(hub: Hub) -> float:
    """With a monitor of its own: the hub's has counted the overhead rounds' packs, and a
    flood that began there would be found at its first pack."""
    monitor = Monitor(hub.engine, hub.signer)
    hub.pipeline.observer = monitor.observe
    device = "thermostat-1"
    with hub.engine.connect() as connection:
        model = connection.execute(
            select(t.devices.c.model_id).where(t.devices.c.id == device)
        ).scalar_one()
    _profile(hub.engine, _FLOOD_PROFILE, model)
    monitor.reload(force=True)
    began = time.time()
    for index in range(10_000):
        body = f'[{{"bt":{time.time()},"n":"temperature","v":{20 + index % 7}}}]'.encode()
        outcome = hub.pipeline.ingest([Incoming(device, body, time.time())])
        if outcome.results[0].refusal is Refusal.quarantined:
            break
    with hub.engine.connect() as connection:
        held = monitoring.current_quarantines(connection)[device]
    release(hub.engine, hub.signer, device, reason="bench: flood measured", actor="bench")
    _profile(hub.engine, {}, model)
    assert hub.monitor is not None
    hub.pipeline.observer = hub.monitor.observe
    return (held.at.timestamp() - began) * 1000


def _effective(
    engine: Engine,
    signer: Ed25519PrivateKey,
    port: int,
    token: str,
    device_id: str,
    rounds: int,
) -> float:
    stop = threading.Event()

    def keep_sending() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            while not stop.is_set():
                body = f'[{{"bt":{time.time()},"n":"temperature","v":21.5}}]'
                client.post("/ingest", content=body, headers=headers)
                time.sleep(0.005)

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    delays = []
    try:
        # The first post signs in again (argon2id: the token's memory lasts a minute), which
        # on a machine at a load average of 20 was seen to take more than 5 s.
        if not _stored_within(engine, device_id, _newest_id(engine, device_id), 30.0):
            raise BenchError(f"the worker stored nothing from {device_id} in 30 s")
        for _ in range(rounds):
            before = _newest_id(engine, device_id)
            quarantine(engine, signer, device_id, reason="bench: effective", actor="bench")
            decided = time.perf_counter()
            last = _last_stored(engine, device_id, before, 1.0)
            delays.append(0.0 if last is None else max(0.0, last - decided))
            release(engine, signer, device_id, reason="bench: next round", actor="bench")
            time.sleep(0.3)
    finally:
        stop.set()
        sender.join(10)
    return percentile(delays, 0.99) * 1000


def _newest_id(engine: Engine, device_id: str) -> int:
    with engine.connect() as connection:
        return last_id(connection, device_id)


def _stored_within(engine: Engine, device_id: str, after: int, timeout: float) -> bool:
    """Whether the device has a reading past id `after` within `timeout` seconds; returns as
    soon as it has one."""
    deadline = time.perf_counter() + timeout
    while _newest_id(engine, device_id) <= after:
        if time.perf_counter() >= deadline:
            return False
        time.sleep(0.005)
    return True


def _last_stored(engine: Engine, device_id: str, after: int, watch: float) -> float | None:
    """When (perf_counter) the device's newest reading past id `after` last changed while
    watching for `watch` seconds; None when none was stored."""
    last, newest = None, after
    deadline = time.perf_counter() + watch
    while time.perf_counter() < deadline:
        found = _newest_id(engine, device_id)
        if found > newest:
            newest, last = found, time.perf_counter()
        time.sleep(0.005)
    return last


def _false_quarantines(hub: Hub, seed: int = 13) -> int:
    """Quarantines decided over a normal fleet on a simulated clock (a day learned, two hours
    watched)."""
    _profile(hub.engine, _FLEET_PROFILE)
    with hub.engine.connect() as connection:
        fleet = list(
            connection.execute(
                select(t.devices.c.id, t.device_models.c.id)
                .join(t.device_models, t.device_models.c.id == t.devices.c.model_id)
                .where(t.devices.c.retired_at.is_(None))
            )
        )
        streams = {
            model: name
            for model, name in connection.execute(select(t.streams.c.model_id, t.streams.c.name))
        }
    clock = [time.time()]
    start = clock[0]
    fake = Monitor(hub.engine, hub.signer, clock=lambda: clock[0])
    rng = random.Random(seed)  # noqa: S311 (a simulated fleet's jitter, repeatable by its seed)
    history: dict[tuple[str, int], MinuteBucket] = {}
    for device, _model in fleet:
        for moment, _newest in _normal_traffic(rng, start - 86400, start):
            key = (device, int(moment // 60))
            bucket = history.setdefault(key, MinuteBucket(device, key[1]))
            bucket.messages += 1
    with hub.engine.begin() as connection:
        monitoring.merge_minutes(connection, list(history.values()))
    fake.learn(start)
    events = sorted(
        (moment, newest, device, streams[model])
        for device, model in fleet
        for moment, newest in _normal_traffic(rng, start, start + 7200)
    )
    quarantined = 0
    next_tick = start + 5
    for moment, newest, device, stream in events:
        while next_tick <= moment:
            clock[0] = next_tick
            quarantined += sum(a.response == "quarantine" for a in fake.tick())
            next_tick += 5
        clock[0] = moment
        seen = PackSeen(device, moment, 60, records=1, streams=frozenset((stream,)), newest=newest)
        quarantined += sum(a.response == "quarantine" for a in fake.observe([seen]))
    _profile(hub.engine, {})
    return quarantined


def _normal_traffic(rng: random.Random, begin: float, end: float) -> list[tuple[float, float]]:
    """(received, newest reading) of one device reporting every minute with ±20 % jitter, a retry
    now and then, and network outages of 5 to 15 minutes that end in a burst of what it kept."""
    sent: list[tuple[float, float]] = []
    moment = begin + rng.uniform(0, 60)
    while moment < end:
        if rng.random() < 0.003:
            back = moment + rng.uniform(300, 900)
            kept = moment
            while kept < back:
                sent.append((back + rng.uniform(0, 2), kept))
                kept += 60 * rng.uniform(0.8, 1.2)
            moment = back
        else:
            sent.append((moment, moment - rng.uniform(0, 0.5)))
            if rng.random() < 0.02:
                sent.append((moment + rng.uniform(1, 3), moment))
        moment += 60 * rng.uniform(0.8, 1.2)
    return [(at, newest) for at, newest in sent if at < end]
