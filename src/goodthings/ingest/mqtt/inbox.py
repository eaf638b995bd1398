"""Messages the hub took from the broker, waiting in arrival order to be ingested in batches."""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass

from goodthings.ingest.batch import Incoming


@dataclass(frozen=True, slots=True)
class Batching:
    """How messages become batches, and how long a failed batch waits to be tried again."""

    max_batch: int = 500
    max_delay: float = 0.02
    """Seconds a batch waits for more messages once its first one arrived."""
    retry_delay: float = 1.0
    """Seconds before reconnecting after a failed ingest; doubled after each further failure."""

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_delay < 0:
            raise ValueError("max_batch must be at least 1 and max_delay at least 0")


@dataclass(frozen=True, slots=True)
class Received:
    generation: int
    """The connection it arrived on: a message ID means nothing on a later connection."""
    mid: int
    qos: int
    incoming: Incoming | None
    """None when the topic is not `gt/<device>/up`."""
    birth: tuple[str, bytes] | None = None
    """(device, payload) of a `gt/<device>/birth` message, when the bridge takes them."""


_STOP = object()
_WAKE = object()


class Inbox:
    """A queue of received messages that hands them out in batches, until it is closed."""

    def __init__(self, batching: Batching) -> None:
        self._max_batch, self._max_delay = batching.max_batch, batching.max_delay
        self._queue: queue.Queue[Received | object] = queue.Queue()

    def put(self, item: Received) -> None:
        self._queue.put(item)

    def pending(self) -> int:
        """Messages waiting to be taken into a batch (approximate, as `Queue.qsize` is)."""
        return self._queue.qsize()

    def wake(self) -> None:
        """End the current `take` now, with what it holds so far (possibly nothing)."""
        self._queue.put(_WAKE)

    def close(self) -> None:
        """End the batches after the messages already put: `take` then says it is the last."""
        self._queue.put(_STOP)

    def take(self, wait: float) -> tuple[list[Received], bool]:
        """Up to `max_batch` messages, waiting at most `max_delay` once the first arrived, and
        whether the inbox was closed after them."""
        try:
            item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return [], False
        batch: list[Received] = []
        deadline = time.monotonic() + self._max_delay
        while True:
            if item is _STOP:
                return batch, True
            if item is _WAKE:
                return batch, False
            assert isinstance(item, Received)
            batch.append(item)
            if len(batch) >= self._max_batch:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return batch, False
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    return batch, False

    def discard(self) -> None:
        """Forget what is left: unacknowledged, so the broker redelivers it."""
        while not self._queue.empty():
            self._queue.get_nowait()
