"""Who may read which readings, case by case: applications, recipients and the person."""

from __future__ import annotations

from goodthings.policy import reads
from goodthings.policy.gate import Choice, ConsentKey, DeviceFacts, StreamRule

WEARABLE = DeviceFacts("band", "band-model", "flat", "alex")
SHARED_FLAT = DeviceFacts("sensor", "sensor-model", "flat", None, ("alex", "sam"))
CONSENT = ("OptimisationForConsumer", "Consent")
RESEARCH = ("ResearchAndDevelopment", "Consent")
CONTRACT = ("PaymentManagement", "Contract")
LEVELS = ("exact", "coarse", "aggregate", "off")


def rule(about: str | None, *purposes: tuple[str, str | None]) -> StreamRule:
    return StreamRule(7, "m", "s", about is not None, about, tuple(purposes), LEVELS, 5.0, 3600.0)


def given(
    *people: str, level: str = "exact", purpose: str = CONSENT[0]
) -> dict[ConsentKey, Choice]:
    return {(person, 7, purpose): Choice(True, level) for person in people}


def _app(
    stream: StreamRule,
    device: DeviceFacts,
    choices: dict[ConsentKey, Choice],
    purpose: str = CONSENT[0],
    *,
    automated: bool = False,
    objections: frozenset[tuple[str, int]] = frozenset(),
) -> reads.ReadDecision:
    return reads.for_application(
        stream, device, choices, purpose, automated=automated, objections=objections
    )


def test_an_application_reads_a_consent_purpose_only_once_everyone_concerned_agreed() -> None:
    stream = rule("occupant", CONSENT)
    assert _app(stream, SHARED_FLAT, given("alex")).withheld == "no_consent"
    decision = _app(stream, SHARED_FLAT, given("alex", "sam"))
    assert (decision.allowed, decision.gate.level) == (True, "exact")


def test_an_application_reads_at_the_coarsest_level_anyone_concerned_chose() -> None:
    choices = {**given("alex"), **given("sam", level="aggregate")}
    decision = _app(rule("occupant", CONSENT), SHARED_FLAT, choices)
    assert (decision.allowed, decision.gate.level) == (True, "aggregate")


def test_an_application_reads_only_for_the_purpose_it_names() -> None:
    stream = rule("wearer", CONTRACT, CONSENT)
    # The contract purpose collects the stream, but reading for the consent purpose needs consent.
    assert _app(stream, WEARABLE, {}, CONSENT[0]).withheld == "no_consent"
    assert _app(stream, WEARABLE, {}, CONTRACT[0]).allowed
    assert _app(stream, WEARABLE, given("alex"), RESEARCH[0]).withheld == "no_consent"


def test_a_choice_of_off_withholds_with_its_reason() -> None:
    decision = _app(rule("wearer", CONSENT), WEARABLE, given("alex", level="off"))
    assert (decision.allowed, decision.withheld) == (False, "level_off")


def test_an_objection_withholds_automated_reads_only() -> None:
    stream, objections = rule("occupant", CONTRACT), frozenset({("sam", 7)})
    assert _app(stream, SHARED_FLAT, {}, CONTRACT[0], objections=objections).allowed
    automated = _app(stream, SHARED_FLAT, {}, CONTRACT[0], automated=True, objections=objections)
    assert (automated.allowed, automated.withheld) == (False, reads.OBJECTED)


def test_a_recipient_reads_what_its_consents_allow_for_the_shared_purpose() -> None:
    stream = rule("wearer", CONSENT)
    assert reads.for_recipient(stream, WEARABLE, {}, CONSENT[0]).withheld == "no_consent"
    decision = reads.for_recipient(stream, WEARABLE, given("alex", level="coarse"), CONSENT[0])
    assert (decision.allowed, decision.gate.level) == (True, "coarse")


def test_the_person_reads_their_own_streams_exactly_whatever_they_consented_to() -> None:
    for stream in (rule("wearer", CONSENT), rule("wearer", CONTRACT)):
        decision = reads.for_person(stream, WEARABLE, "alex")
        assert (decision.allowed, decision.gate.level, decision.gate.holder) == (
            True,
            "exact",
            "alex",
        )


def test_each_person_in_a_household_reads_its_shared_streams() -> None:
    for person in ("alex", "sam"):
        decision = reads.for_person(rule("occupant", CONSENT), SHARED_FLAT, person)
        assert (decision.allowed, decision.gate.holder) == (True, "place:flat")


def test_nobody_reads_someone_elses_stream_as_their_own() -> None:
    decision = reads.for_person(rule("wearer", CONSENT), WEARABLE, "sam")
    assert (decision.allowed, decision.withheld) == (False, reads.NOT_ABOUT_THEM)
    assert not reads.for_person(rule(None, ("ServiceProvision", None)), WEARABLE, "alex").allowed
