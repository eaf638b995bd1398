"""The hub's MQTT topics: packs up on `gt/<device>/up`, firmware reports on `gt/<device>/birth`,
policies down, retained, on `gt/<device>/policy`."""

from __future__ import annotations

UP_FILTER = "gt/+/up"
BIRTH_FILTER = "gt/+/birth"
SHARE_GROUP = "goodthings"


def device_of(topic: str, kind: str = "up") -> str | None:
    """The device a topic speaks for, or None unless it is exactly `gt/<device>/<kind>`."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == "gt" and parts[2] == kind and parts[1]:
        return parts[1]
    return None


def subscription(topic_filter: str, *, shared: bool) -> str:
    """The filter as the hub subscribes to it: in the shared group when workers split the load."""
    return f"$share/{SHARE_GROUP}/{topic_filter}" if shared else topic_filter


def policy_topic(device_id: str) -> str:
    """Where a device finds what it may collect, retained so that it is there when it connects."""
    return f"gt/{device_id}/policy"
