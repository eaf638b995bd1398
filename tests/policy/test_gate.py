"""The gate's rules, case by case: what is collected, how finely, and why not."""

from __future__ import annotations

import pytest

from goodthings.policy.decisions import Reason
from goodthings.policy.gate import (
    Choice,
    DeviceFacts,
    StreamRule,
    agreement,
    decide,
    key_holder,
)

WEARABLE = DeviceFacts("band", "band-model", "flat", "alex")
SHARED_FLAT = DeviceFacts("sensor", "sensor-model", "flat", None, ("alex", "sam"))
STREET = DeviceFacts("counter", "counter-model", "street", None)


def rule(
    about: str | None,
    *purposes: tuple[str, str | None],
    levels: tuple[str, ...] = ("exact", "coarse", "aggregate", "off"),
) -> StreamRule:
    return StreamRule(7, "m", "s", about is not None, about, tuple(purposes), levels, 5.0, 3600.0)


CONSENT = ("OptimisationForConsumer", "Consent")
RESEARCH = ("ResearchAndDevelopment", "Consent")
CONTRACT = ("PaymentManagement", "Contract")


def given(
    *people: str, level: str = "exact", purpose: str = CONSENT[0]
) -> dict[tuple[str, int, str], Choice]:
    return {(person, 7, purpose): Choice(True, level) for person in people}


def test_a_stream_that_is_not_personal_is_collected_exactly_without_a_key() -> None:
    decision = decide(rule(None, ("ServiceProvision", None)), WEARABLE, {})
    assert (decision.collect, decision.level, decision.holder) == (True, "exact", None)


def test_consent_purposes_are_off_until_consent_is_given() -> None:
    decision = decide(rule("wearer", CONSENT), WEARABLE, {})
    assert (decision.collect, decision.reason) == (False, Reason.no_consent)


def test_given_consent_collects_at_the_chosen_level() -> None:
    decision = decide(rule("wearer", CONSENT), WEARABLE, given("alex", level="coarse"))
    assert (decision.collect, decision.level, decision.holder) == (True, "coarse", "alex")


def test_withdrawn_consent_stops_collection() -> None:
    choices = {("alex", 7, CONSENT[0]): Choice(False, "off")}
    assert not decide(rule("wearer", CONSENT), WEARABLE, choices).collect


@pytest.mark.parametrize(
    "basis", ["Consent", "InformedConsent", "ExpressedConsent", "ExplicitlyExpressedConsent"]
)
def test_every_dpv_consent_type_waits_for_consent(basis: str) -> None:
    use = ("OptimisationForConsumer", basis)
    assert decide(rule("wearer", use), WEARABLE, {}).reason == Reason.no_consent
    assert decide(rule("wearer", use), WEARABLE, given("alex")).collect


def test_a_purpose_on_another_legal_basis_collects_without_consent() -> None:
    decision = decide(rule("occupant", CONTRACT, CONSENT), SHARED_FLAT, {})
    assert (decision.collect, decision.level) == (True, "exact")


def test_the_finest_level_any_purpose_allows_wins() -> None:
    choices = {
        **given("alex", level="aggregate"),
        **given("alex", level="coarse", purpose=RESEARCH[0]),
    }
    decision = decide(rule("wearer", CONSENT, RESEARCH), WEARABLE, choices)
    assert decision.level == "coarse"


def test_a_shared_space_needs_everyone_who_lives_there() -> None:
    only_alex = decide(rule("occupant", CONSENT), SHARED_FLAT, given("alex"))
    assert not only_alex.collect
    both = decide(rule("occupant", CONSENT), SHARED_FLAT, given("alex", "sam"))
    assert both.collect and both.holder == "place:flat"


def test_in_a_shared_space_the_most_cautious_choice_applies() -> None:
    choices = {**given("alex", level="exact"), **given("sam", level="aggregate")}
    assert decide(rule("occupant", CONSENT), SHARED_FLAT, choices).level == "aggregate"


def test_choosing_off_is_reported_as_the_reason() -> None:
    decision = decide(rule("wearer", CONSENT), WEARABLE, given("alex", level="off"))
    assert (decision.collect, decision.reason) == (False, Reason.level_off)


def test_passers_by_streams_use_the_place_key_and_never_consent() -> None:
    decision = decide(rule("passers-by", ("PublicBenefit", "PublicInterest")), STREET, {})
    assert (decision.collect, decision.holder) == (True, "place:street")
    assert not decide(rule("passers-by", CONSENT), STREET, {}).collect


def test_non_consent_purposes_collect_at_the_finest_level_the_stream_offers() -> None:
    decision = decide(rule("wearer", CONTRACT, levels=("aggregate", "off")), WEARABLE, {})
    assert decision.level == "aggregate"


@pytest.mark.parametrize(
    ("device", "about", "holder"),
    [
        (WEARABLE, "wearer", "alex"),
        (WEARABLE, "owner", "alex"),
        (SHARED_FLAT, "occupant", "place:flat"),
        (DeviceFacts("s", "m", "room", None, ("kim",)), "occupant", "kim"),
        (STREET, "passers-by", "place:street"),
    ],
)
def test_key_holder(device: DeviceFacts, about: str, holder: str) -> None:
    assert key_holder(rule(about, CONTRACT), device) == holder


@pytest.mark.parametrize(
    ("choices", "agreed", "complete", "collect"),
    [
        ({}, 0, False, False),
        (given("alex"), 1, False, False),
        ({**given("alex"), ("sam", 7, CONSENT[0]): Choice(True, "off")}, 1, False, False),
        ({**given("alex"), ("sam", 7, CONSENT[0]): Choice(False, "off")}, 1, False, False),
        (given("alex", "sam"), 2, True, True),
    ],
    ids=["nobody", "one", "one-and-one-off", "one-and-one-withdrawn", "both"],
)
def test_agreement_counts_the_occupants_the_gate_waits_for(
    choices: dict[tuple[str, int, str], Choice], agreed: int, complete: bool, collect: bool
) -> None:
    shared = rule("occupant", CONSENT)
    counted = agreement(shared, SHARED_FLAT, CONSENT[0], choices)
    assert (counted.agreed, counted.concerned, counted.complete) == (agreed, 2, complete)
    assert decide(shared, SHARED_FLAT, choices).collect is collect
