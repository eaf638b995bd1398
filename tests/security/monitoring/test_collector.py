"""The Prometheus collector's output, through prometheus_client on a private registry."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, generate_latest

from goodthings.core.store import monitoring
from goodthings.runtime.hub import Hub
from goodthings.security.monitoring import build_collector, quarantine
from monitoring_helpers import declare, pack, send


def test_detections_quarantines_and_last_minute_figures_are_exposed(smart_home: Hub) -> None:
    registry = CollectorRegistry()
    registry.register(build_collector(smart_home.engine))
    quiet = generate_latest(registry).decode()
    assert "goodthings_quarantined_devices 0.0" in quiet
    assert "goodthings_detections{" not in quiet

    declare(smart_home, "max_rate: 2")
    for _ in range(3):
        send(smart_home, pack("thermostat-1"))
    quarantine(smart_home.engine, smart_home.signer, "meter-1", reason="test", actor="op")
    last_minute = int(time.time() // 60) - 1
    with smart_home.engine.begin() as connection:
        monitoring.merge_minutes(
            connection,
            [
                monitoring.MinuteBucket(
                    "front-door",
                    last_minute,
                    messages=7,
                    bytes=700,
                    dropped={"no_consent": 3},
                    denied={"publish": 2},
                )
            ],
        )
    text = generate_latest(registry).decode()
    assert 'goodthings_detections{kind="flood",severity="critical"} 1.0' in text
    assert "goodthings_quarantined_devices 1.0" in text
    assert 'goodthings_device_messages_per_minute{device="front-door"} 7.0' in text
    assert 'goodthings_device_bytes_per_minute{device="front-door"} 700.0' in text
    assert 'goodthings_dropped_per_minute{reason="no_consent"} 3.0' in text
    assert 'goodthings_device_denied_per_minute{action="publish",device="front-door"} 2.0' in text
