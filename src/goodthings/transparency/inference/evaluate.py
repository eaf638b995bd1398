"""Evaluate the rule catalogue over a manifest: which inferences its streams make possible."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from goodthings.core.manifest import Manifest
from goodthings.transparency.inference.catalogue import RULES, Rule, signals_of


@dataclass(frozen=True)
class Inference:
    """A rule that fires in this deployment, where, and through which streams."""

    rule: Rule
    places: tuple[str, ...]
    streams: tuple[str, ...]
    """`model-id/stream-name` of every stream that contributes a signal."""

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.rule.id, self.places)


@dataclass(frozen=True)
class _Collected:
    place: str
    stream: str
    personal: bool
    signals: frozenset[str]


def _collected(manifest: Manifest) -> list[_Collected]:
    found: dict[tuple[str, str], _Collected] = {}
    for device in manifest.devices:
        model = manifest.models_by_id.get(device.model)
        if model is None:
            continue
        for stream in model.streams:
            signals = signals_of(stream)
            if signals:
                ref = f"{model.id}/{stream.name}"
                found[(device.place, ref)] = _Collected(device.place, ref, stream.personal, signals)
    return sorted(found.values(), key=lambda c: (c.place, c.stream))


def evaluate(manifest: Manifest, rules: Iterable[Rule] = RULES) -> list[Inference]:
    """Every inference the manifest makes possible, in catalogue order, then by place."""
    collected = _collected(manifest)
    places = sorted({c.place for c in collected})
    result: list[Inference] = []
    for rule in rules:
        if rule.across_places:
            involved = [c for c in collected if c.signals & rule.signals]
            where = tuple(sorted({c.place for c in involved}))
            if len(where) >= 2 and any(c.personal for c in involved):
                result.append(Inference(rule, where, tuple(sorted({c.stream for c in involved}))))
            continue
        for place in places:
            here = [c for c in collected if c.place == place and c.signals & rule.signals]
            covered = frozenset().union(*(c.signals for c in here)) if here else frozenset()
            if rule.signals <= covered and any(c.personal for c in here):
                result.append(Inference(rule, (place,), tuple(sorted({c.stream for c in here}))))
    return result


def new_inferences(before: Manifest | None, after: Manifest) -> list[Inference]:
    """Inferences `after` makes possible that `before` did not: what `apply` warns about."""
    known = {inference.key for inference in evaluate(before)} if before is not None else set()
    return [inference for inference in evaluate(after) if inference.key not in known]
