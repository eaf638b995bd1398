"""Token buckets per device: a device that floods the hub is slowed, not the whole hub."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when `key` may go ahead now, else the seconds to wait before trying again."""
        now = time.monotonic()
        with self._lock:
            tokens, since = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - since) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate
