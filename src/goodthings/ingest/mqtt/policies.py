"""Consent in advance: each device learns what it may collect before it sends anything, from its
policy published retained on `gt/<device>/policy` whenever the policy changes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from goodthings.ingest.batch import Ingestor
from goodthings.ingest.mqtt.topics import policy_topic
from goodthings.policy import DevicePolicy

logger = logging.getLogger(__name__)

Publish = Callable[[str, bytes], bool]
"""Publish a retained message at QoS 1 to a topic; whether it was sent or is queued to be."""


class PolicyPublisher:
    """Publishes the ingestor's policies that changed, and all of them when the broker may have
    lost them."""

    def __init__(self, ingestor: Ingestor, publish: Publish) -> None:
        self._ingestor = ingestor
        self._publish = publish
        self._lock = threading.Lock()
        self._republish = True
        self._published: dict[str, bytes] = {}
        self._seen: Mapping[str, DevicePolicy] | None = None
        """The policies last published from: `Ingestor.policies` returns a new mapping when
        they change."""

    def republish_all(self) -> None:
        """Send every policy next time: a broker without our session, or a client that went
        before sending them, may have lost some."""
        with self._lock:
            self._republish = True

    def publish_changes(self) -> int:
        """Publish what changed since the last call; how many policies were published."""
        with self._lock:
            force, self._republish = self._republish, False
        try:
            changed = self._ingestor.refresh()
            policies = self._ingestor.policies()
            # The pipeline reloads the gate on its own while ingesting, and then `refresh` finds
            # nothing new: a different mapping is how the bridge learns policies changed anyway.
            if not (changed or force or policies is not self._seen):
                return 0
        except Exception as error:
            with self._lock:
                self._republish = self._republish or force
            logger.error("refreshing policies failed (%s); retrying", type(error).__name__)
            return 0
        published = failed = 0
        for device_id, policy in sorted(policies.items()):
            body = policy.to_json()
            if not force and self._published.get(device_id) == body:
                continue
            if self._publish(policy_topic(device_id), body):
                self._published[device_id] = body
                published += 1
            else:
                failed += 1
        # A policy the client refused is sent again next time: only what was sent counts as seen.
        self._seen = None if failed else policies
        return published
