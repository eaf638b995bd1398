"""The hub's metrics registry: MQTT ingest's series are there while it runs, gone after."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client.parser import text_string_to_metric_families

from goodthings.core.config import Home
from goodthings.runtime import Hub, MqttIngest
from templates import init_from_template


def _families(hub: Hub) -> dict[str, float]:
    body, _ = hub.metrics.exposition(None)
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if not sample.labels
    }


def test_mqtt_series_last_as_long_as_mqtt_ingest(home: Home) -> None:
    init_from_template(home, "smart-home")
    embedded = home.settings.model_copy(update={"mqtt_url": None, "mqtt_port": 0})
    hub = Hub.open(replace(home, settings=embedded))
    try:
        assert "goodthings_mqtt_inbox_pending" not in _families(hub)
        with MqttIngest(hub):
            running = _families(hub)
            assert running["goodthings_mqtt_inbox_pending"] == 0
            assert running["goodthings_mqtt_connects_total"] >= 1
        assert "goodthings_mqtt_connects_total" not in _families(hub)
        assert "goodthings_ingest_packs_total" in _families(hub)  # the hub's own stay
        with MqttIngest(hub):  # and a restarted ingest registers again
            assert "goodthings_mqtt_inbox_pending" in _families(hub)
    finally:
        hub.close()
