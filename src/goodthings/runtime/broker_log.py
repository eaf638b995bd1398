"""Following Mosquitto's log file, so the abuse monitor hears of each topic it denied a device.

The file is read on a thread of its own, a line at a time, from where it ends when the hub
starts (after reading what is there for who is connected, counting none of its old denials:
they were counted by the hub that ran then, or are history). A log rotated away (a new file at
the path) or cut short is followed from its new start.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from goodthings.core.errors import DeploymentError
from goodthings.core.lifecycle import Lifecycle
from goodthings.security.broker_log import Denial, DenialParser

logger = logging.getLogger(__name__)

_HISTORY = 8 * 1024 * 1024
"""Bytes at the end of an existing log read at start, for the clients already connected."""


class BrokerLogWatch(Lifecycle):
    def __init__(
        self, path: Path, on_denial: Callable[[Denial], object], *, poll: float = 0.2
    ) -> None:
        self._path = path
        self._on_denial = on_denial
        self._poll = poll
        self._parser = DenialParser()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file: BinaryIO | None = None

    def start(self) -> None:
        try:
            self._file = self._open()
        except OSError as error:
            raise DeploymentError(
                f"GOODTHINGS_MQTT_LOG names {self._path}, which cannot be read "
                f"({error.strerror}); it must be the file Mosquitto's `log_dest file` writes"
            ) from None
        size = os.fstat(self._file.fileno()).st_size
        self._file.seek(max(0, size - _HISTORY))
        if size > _HISTORY:
            self._file.readline()  # most likely the end of a line cut in two
        while line := self._file.readline():
            for _old in self._parser.feed(_text(line)):
                pass  # only who is connected is wanted from the past
        self._stop.clear()
        self._thread = threading.Thread(target=self._follow, name="goodthings-broker-log")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open(self) -> BinaryIO:
        return self._path.open("rb")

    def _follow(self) -> None:
        partial = b""
        while not self._stop.is_set():
            line = self._file.readline() if self._file is not None else b""
            if line.endswith(b"\n"):
                self._handle(_text(partial + line))
                partial = b""
                continue
            partial += line
            if self._stop.wait(self._poll):
                return
            if self._file is None or self._replaced(self._file):
                if self._file is not None:
                    self._file.close()
                partial = b""
                try:
                    self._file = self._open()
                except OSError:
                    self._file = None  # between a rotation's rename and its first line

    def _replaced(self, source: BinaryIO) -> bool:
        try:
            now = self._path.stat()
        except OSError:
            return True
        return now.st_ino != os.fstat(source.fileno()).st_ino or now.st_size < source.tell()

    def _handle(self, line: str) -> None:
        for denial in self._parser.feed(line):
            try:
                self._on_denial(denial)
            except Exception as error:  # a busy store must not stop the log being followed
                logger.error(
                    "could not count a topic denied to %r (%s)",
                    denial.username,
                    type(error).__name__,
                )


def watch_denials(path: Path, monitor_denied: Callable[[str, str, str], object]) -> BrokerLogWatch:
    """A watch that tells `monitor_denied(username, action, topic)` of each denial."""
    return BrokerLogWatch(path, lambda d: monitor_denied(d.username, d.action, d.topic))


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")
