"""The running hub: its parts wired once, its background jobs and its MQTT ingest service, so the
faces (web, CLI) start one hub instead of assembling services themselves; and the hub's metrics
(`HubMetrics`), where any package adds its Prometheus collector."""

from goodthings.runtime.background import BackgroundJobs, Job, hub_jobs
from goodthings.runtime.cluster_ingest import ClusterIngest, ingest_for
from goodthings.runtime.hub import Hub
from goodthings.runtime.metrics import HubMetrics
from goodthings.runtime.mqtt_ingest import BrokerAddress, MqttIngest, parse_broker_url

__all__ = [
    "BackgroundJobs",
    "BrokerAddress",
    "ClusterIngest",
    "Hub",
    "HubMetrics",
    "Job",
    "MqttIngest",
    "hub_jobs",
    "ingest_for",
    "parse_broker_url",
]
