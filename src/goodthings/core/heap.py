"""Handing the C heap's free pages back to the system, where the C library can (glibc).

CPython frees a large or short-lived object to the C library's allocator, which keeps the pages
for reuse: after a burst (a group of 50,000 readings) a worker's resident memory stays some
30 MiB above what it holds alive. That matters just before an argon2id check, whose 64 MiB come
on top of whatever is resident: the peak is resident memory plus 64 MiB, so the free pages are
given back first (issue 18). `malloc_trim` exists in glibc only; elsewhere (musl, macOS,
Windows) `trim` does nothing and says so.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def trim() -> bool:
    """Give the C heap's free pages back to the system now (a few milliseconds on a worker's
    heap); whether any were given back. False, and nothing done, where it cannot."""
    malloc_trim = _malloc_trim()
    return malloc_trim is not None and malloc_trim(0) == 1
