"""Plausible values for a stream, from its unit and type: a day's rhythm plus a little noise."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

Generator = Callable[[float], float | bool | str]


def _daily(base: float, swing: float, noise: float, peak_hour: float) -> Generator:
    def value(now: float) -> float:
        hour = (now / 3600.0) % 24.0
        rhythm = math.cos((hour - peak_hour) / 24.0 * 2 * math.pi)
        return round(base + swing * rhythm + random.gauss(0, noise), 2)

    return value


def _chance(probability: Callable[[float], float]) -> Generator:
    def value(now: float) -> bool:
        return random.random() < probability(now)  # noqa: S311 (simulation)

    return value


def _pick(choices: tuple[str, ...]) -> Generator:
    def value(_now: float) -> str:
        return random.choice(choices)  # noqa: S311 (simulation)

    return value


def _evening(now: float) -> float:
    hour = (now / 3600.0) % 24.0
    return 0.8 if 17 <= hour <= 23 else 0.2


def _counter() -> Generator:
    total = 0.0

    def value(_now: float) -> float:
        nonlocal total
        total += random.randint(0, 12)  # noqa: S311 (simulation)
        return total

    return value


@dataclass(frozen=True)
class StreamShape:
    """How to fill one SenML record for a stream: the value and the field it goes in."""

    name: str
    unit: str | None
    field: str
    generate: Generator


_BY_UNIT: dict[str, Callable[[], Generator]] = {
    "Cel": lambda: _daily(20.5, 1.5, 0.2, 15),
    "W": lambda: _daily(450, 350, 60, 19),
    "beat/min": lambda: _daily(68, 8, 3, 14),
    "%RH": lambda: _daily(45, 8, 1.5, 6),
    "count": _counter,
    "ug/m3": lambda: _daily(9, 4, 1.2, 8),
}


def shape_for(name: str, unit: str | None, value_type: str) -> StreamShape:
    """A generator that suits the stream; falls back to a gentle daily curve."""
    if value_type == "boolean":
        return StreamShape(name, None, "vb", _chance(_evening))
    if value_type == "string":
        return StreamShape(name, unit, "vs", _pick(("idle", "active", "away")))
    factory = _BY_UNIT.get(unit or "", lambda: _daily(50, 20, 5, 12))
    return StreamShape(name, unit, "v", factory())
