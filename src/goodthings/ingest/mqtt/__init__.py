"""The hub's MQTT side of ingest: the bridge that takes packs from devices and sends them their
policies, with where it connects (`BrokerSession`) and how it batches (`Batching`) as values."""

from goodthings.ingest.mqtt.births import OnBirth
from goodthings.ingest.mqtt.bridge import BridgeStats, MqttBridge, MqttBridgeError
from goodthings.ingest.mqtt.inbox import Batching
from goodthings.ingest.mqtt.session import BrokerSession
from goodthings.ingest.mqtt.topics import BIRTH_FILTER, SHARE_GROUP, UP_FILTER, device_of

__all__ = [
    "BIRTH_FILTER",
    "SHARE_GROUP",
    "UP_FILTER",
    "Batching",
    "BridgeStats",
    "BrokerSession",
    "MqttBridge",
    "MqttBridgeError",
    "OnBirth",
    "device_of",
]
