"""Minimisation: keep less detail than a device sent, by one rule for ingest and for reads.

The ingest pipeline minimises what it stores and purpose-bound reads (and the webhooks that
borrow them) minimise what they hand out; both call this module, so a level means the same
wherever it is applied. Pure functions over points, a point being (time, value):

| value                 | `exact` | `coarse`                          | `aggregate` (per window)        |
| --------------------- | ------- | --------------------------------- | ------------------------------- |
| number, or SenML sum  | kept    | rounded to a multiple of the step | the mean                        |
| boolean               | kept    | kept: a yes/no has nothing finer  | the share that were true (0..1) |
| text                  | kept    | withheld                          | the most frequent text          |
| data (bytes)          | kept    | withheld                          | withheld                        |

`off` keeps nothing. The choices, and why:

* An aggregate window is stamped at its start (Unix seconds, a multiple of the window), never at
  a reading's time: a summary then discloses neither when any reading was taken nor when the
  last one arrived. Windows come out oldest first, whatever order the points came in. A call
  summarises only the points it is given: the pipeline gives one pack's, so a later pack's
  summary of a window it already stored is refused by the store as a duplicate.
* Rounding uses Python's `round` (half to even), so a number moves by at most half a step and
  rounding a rounded value changes nothing.
* A mean is exactly rounded (`math.fsum`), so it does not depend on the order of the readings,
  and never leaves the range of the values it summarises.
* A boolean counts as 1 or 0, so a boolean stream's summary is the share of readings that were
  true, and a window mixing numbers and booleans is still a mean.
* Where a level cannot give up detail for a kind of value, the value is withheld instead of
  being kept finer than the level allows: text and data cannot be rounded; opaque data has no
  summary (its most frequent value could be a whole image); and a window that mixes text with
  other kinds, or holds a reading with no value, has no single summary. The manifest only allows
  `coarse` on number streams, so these cases come from a device that sends another type than
  its stream declares. The pipeline counts what it withholds as `unminimisable`.
* `coarse` without a step, or `aggregate` without a window, withholds every reading: the
  manifest requires both, but a consent given before the manifest dropped them can still ask
  for the level, and keeping readings exact would disclose more than the person chose.
* A tie between equally frequent texts goes to the first in sort order, again so that the order
  of the readings does not matter.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from goodthings.core.errors import PolicyError
from goodthings.core.keys import Value
from goodthings.policy.decisions import Level

__all__ = ["Minimised", "Point", "aggregate", "coarse", "minimise"]

Point = tuple[float, Value | None]
"""A reading as minimisation sees it: (Unix seconds, value); a SenML record that carries only a
sum has the sum as its value. None stands for a reading without a value."""

Minimised = tuple[float, Value | None, int]
"""A reading after minimisation: (Unix seconds, value, how many readings it stands for)."""


def minimise(
    points: Iterable[Point], level: Level, *, step: float | None, window: float | None
) -> list[Minimised]:
    """The points at `level`: never finer than the level allows."""
    if level == Level.exact:
        return [(time, value, 1) for time, value in points]
    if level == Level.coarse:
        return [] if step is None else coarse(points, step)
    if level == Level.aggregate:
        return [] if window is None else aggregate(points, window)
    if level == Level.off:
        return []
    raise PolicyError(f"{level!r} is not a level; the levels are: {', '.join(Level)}")


def coarse(points: Iterable[Point], step: float) -> list[Minimised]:
    """Each number rounded to a multiple of `step`; booleans kept; anything else withheld."""
    kept: list[Minimised] = []
    append = kept.append
    for time, value in points:
        if isinstance(value, float):
            append((time, round(value / step) * step, 1))
        elif isinstance(value, bool):
            append((time, value, 1))
    return kept


def aggregate(points: Iterable[Point], window: float) -> list[Minimised]:
    """One summary per window of `window` seconds, stamped at the window's start, oldest first."""
    windows: dict[float, list[Value | None]] = {}
    current: float | None = None
    members: list[Value | None] = []
    for time, value in points:
        key = time // window
        if key != current:  # readings mostly come in time order: look a window up once
            members = windows.setdefault(key, [])
            current = key
        members.append(value)
    summaries: list[Minimised] = []
    for key in sorted(windows):
        values = windows[key]
        summary = _summary(values)
        if summary is not None:
            summaries.append((key * window, summary, len(values)))
    return summaries


def _summary(values: list[Value | None]) -> float | str | None:
    """The mean of numbers and booleans, the most frequent text, or None when there is none."""
    numbers = [value for value in values if isinstance(value, float)]
    if len(numbers) != len(values):
        numbers = [float(value) for value in values if isinstance(value, float | int)]
    if len(numbers) == len(values):
        return _mean(numbers)
    texts = [value for value in values if isinstance(value, str)]
    if len(texts) == len(values):
        counts = Counter(texts)
        return min(counts, key=lambda text: (-counts[text], text))
    return None


def _mean(numbers: list[float]) -> float:
    count = len(numbers)
    try:
        mean = math.fsum(numbers) / count
    except OverflowError:  # numbers near the largest float: divide first, then add
        mean = math.fsum(number / count for number in numbers)
    return min(max(mean, min(numbers)), max(numbers))
