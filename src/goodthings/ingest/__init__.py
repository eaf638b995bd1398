"""Ingest: readings arrive as SenML over HTTP or MQTT and pass the gate in batches, so what is
stored is only what the manifest and people's choices allow.

`senml` is public as a namespace (`from goodthings.ingest import senml`).
"""

from goodthings.ingest import senml
from goodthings.ingest.batch import (
    SENML_CBOR,
    SENML_JSON,
    BatchOutcome,
    Incoming,
    Ingestor,
    PackResult,
    Refusal,
)
from goodthings.ingest.broker import EmbeddedBroker, EmbeddedBrokerError
from goodthings.ingest.mqtt import Batching, BridgeStats, BrokerSession, MqttBridge, MqttBridgeError
from goodthings.ingest.pipeline import Pipeline
from goodthings.ingest.writer import Grouping, GroupWriter, WriterClosed, WriterStats

__all__ = [
    "SENML_CBOR",
    "SENML_JSON",
    "BatchOutcome",
    "Batching",
    "BridgeStats",
    "BrokerSession",
    "EmbeddedBroker",
    "EmbeddedBrokerError",
    "GroupWriter",
    "Grouping",
    "Incoming",
    "Ingestor",
    "MqttBridge",
    "MqttBridgeError",
    "PackResult",
    "Pipeline",
    "Refusal",
    "WriterClosed",
    "WriterStats",
    "senml",
]
