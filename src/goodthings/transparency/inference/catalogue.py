"""The rule catalogue: which kinds of data, seen together, reveal something new about people.

A stream gives off *signals* (presence, energy use, location, health…), read from its DPV data
category, its unit and its name. A rule fires where all its signals are collected together in
one place, or, for rules `across_places`, where one signal is collected in two places or more.
Every reading carries its time, so time is part of every combination and never listed.
docs/transparency.md explains each rule to operators; the notices explain them to people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from goodthings.core.manifest import Stream


def N_(text: str) -> str:
    """Marks text for the notices' translation catalogues; translated where it is shown."""
    return text


# DPV personal data categories that are themselves a signal.
_CATEGORY_SIGNALS: dict[str, str] = {
    "Location": "location",
    "GPSCoordinate": "location",
    "Locality": "location",
    "TravelHistory": "location",
    "Tracking": "location",
    "RoomNumber": "location",
    "Health": "health",
    "PhysicalHealth": "health",
    "MentalHealth": "health",
    "MedicalHealth": "health",
    "HealthRecord": "health",
    "Disability": "health",
    "Household": "energy",
    "MACAddress": "device-identifier",
    "IPAddress": "device-identifier",
    "UID": "device-identifier",
    "Identifier": "device-identifier",
    "DeviceBased": "device-identifier",
}
_ENERGY_UNITS = {"W", "kW", "Wh", "kWh", "J", "VA"}
_NAME_SIGNALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"presence|occupan|motion|in_bed|pir"), "presence"),
    (re.compile(r"door|window|open"), "entry"),
    (re.compile(r"heart|pulse|spo2|blood"), "health"),
    (re.compile(r"step|activity|walk"), "activity"),
    (re.compile(r"lat|lon|location|position|gps"), "location"),
    (re.compile(r"power|energy|current"), "energy"),
)


def signals_of(stream: Stream) -> frozenset[str]:
    """The signals one stream gives off."""
    found: set[str] = set()
    if stream.data_category in _CATEGORY_SIGNALS:
        found.add(_CATEGORY_SIGNALS[stream.data_category])
    if stream.unit in _ENERGY_UNITS:
        found.add("energy")
    if stream.unit == "beat/min":
        found.add("health")
    name = stream.name.lower()
    for pattern, signal in _NAME_SIGNALS:
        if pattern.search(name):
            found.add(signal)
    return frozenset(found)


@dataclass(frozen=True)
class Rule:
    """One combination and what it reveals, in words for the people it is about."""

    id: str
    signals: frozenset[str]
    reveals: str
    """A short phrase: what can be worked out."""
    explanation: str
    """One or two plain sentences on how."""
    across_places: bool = False


RULES: tuple[Rule, ...] = (
    Rule(
        id="daily-routine",
        signals=frozenset({"presence", "energy"}),
        reveals=N_("your daily routine, and when nobody is home"),
        explanation=N_(
            "Who is in a room and how much power is used show when you get up, cook, go out and "
            "go to bed, and when the home is empty."
        ),
    ),
    Rule(
        id="comings-and-goings",
        signals=frozenset({"presence", "entry"}),
        reveals=N_("when people come and go, and when the place is empty"),
        explanation=N_(
            "A door that opens, then a room that goes quiet, shows that someone left. Over a few "
            "weeks this shows your habits."
        ),
    ),
    Rule(
        id="home-and-work",
        signals=frozenset({"location"}),
        reveals=N_("where you live, where you work and where you go"),
        explanation=N_(
            "Where you are each night shows your home. Where you are by day shows your work or "
            "school. The time of each reading makes this easy."
        ),
    ),
    Rule(
        id="health-at-a-place",
        signals=frozenset({"health", "presence"}),
        reveals=N_("your health at a given place and time"),
        explanation=N_(
            "Your heart rate or a health sign, put next to where you were, can show that you were "
            "unwell, stressed or asleep at that place."
        ),
    ),
    Rule(
        id="health-and-whereabouts",
        signals=frozenset({"health", "location"}),
        reveals=N_("your health, and where you were when it changed"),
        explanation=N_(
            "A health sign together with where you were can show a visit to a clinic, or a fall "
            "in a certain room."
        ),
    ),
    Rule(
        id="fitness-and-illness",
        signals=frozenset({"health", "activity"}),
        reveals=N_("how fit you are, and when you may be ill"),
        explanation=N_(
            "How much you move, next to your heart rate, shows how fit you are. A change can show "
            "that you are ill before you say so."
        ),
    ),
    Rule(
        id="routes-of-passers-by",
        signals=frozenset({"device-identifier"}),
        reveals=N_("the route a person takes, how fast they walk and how often they come back"),
        explanation=N_(
            "The same phone code seen by two sensors shows which way a person walked and how "
            "long it took. Seen again, it shows that they came back."
        ),
        across_places=True,
    ),
)
