"""Giving the C heap's free pages back: done where glibc can, a harmless no-op elsewhere."""

from __future__ import annotations

import platform
import sys

import pytest

from goodthings.core import heap


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_glibc_gives_free_heap_pages_back() -> None:
    garbage = [bytes(2048 + n % 1024) for n in range(20_000)]
    del garbage
    assert heap._malloc_trim() is not None, "glibc's malloc_trim was not found"
    assert isinstance(heap.trim(), bool)


def test_without_malloc_trim_trimming_does_nothing_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)
    assert heap.trim() is False
