"""Start and stop, used with `with`, written once for every part that runs in the background.

A broker, a bridge, a worker process or a set of jobs each say how they start and stop; this
base makes `with part:` start it on entry and stop it on exit, whatever ended the block (the
httpx `BaseTransport` idea). `start` may raise: then the block does not run and `stop` is not
called, so a part that fails half-way through starting cleans up after itself in `start`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["Lifecycle"]


class Lifecycle(ABC):
    """A part that runs between `start()` and `stop()`; `with part:` does both."""

    @abstractmethod
    def start(self) -> None:
        """Return once the part is running, or raise why it could not start."""

    @abstractmethod
    def stop(self) -> None:
        """Finish what was taken on and release what `start` acquired."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
