"""Consent to a stream about everyone in a shared place: collection waits until every occupant
agrees, and each of them is told how many have agreed so far, in aggregate, never who."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from goodthings.core.manifest import is_consent
from goodthings.core.store import tables as t
from goodthings.policy import agreement, inputs, people_concerned

# What a place's occupants are called, by the place's kind; "occupants" elsewhere.
_PEOPLE = {"home": ("resident", "residents"), "care-facility": ("resident", "residents")}


@dataclass(frozen=True)
class Waiting:
    """Agreement to one purpose of a stream in one shared place."""

    place: str
    """The place's name, as people know it."""
    kind: str
    agreed: int
    concerned: int

    @property
    def complete(self) -> bool:
        return self.agreed >= self.concerned


def shared_agreements(
    connection: Connection, subject_id: str, stream: str, purpose: str
) -> list[Waiting]:
    """For each shared place where `stream` (a name, or `model-id/name`) is about the person
    among others, how many of its occupants agreed to `purpose`, when it needs consent."""
    facts = inputs.read_inputs(connection)
    model_id, _, name = stream.rpartition("/")
    places = {row.id: row for row in connection.execute(select(t.places))}
    found: dict[str, Waiting] = {}
    for device in facts.devices:
        for rule in facts.rules.get(device.model_id, ()):
            if rule.name != name or (model_id and rule.model_id != model_id):
                continue
            if not any(p == purpose and is_consent(basis) for p, basis in rule.purposes):
                continue
            people = people_concerned(rule, device)
            if subject_id not in people or len(people) < 2:
                continue
            counted = agreement(rule, device, purpose, facts.choices)
            place = places.get(device.place_id)
            found[device.place_id] = Waiting(
                place.name if place is not None else device.place_id,
                place.kind if place is not None else "other",
                counted.agreed,
                counted.concerned,
            )
    return list(found.values())


def waiting_words(waiting: Waiting) -> str:
    """ "Collection waits until every resident of Flat 4 agrees: 1 of 2 residents has agreed."""
    one, many = _PEOPLE.get(waiting.kind, ("occupant", "occupants"))
    people = one if waiting.concerned == 1 else many
    if waiting.complete:
        return (
            f"Every {one} of {waiting.place} has agreed ({waiting.agreed} of "
            f"{waiting.concerned} {people}), so collection for this can go ahead."
        )
    verb = "has" if waiting.agreed == 1 else "have"
    return (
        f"Collection waits until every {one} of {waiting.place} agrees: {waiting.agreed} of "
        f"{waiting.concerned} {people} {verb} agreed."
    )
