"""The gate: from the declared streams and the consent records, what may be collected.

Pure: it takes plain values and returns decisions, so every rule is testable without a database.
The rules, for each (device, stream):

* a stream that is not personal is collected exactly;
* each purpose of a personal stream allows collection if its legal basis is not consent
  (at the finest level the stream offers), or if every person it is about gave consent for it
  (at the coarsest level any of them chose);
* the stream is collected at the finest level any purpose allows; with no purpose allowing it,
  readings are dropped, counted by reason, and never stored.

Consents here are those without a recipient: consent to share with a recipient decides what is
shared, not what is collected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from goodthings.core.manifest import is_consent
from goodthings.policy.decisions import DevicePolicy, Level, Reason, StreamDecision

# From most to least detail; "off" collects nothing.
LEVELS: tuple[Level, ...] = tuple(Level)
_RANK = {level: rank for rank, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class StreamRule:
    """What the manifest declares about one stream of a device model."""

    stream_id: int
    model_id: str
    name: str
    personal: bool
    about: str | None
    purposes: tuple[tuple[str, str | None], ...]
    """(purpose, legal basis) pairs."""
    levels: tuple[Level, ...]
    coarse_step: float | None = None
    aggregate_seconds: float | None = None
    unit: str | None = None
    """The SenML unit the stream's readings are stored in, if the manifest declares one."""


@dataclass(frozen=True)
class DeviceFacts:
    device_id: str
    model_id: str
    place_id: str
    subject_id: str | None
    occupants: tuple[str, ...] = ()
    senml_name: str | None = None


@dataclass(frozen=True)
class Choice:
    """A person's current consent for one (stream, purpose): given or not, and at which level."""

    given: bool
    level: Level = Level.exact


ConsentKey = tuple[str, int, str]
"""(subject id, stream id, purpose)."""


def people_concerned(rule: StreamRule, device: DeviceFacts) -> tuple[str, ...]:
    """Whose consent a consent-based purpose of this stream needs on this device."""
    if not rule.personal:
        return ()
    if rule.about in {"owner", "wearer"}:
        return (device.subject_id,) if device.subject_id else ()
    if rule.about == "occupant":
        return device.occupants
    return ()


def key_holder(rule: StreamRule, device: DeviceFacts) -> str | None:
    """Whose data key protects the stream's values: one person, or the place they share."""
    if not rule.personal:
        return None
    people = people_concerned(rule, device)
    if len(people) == 1:
        return people[0]
    return f"place:{device.place_id}"


def decide(
    rule: StreamRule, device: DeviceFacts, choices: Mapping[ConsentKey, Choice]
) -> StreamDecision:
    """The decision for one stream of one device, given everyone's current choices."""
    holder = key_holder(rule, device)
    extras = {"coarse_step": rule.coarse_step, "aggregate_seconds": rule.aggregate_seconds}
    if not rule.personal:
        return StreamDecision(rule.stream_id, False, True, Level.exact, None, None, **extras)
    finest_offered = next((level for level in LEVELS[:-1] if level in rule.levels), Level.off)
    people = people_concerned(rule, device)
    allowed: list[Level] = []
    someone_chose_off = False
    for purpose, basis in rule.purposes:
        if not is_consent(basis):
            allowed.append(finest_offered)
            continue
        if not people:
            continue
        chosen = [choices.get((person, rule.stream_id, purpose)) for person in people]
        if not all(choice is not None and choice.given for choice in chosen):
            continue
        coarsest = max((c.level for c in chosen if c is not None), key=_RANK.__getitem__)
        if coarsest == Level.off:
            someone_chose_off = True
            continue
        allowed.append(coarsest)
    allowed = [level for level in allowed if level != Level.off]
    if not allowed:
        reason = Reason.level_off if someone_chose_off else Reason.no_consent
        return StreamDecision(rule.stream_id, True, False, Level.off, reason, holder, **extras)
    level = min(allowed, key=_RANK.__getitem__)
    return StreamDecision(rule.stream_id, True, True, level, None, holder, **extras)


def decide_all(
    devices: Sequence[DeviceFacts],
    rules: Mapping[str, Sequence[StreamRule]],
    choices: Mapping[ConsentKey, Choice],
) -> dict[str, DevicePolicy]:
    """Every device's policy: `rules` maps a model id to its streams."""
    return {
        device.device_id: DevicePolicy(
            device.device_id,
            {rule.name: decide(rule, device, choices) for rule in rules.get(device.model_id, ())},
            device.senml_name,
        )
        for device in devices
    }


@dataclass(frozen=True)
class Agreement:
    """How many of the people a stream is about agreed to one of its purposes: a purpose based
    on consent allows collection only once all of them have (see `decide`)."""

    agreed: int
    concerned: int

    @property
    def complete(self) -> bool:
        return self.agreed >= self.concerned


def agreement(
    rule: StreamRule, device: DeviceFacts, purpose: str, choices: Mapping[ConsentKey, Choice]
) -> Agreement:
    """Who of the people concerned gave consent for `purpose` at a level other than off,
    counted the way `decide` counts them."""
    people = people_concerned(rule, device)
    agreed = 0
    for person in people:
        choice = choices.get((person, rule.stream_id, purpose))
        if choice is not None and choice.given and choice.level != Level.off:
            agreed += 1
    return Agreement(agreed, len(people))
