"""The hub's Prometheus metrics: one registry per hub, filled by collectors read at scrape time.

Each hub has its own `CollectorRegistry`: tests run several hubs in one process, and the
global default registry would mix their numbers. The hub's parts keep plain counters they
need anyway (the writer's `WriterStats`, the lockout's counts, the jobs' results); a
collector turns them into metric families only when /metrics is scraped, so counting adds
nothing per reading to the hot path.

Another package adds its series with `hub.metrics.register(collector)`, where `collector` is
a `prometheus_client.registry.Collector` (an object with `collect()` yielding metric
families, and `describe()` returning them too when the names are known up front). Names
start with `goodthings_`; docs/operations.md lists every one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Protocol, TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from goodthings.core.keys import Keyring
from goodthings.ingest import GroupWriter, Pipeline, Refusal
from goodthings.ingest.mqtt import BridgeStats
from goodthings.policy import Reason
from goodthings.security import Lockout

__all__ = [
    "BridgeCollector",
    "GateCollector",
    "HubMetrics",
    "IngestCollector",
    "LockoutCollector",
]


class HubMetrics:
    """The registry /metrics exposes, and where every part of the hub adds its collector."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)

    def register(self, collector: Collector) -> None:
        """Expose `collector`'s series; a name another collector already has is refused
        (ValueError), so two parts cannot publish the same series by mistake."""
        self.registry.register(collector)

    def unregister(self, collector: Collector) -> None:
        """Stop exposing `collector`: for parts that stop before the hub does (MQTT, jobs)."""
        self.registry.unregister(collector)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The scrape's body and content type: OpenMetrics when the scraper asks for it in
        `Accept`, Prometheus' text format 0.0.4 otherwise."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


_Label = TypeVar("_Label", bound=str)


def _by(
    family: CounterMetricFamily | GaugeMetricFamily, counts: Mapping[_Label, int]
) -> CounterMetricFamily | GaugeMetricFamily:
    for label, value in sorted(counts.items()):
        family.add_metric([str(label)], value)
    return family


class IngestCollector(Collector):
    """What the writer stored and refused, from HTTP and MQTT alike, and what is waiting."""

    def __init__(self, writer: GroupWriter) -> None:
        self._writer = writer

    def collect(self) -> Iterator[Metric]:
        stats = self._writer.stats()
        yield _counter(
            "goodthings_ingest_packs", "SenML packs in groups the writer committed", stats.packs
        )
        yield _by(
            CounterMetricFamily(
                "goodthings_ingest_packs_refused",
                "Packs refused whole, nothing of them stored, by reason",
                labels=["reason"],
            ),
            {**dict.fromkeys(Refusal, 0), **stats.refused},
        )
        yield _counter(
            "goodthings_ingest_readings_received",
            "Readings in accepted packs",
            stats.readings,
        )
        yield _counter(
            "goodthings_ingest_readings_stored",
            "Rows written for accepted readings (one per reading, or per aggregated window)",
            stats.stored,
        )
        yield _counter(
            "goodthings_ingest_readings_minimised",
            "Readings stored at less detail than sent (rounded or aggregated)",
            stats.minimised,
        )
        yield _by(
            CounterMetricFamily(
                "goodthings_ingest_readings_dropped",
                "Readings the gate did not store, by reason",
                labels=["reason"],
            ),
            {**dict.fromkeys(Reason, 0), **stats.dropped},
        )
        yield _counter(
            "goodthings_ingest_groups", "Groups of packs stored in one transaction", stats.groups
        )
        yield _counter(
            "goodthings_ingest_groups_failed",
            "Groups whose transaction failed: nothing stored, every sender told to send again",
            stats.failed_groups,
        )
        yield GaugeMetricFamily(
            "goodthings_ingest_writer_pending_packs",
            "Packs handed to the writer and not yet stored or refused",
            value=stats.pending_packs,
        )


class CountedBridge(Protocol):
    """What the collector reads of a bridge: the MQTT one or the broker cluster's."""

    def stats(self) -> BridgeStats: ...

    def pending(self) -> int: ...


class BridgeCollector(Collector):
    """The MQTT bridge's traffic and the depth of its queue, while MQTT ingest runs."""

    def __init__(self, bridge: CountedBridge) -> None:
        self._bridge = bridge

    def collect(self) -> Iterator[Metric]:
        stats = self._bridge.stats()
        yield _counter(
            "goodthings_mqtt_messages_received", "Messages taken from the broker", stats.received
        )
        yield _counter(
            "goodthings_mqtt_messages_ignored",
            "Messages on topics the hub does not ingest, acknowledged",
            stats.ignored,
        )
        yield _counter(
            "goodthings_mqtt_batches", "Batches of messages the writer committed", stats.batches
        )
        yield _counter(
            "goodthings_mqtt_batches_failed",
            "Batches whose ingest failed: not acknowledged, redelivered after a reconnect",
            stats.failed_batches,
        )
        yield _counter("goodthings_mqtt_connects", "Connections made to the broker", stats.connects)
        yield GaugeMetricFamily(
            "goodthings_mqtt_inbox_pending",
            "Messages received and not yet handed to the writer",
            value=self._bridge.pending(),
        )


class LockoutCollector(Collector):
    """Brute-force lockouts of devices, addresses and console operators in this process.

    It asks `lockout` for the hub's current one at each scrape: a hub may be given a stricter
    `Lockout` after it opened."""

    def __init__(self, lockout: Callable[[], Lockout]) -> None:
        self._lockout = lockout

    def collect(self) -> Iterator[Metric]:
        lockout = self._lockout()
        yield _by(
            CounterMetricFamily(
                "goodthings_lockouts",
                "Lockouts begun after repeated failed sign-ins, by what was locked",
                labels=["scope"],
            ),
            lockout.started(),
        )
        yield _by(
            GaugeMetricFamily(
                "goodthings_locked_out",
                "Devices, addresses and operators locked out now",
                labels=["scope"],
            ),
            lockout.locked_now(),
        )


class GateCollector(Collector):
    """How current this worker's gate is: what an operator compares across workers to see one
    that lags behind a withdrawal or an erasure, or that lost its wake-up connection."""

    def __init__(self, pipeline: Pipeline, keyring: Keyring, listening: Callable[[], bool]) -> None:
        self._pipeline = pipeline
        self._keyring = keyring
        self._listening = listening

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "goodthings_gate_consent_seen",
            "The newest consent record this worker's gate decides with",
            value=self._pipeline.consents_seen,
        )
        yield GaugeMetricFamily(
            "goodthings_gate_reloaded_timestamp_seconds",
            "When this worker's gate last reloaded for a change in the store (Unix time)",
            value=self._pipeline.reloaded_at,
        )
        yield GaugeMetricFamily(
            "goodthings_keys_destroyed_seen",
            "The newest destroyed data key (erasure) this worker no longer seals or opens with",
            value=self._keyring.destroyed_seen,
        )
        yield GaugeMetricFamily(
            "goodthings_keys_destroyed_seen_timestamp_seconds",
            "When this worker last learnt of a destroyed data key (Unix time; 0: never)",
            value=self._keyring.destroyed_seen_at,
        )
        yield GaugeMetricFamily(
            "goodthings_wake_listening",
            "1 while this worker is listening for changes made elsewhere (NOTIFY or socket); "
            "0 means it learns of them only by its poll",
            value=int(self._listening()),
        )
