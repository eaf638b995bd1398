"""Baselines: learned only after the warm-up, robust to an earlier burst."""

from __future__ import annotations

from goodthings.security.monitoring.baselines import SLOT_MINUTES, learn

NOW = 10_000 * SLOT_MINUTES


def test_no_baseline_before_the_warm_up_is_over() -> None:
    assert learn({}, first_minute=NOW - 59, now_minute=NOW, warm_up_minutes=60) is None


def test_a_device_reporting_every_five_minutes_usually_sends_a_fifth_a_minute() -> None:
    slots = {NOW - k * SLOT_MINUTES: 2 for k in range(1, 7)}
    baseline = learn(slots, first_minute=NOW - 60, now_minute=NOW, warm_up_minutes=60)
    assert baseline is not None
    assert baseline.median == 0.2 and baseline.mad == 0.0 and baseline.slots == 6
    assert baseline.times_usual(8) == 40


def test_one_earlier_burst_does_not_become_usual() -> None:
    slots = {NOW - k * SLOT_MINUTES: 2 for k in range(1, 7)}
    slots[NOW - 3 * SLOT_MINUTES] = 5000
    baseline = learn(slots, first_minute=NOW - 60, now_minute=NOW, warm_up_minutes=60)
    assert baseline is not None and baseline.median == 0.2
