"""The DPV vocabularies: right names and IRIs, readable explanations, helpful suggestions."""

from __future__ import annotations

import dataclasses
import re

import pytest

from goodthings.core.manifest.vocabulary import (
    CONSENT,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    Term,
    Vocabulary,
)

DPV = "https://w3id.org/dpv#"
PD = "https://w3id.org/dpv/pd#"

VOCABULARIES = {
    "purposes": (PURPOSES, DPV),
    "personal_data_categories": (PERSONAL_DATA_CATEGORIES, PD),
    "legal_bases": (LEGAL_BASES, DPV),
}
ALL_TERMS = [
    pytest.param(vocabulary, term, id=f"{key}:{term.name}")
    for key, (vocabulary, _) in VOCABULARIES.items()
    for term in vocabulary.terms.values()
]
CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]+$")


@pytest.mark.parametrize(
    ("vocabulary", "name", "iri"),
    [
        (PURPOSES, "ServiceProvision", "https://w3id.org/dpv#ServiceProvision"),
        (PURPOSES, "ServiceOptimisation", "https://w3id.org/dpv#ServiceOptimisation"),
        (PURPOSES, "ServicePersonalisation", "https://w3id.org/dpv#ServicePersonalisation"),
        (PURPOSES, "ResearchAndDevelopment", "https://w3id.org/dpv#ResearchAndDevelopment"),
        (PURPOSES, "EnforceSecurity", "https://w3id.org/dpv#EnforceSecurity"),
        (PURPOSES, "PersonalisedAdvertising", "https://w3id.org/dpv#PersonalisedAdvertising"),
        (PURPOSES, "LegalCompliance", "https://w3id.org/dpv#LegalCompliance"),
        (PERSONAL_DATA_CATEGORIES, "Location", "https://w3id.org/dpv/pd#Location"),
        (PERSONAL_DATA_CATEGORIES, "PhysicalAddress", "https://w3id.org/dpv/pd#PhysicalAddress"),
        (PERSONAL_DATA_CATEGORIES, "Behavioural", "https://w3id.org/dpv/pd#Behavioural"),
        (PERSONAL_DATA_CATEGORIES, "Household", "https://w3id.org/dpv/pd#Household"),
        (PERSONAL_DATA_CATEGORIES, "PhysicalHealth", "https://w3id.org/dpv/pd#PhysicalHealth"),
        (PERSONAL_DATA_CATEGORIES, "MACAddress", "https://w3id.org/dpv/pd#MACAddress"),
        (LEGAL_BASES, "Consent", "https://w3id.org/dpv#Consent"),
        (LEGAL_BASES, "Contract", "https://w3id.org/dpv#Contract"),
        (LEGAL_BASES, "LegalObligation", "https://w3id.org/dpv#LegalObligation"),
        (LEGAL_BASES, "LegitimateInterest", "https://w3id.org/dpv#LegitimateInterest"),
        (LEGAL_BASES, "PublicInterest", "https://w3id.org/dpv#PublicInterest"),
        (LEGAL_BASES, "VitalInterest", "https://w3id.org/dpv#VitalInterest"),
    ],
)
def test_known_terms_are_present_with_their_iri(
    vocabulary: Vocabulary, name: str, iri: str
) -> None:
    assert name in vocabulary
    term = vocabulary.get(name)
    assert term.name == name
    assert term.iri == iri


@pytest.mark.parametrize(
    ("vocabulary", "name"),
    [
        (PURPOSES, "serviceprovision"),  # names are case-sensitive, as in DPV
        (PURPOSES, "ServiceOptimization"),  # DPV spells it the British way
        (PERSONAL_DATA_CATEGORIES, "Behavioral"),  # pre-release: the loader warns, not a term
        (PERSONAL_DATA_CATEGORIES, "ServiceProvision"),  # a purpose, not a data category
        (LEGAL_BASES, "OfficialAuthority"),
        (LEGAL_BASES, ""),
    ],
)
def test_unknown_names_are_not_terms(vocabulary: Vocabulary, name: str) -> None:
    assert name not in vocabulary
    with pytest.raises(KeyError):
        vocabulary.get(name)


def test_only_strings_can_be_terms() -> None:
    assert 42 not in PURPOSES
    assert None not in LEGAL_BASES


def test_get_names_the_kind_and_the_nearest_terms() -> None:
    with pytest.raises(KeyError, match=r"not a DPV purpose term; did you mean ServiceProvision"):
        PURPOSES.get("ServiceProvison")


@pytest.mark.parametrize(
    ("vocabulary", "typed", "first"),
    [
        (PURPOSES, "ServiceProvison", "ServiceProvision"),
        (PURPOSES, "service provision", "ServiceProvision"),
        (PURPOSES, "ServiceOptimization", "ServiceOptimisation"),
        (PURPOSES, "Personalization", "Personalisation"),
        (LEGAL_BASES, "consent", "Consent"),
        (LEGAL_BASES, "legitimate_interest", "LegitimateInterest"),
        (LEGAL_BASES, "OfficialAuthority", "OfficialAuthorityOfController"),
        (PERSONAL_DATA_CATEGORIES, "location", "Location"),
        (PERSONAL_DATA_CATEGORIES, "Behavioral", "Behavioural"),
        (PERSONAL_DATA_CATEGORIES, "ip-address", "IPAddress"),
        (PERSONAL_DATA_CATEGORIES, "Helth", "Health"),
    ],
)
def test_suggest_puts_the_intended_term_first(
    vocabulary: Vocabulary, typed: str, first: str
) -> None:
    assert vocabulary.suggest(typed)[0] == first


def test_suggest_finds_names_that_contain_the_input() -> None:
    assert {"MentalHealth", "PhysicalHealth"} <= set(PERSONAL_DATA_CATEGORIES.suggest("health", 10))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("typed", ["Research", "health", "Service", "Interest"])
def test_suggest_returns_at_most_n_distinct_valid_names(typed: str, n: int) -> None:
    for vocabulary, _ in VOCABULARIES.values():
        suggestions = vocabulary.suggest(typed, n=n)
        assert len(suggestions) <= n
        assert len(set(suggestions)) == len(suggestions)
        assert all(name in vocabulary for name in suggestions)


@pytest.mark.parametrize("typed", ["Xyzzy", "", "  ", "--"])
def test_suggest_offers_nothing_for_nonsense(typed: str) -> None:
    assert PURPOSES.suggest(typed) == []


@pytest.mark.parametrize(("vocabulary", "term"), ALL_TERMS)
def test_explanation_is_short_plain_text(vocabulary: Vocabulary, term: Term) -> None:
    assert term.explanation
    assert term.explanation == term.explanation.strip()
    assert len(term.explanation.split()) <= 20
    assert not term.explanation.endswith(".")


@pytest.mark.parametrize(("vocabulary", "term"), ALL_TERMS)
def test_label_is_short_and_present(vocabulary: Vocabulary, term: Term) -> None:
    assert term.label
    assert term.label == term.label.strip()
    assert len(term.label.split()) <= 6


@pytest.mark.parametrize(("vocabulary", "opening"), [(PURPOSES, "to "), (LEGAL_BASES, "because ")])
def test_explanations_read_on_from_a_notice(vocabulary: Vocabulary, opening: str) -> None:
    # "We use your location to ...", "... because you agreed": the notices rely on this.
    for term in vocabulary.terms.values():
        assert term.explanation.startswith(opening), term.name


@pytest.mark.parametrize("key", list(VOCABULARIES))
def test_every_iri_is_its_namespace_and_name(key: str) -> None:
    vocabulary, namespace = VOCABULARIES[key]
    assert vocabulary.namespace == namespace
    for name, term in vocabulary.terms.items():
        assert term.name == name
        assert term.iri.startswith(namespace)
        assert term.iri == namespace + name


@pytest.mark.parametrize("key", list(VOCABULARIES))
def test_names_are_unique_and_camel_case(key: str) -> None:
    vocabulary, _ = VOCABULARIES[key]
    names = vocabulary.names()
    assert names == sorted(vocabulary.terms)
    assert len({name.casefold() for name in names}) == len(names)
    for name in names:
        assert CAMEL_CASE.fullmatch(name), name


def test_vocabularies_are_sized_for_a_manifest() -> None:
    assert 40 <= len(PURPOSES.terms) <= 60
    assert len(PERSONAL_DATA_CATEGORIES.terms) >= 30
    assert len(LEGAL_BASES.terms) >= 7


def test_the_kinds_read_well_in_messages() -> None:
    assert PURPOSES.kind == "purpose"
    assert PERSONAL_DATA_CATEGORIES.kind == "personal data category"
    assert LEGAL_BASES.kind == "legal basis"


def test_consent_is_a_legal_basis() -> None:
    assert CONSENT == "Consent"
    assert CONSENT in LEGAL_BASES


def test_vocabularies_and_terms_cannot_be_changed() -> None:
    term = PURPOSES.get("ServiceProvision")
    with pytest.raises(dataclasses.FrozenInstanceError):
        term.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        PURPOSES.terms["Invented"] = term  # type: ignore[index]
    assert "Invented" not in PURPOSES


def test_a_vocabulary_keeps_its_own_copy_of_the_terms() -> None:
    terms = {"Consent": LEGAL_BASES.get("Consent")}
    vocabulary = Vocabulary(kind="legal basis", namespace=DPV, terms=terms)
    terms["Contract"] = LEGAL_BASES.get("Contract")
    assert vocabulary.names() == ["Consent"]
