"""One erasure at a time per deployment, held by a file lock that dies with its process.

Why a file lock: a `kill -9` releases it with the process, so a hub opening afterwards can tell
an erasure that was interrupted (the lock is free, the request is started and not done) from
one another process is carrying out right now (the lock is taken), and finish only the first.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ERASURE_LOCK = "erasing.lock"


@contextmanager
def erasure_lock(keys_dir: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the deployment's erasure lock; yields False (and holds nothing) when `wait` is
    False and another process holds it."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(keys_dir / ERASURE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
