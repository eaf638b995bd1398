"""The bench's load generators and its view of the store: raw inserts, HTTP packs, MQTT packs.

Payloads are built before the clock starts, so the figures measure the hub, not the encoding
of the load. The store is watched through `max(id)` (cheap at any table size) while a phase
runs, and counted exactly once it is over.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Connection, Engine

from goodthings.core.errors import GoodthingsError
from goodthings.core.store import (
    ReadingRow,
    Selection,
    count_readings,
    insert_readings,
    last_id,
)

Say = Callable[[str], None]


class BenchError(GoodthingsError):
    """The bench could not measure, or the hub lost or refused readings it was sent."""


@dataclass(frozen=True)
class HttpPack:
    token: str
    body: bytes
    readings: int


@dataclass(frozen=True)
class HttpResult:
    elapsed: float
    latencies: list[float]
    """Seconds from sending each pack to its 202, which the hub answers after the commit."""
    stored: int
    """The sum of the 202 answers' `stored` counts."""


def write_batches(
    engine: Engine,
    batches: Sequence[Sequence[ReadingRow]],
    write: Callable[[Connection, Sequence[ReadingRow]], int],
) -> tuple[int, float]:
    """Write the batches with `write`, one transaction each; (rows written, seconds)."""
    written = 0
    started = time.perf_counter()
    for rows in batches:
        with engine.begin() as connection:
            written += write(connection, rows)
    return written, time.perf_counter() - started


def raw_insert(engine: Engine, batches: Sequence[Sequence[ReadingRow]]) -> tuple[int, float]:
    """Insert the batches, one transaction each, through the pipeline's own insert; (rows, s)."""
    return write_batches(engine, batches, insert_readings)


def send_http(
    ports: int | Sequence[int], packs: Sequence[HttpPack], concurrency: int
) -> HttpResult:
    """POST every pack to /ingest over `concurrency` keep-alive connections, as fast as the hub
    answers; fail on the first answer that is not 202.

    With several ports (one per worker), the connections take them in turn, as a reverse proxy
    in front of several workers spreads its connections."""
    targets = (ports,) if isinstance(ports, int) else tuple(ports)
    next_index = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    stored = [0]
    problems: list[str] = []

    def client(port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        total = 0
        try:
            while not problems:
                with lock:
                    index = next(next_index)
                if index >= len(packs):
                    break
                pack = packs[index]
                headers = {
                    "Authorization": f"Bearer {pack.token}",
                    "Content-Type": "application/senml+json",
                }
                sent = time.perf_counter()
                connection.request("POST", "/ingest", pack.body, headers)
                response = connection.getresponse()
                answer = response.read()
                mine.append(time.perf_counter() - sent)
                if response.status != 202:
                    problems.append(f"pack {index}: HTTP {response.status} {answer[:300]!r}")
                    break
                total += int(json.loads(answer)["stored"])
        except (OSError, http.client.HTTPException) as error:
            problems.append(f"HTTP client: {type(error).__name__}: {error}")
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                stored[0] += total

    threads = [
        threading.Thread(target=client, args=(targets[i % len(targets)],), name=f"bench-http-{i}")
        for i in range(concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if problems:
        raise BenchError(f"the hub refused HTTP ingest: {problems[0]}")
    return HttpResult(elapsed, latencies, stored[0])


class Publisher:
    """One MQTT 5 client publishing packs at QoS 1, as devices do (no broker ACLs here)."""

    def __init__(self, host: str, port: int, client_id: str = "goodthings-bench") -> None:
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5
        )
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._acked = 0
        self._acked_changed = threading.Condition()
        self._client.on_publish = self._on_publish
        self._client.connect(host, port)
        self._client.loop_start()

    def _on_publish(self, *_args: object) -> None:
        with self._acked_changed:
            self._acked += 1
            self._acked_changed.notify_all()

    def publish(self, messages: Sequence[tuple[str, bytes]], timeout: float = 300.0) -> None:
        """Publish all and wait until the broker acknowledged each (not yet the hub: see
        `StoreWatch`)."""
        with self._acked_changed:
            target = self._acked + len(messages)
        for topic, payload in messages:
            info = self._client.publish(topic, payload, qos=1)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                raise BenchError(f"publishing to {topic} failed: {paho.error_string(info.rc)}")
        with self._acked_changed:
            if not self._acked_changed.wait_for(lambda: self._acked >= target, timeout):
                raise BenchError(
                    f"the broker acknowledged {self._acked - target + len(messages)} of "
                    f"{len(messages)} publishes within {timeout:.0f} s"
                )

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class StoreWatch:
    """Follows the readings table from the bench's own connection while the hub writes it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def max_id(self) -> int:
        with self._engine.connect() as connection:
            return last_id(connection)

    def count(self, start: float, end: float) -> int:
        """Readings stored with a time in [start, end): one phase's readings, exactly."""
        with self._engine.connect() as connection:
            return count_readings(connection, Selection(start=start, end=end))

    def wait_for(
        self,
        base_id: int,
        expected: int,
        *,
        stall: float = 30.0,
        interval: float = 0.005,
        alive: Callable[[], None] = lambda: None,
    ) -> float:
        """Poll until `expected` rows past `base_id` exist; the perf_counter time they did.

        Fails when nothing new arrived for `stall` seconds: the hub lost readings or stopped.
        """
        seen = base_id
        progress_at = time.perf_counter()
        while True:
            now_id = self.max_id()
            now = time.perf_counter()
            if now_id - base_id >= expected:
                return now
            if now_id != seen:
                seen, progress_at = now_id, now
            elif now - progress_at > stall:
                raise BenchError(
                    f"the hub stored {seen - base_id} of {expected} readings and nothing more "
                    f"for {stall:.0f} s: readings were lost"
                )
            alive()
            time.sleep(interval)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: with fewer than 100 values, p99 is the largest."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]
