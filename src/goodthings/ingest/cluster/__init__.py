"""The hub's side of a broker cluster (NATS with JetStream): readings pulled from the stream the
cluster replicates, by every worker from one durable consumer, and policies sent over MQTT."""

from goodthings.ingest.cluster.consumer import ClusterBridge, ClusterBridgeError, ClusterSession
from goodthings.ingest.cluster.policy_link import Listener
from goodthings.ingest.cluster.subjects import HUB_FILTER, STREAM, topic_of

__all__ = [
    "HUB_FILTER",
    "STREAM",
    "ClusterBridge",
    "ClusterBridgeError",
    "ClusterSession",
    "Listener",
    "topic_of",
]
