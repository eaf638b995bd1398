"""What is usual for a device, learned from its own minute buckets with robust statistics.

Rates are counted over ten-minute slots, not single minutes: a device that reports every five
minutes has a zero in most minutes, and a median of zero would make any message look like a
flood. Median and MAD (scaled by 1.4826 to estimate a standard deviation for normal data) are
used instead of mean and standard deviation so that one earlier burst does not become normal.
A baseline exists only once the device has been watched for the whole warm-up window.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass

SLOT_MINUTES = 10
_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Baseline:
    """A device's usual message rate, per minute."""

    median: float
    mad: float
    """Median absolute deviation, scaled to estimate a standard deviation."""
    slots: int
    """How many ten-minute slots it was learned from."""

    def threshold(self, *, factor: float, deviations: float) -> float:
        """Messages per minute above which a rate is far from usual."""
        return max(self.median * factor, self.median + deviations * self.mad)

    def times_usual(self, rate: float) -> float:
        """How many times its usual rate `rate` is (a floor of one message per slot keeps a
        nearly silent device's ratio finite)."""
        return rate / max(self.median, 1 / SLOT_MINUTES)


def learn(
    slots: Mapping[int, int], *, first_minute: int, now_minute: int, warm_up_minutes: int
) -> Baseline | None:
    """The baseline over the warm-up window before `now_minute` from messages per slot (keyed
    by the slot's first minute, a multiple of `SLOT_MINUTES`), or None while the device has been
    watched for less than the window (`first_minute` is when it was first seen)."""
    if now_minute - first_minute < warm_up_minutes:
        return None
    end = now_minute - now_minute % SLOT_MINUTES  # the current slot is not over yet
    starts = range(end - max(SLOT_MINUTES, warm_up_minutes), end, SLOT_MINUTES)
    rates = [slots.get(start, 0) / SLOT_MINUTES for start in starts]
    median = statistics.median(rates)
    mad = statistics.median(abs(rate - median) for rate in rates) * _MAD_TO_SIGMA
    return Baseline(median, mad, len(rates))
