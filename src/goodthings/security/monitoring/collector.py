"""Prometheus figures of abuse monitoring, read from the store at each scrape.

A custom collector rather than counters in memory: every hub worker writes the same store, so
whichever worker answers `/metrics` reports the whole deployment, and a restart loses nothing.
The per-minute figures are those of the last whole minute flushed (a minute that is still being
counted would read low).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from goodthings.core.store import monitoring


class MonitorCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        minute = int(time.time() // 60) - 1
        with self._engine.connect() as connection:
            counts = monitoring.detection_counts(connection)
            quarantined = monitoring.current_quarantines(connection)
            buckets = [
                b for b in monitoring.select_minutes(connection, since=minute) if b.minute == minute
            ]
        detections = GaugeMetricFamily(
            "goodthings_detections",
            "Detections kept, by kind and severity.",
            labels=["kind", "severity"],
        )
        for kind, severity, count in counts:
            detections.add_metric([kind, severity], count)
        yield detections
        yield GaugeMetricFamily(
            "goodthings_quarantined_devices",
            "Devices quarantined now.",
            value=len(quarantined),
        )
        figures = {
            "messages": "Messages received in the last whole minute.",
            "bytes": "Bytes received in the last whole minute.",
            "records": "SenML records received in the last whole minute.",
        }
        for name, text in figures.items():
            family = GaugeMetricFamily(
                f"goodthings_device_{name}_per_minute", text, labels=["device"]
            )
            for bucket in buckets:
                family.add_metric([bucket.device_id], getattr(bucket, name))
            yield family
        dropped = GaugeMetricFamily(
            "goodthings_dropped_per_minute",
            "Readings not stored in the last whole minute, by reason.",
            labels=["reason"],
        )
        totals: dict[str, int] = {}
        for bucket in buckets:
            for reason, count in bucket.dropped.items():
                totals[reason] = totals.get(reason, 0) + count
        for reason, count in sorted(totals.items()):
            dropped.add_metric([reason], count)
        yield dropped
        denied = GaugeMetricFamily(
            "goodthings_device_denied_per_minute",
            "Publishes and subscriptions the broker refused a device in the last whole minute.",
            labels=["device", "action"],
        )
        for bucket in buckets:
            for action, count in sorted(bucket.denied.items()):
                denied.add_metric([bucket.device_id, action], count)
        yield denied


def build_collector(engine: Engine) -> MonitorCollector:
    """The collector for a hub's store, to register on the hub's `CollectorRegistry`."""
    return MonitorCollector(engine)
