"""The running hub: its parts wired once, its background jobs and its MQTT ingest service, so the
faces (web, CLI) start one hub instead of assembling services themselves."""

from goodthings.runtime.background import BackgroundJobs, Job, hub_jobs
from goodthings.runtime.hub import Hub
from goodthings.runtime.mqtt_ingest import BrokerAddress, MqttIngest, parse_broker_url

__all__ = [
    "BackgroundJobs",
    "BrokerAddress",
    "Hub",
    "Job",
    "MqttIngest",
    "hub_jobs",
    "parse_broker_url",
]
