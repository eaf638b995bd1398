"""The soak's arithmetic: start and end after the warm-up, growth and slope."""

from __future__ import annotations

import os

import pytest

from goodthings.bench.load import BenchError
from goodthings.bench.soak import memory_of, resident_mb, slope_per_minute, warm_up_for


def test_a_steady_leak_shows_as_growth_and_slope_and_the_warm_up_is_left_out() -> None:
    # 30 s of warm-up climbing fast, then 1 MiB a minute for ten minutes.
    points = [(float(t), 100.0 + t) for t in range(30)]
    points += [(float(t), 200.0 + (t - 30) / 60) for t in range(30, 630)]
    memory = memory_of("1", points, warm_up=30.0)
    assert memory.rss_start_mb == pytest.approx(200.0 + 2 / 60)  # median of the first five
    assert memory.rss_growth_mb == pytest.approx((597 - 2) / 60)  # medians of five each
    assert memory.rss_slope_mb_per_min == pytest.approx(1.0)
    assert memory.samples == 600


def test_flat_memory_with_noise_has_no_slope() -> None:
    points = [(float(t), 150.0 + (0.5 if t % 2 else -0.5)) for t in range(100)]
    memory = memory_of("2", points, warm_up=0.0)
    assert abs(memory.rss_slope_mb_per_min) < 0.05
    assert memory.rss_growth_mb == pytest.approx(0.0, abs=1.0)


def test_no_sample_after_the_warm_up_is_an_error_not_a_zero() -> None:
    with pytest.raises(BenchError, match="no memory sample of worker 1"):
        memory_of("1", [(1.0, 100.0)], warm_up=5.0)


def test_slope_needs_two_distinct_times() -> None:
    assert slope_per_minute([]) == 0.0
    assert slope_per_minute([(1.0, 5.0), (1.0, 6.0)]) == 0.0


def test_warm_up_is_a_fifth_of_the_soak_and_at_most_a_minute() -> None:
    assert warm_up_for(10.0) == 2.0
    assert warm_up_for(600.0) == 60.0


def test_resident_memory_of_this_process_is_read_from_proc() -> None:
    mb = resident_mb(os.getpid())
    assert mb is not None and 10 < mb < 10_000
