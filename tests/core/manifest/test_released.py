"""The manifest follows DPV as released: every term exists, pre-release names warn, Art. 9 holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from goodthings.core.manifest import (
    ART9_CONDITIONS,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    RELEASE,
    RENAMED,
    is_consent,
    is_special,
    load_manifest_text,
)

EXAMPLE = (Path(__file__).resolve().parents[3] / "examples" / "smart-home.yaml").read_text()
PD = "https://w3id.org/dpv/pd#"
DPV = "https://w3id.org/dpv#"

CURATED = [
    pytest.param(term.iri, id=f"{vocabulary.kind}:{term.name}")
    for vocabulary in (PURPOSES, PERSONAL_DATA_CATEGORIES, LEGAL_BASES, ART9_CONDITIONS)
    for term in vocabulary.terms.values()
]


@pytest.mark.parametrize("iri", CURATED)
def test_every_accepted_term_is_in_the_released_vocabulary(iri: str) -> None:
    assert RELEASE.defines(iri)


@pytest.mark.parametrize(
    ("old", "new", "namespace"),
    [
        ("Behavioral", "Behavioural", PD),
        ("ServiceConsumptionBehavior", "ServiceConsumptionBehaviour", PD),
        ("TVViewingBehavior", "TVViewingBehaviour", PD),
        ("RightsFulfillment", "RightsFulfilment", DPV),
    ],
)
def test_pre_release_names_map_to_released_terms(old: str, new: str, namespace: str) -> None:
    assert not RELEASE.defines(namespace + old)
    assert RELEASE.defines(namespace + new)
    assert RENAMED[old] == new


@pytest.mark.parametrize(
    ("vocabulary", "names"),
    [
        (
            PERSONAL_DATA_CATEGORIES,
            [
                "EthnicOrigin",
                "Race",
                "Religion",
                "PhilosophicalBelief",
                "PoliticalOpinion",
                "TradeUnionMembership",
                "Genetic",
                "Biometric",
                "Health",
                "Sexual",
                "SexualPreference",
                "Criminal",
                "Financial",
                "BirthDate",
            ],
        ),
        (LEGAL_BASES, ["InformedConsent", "ExpressedConsent", "ExplicitlyExpressedConsent"]),
        (PURPOSES, ["PersonnelMonitoring", "ProtectionOfPublicSecurity", "RightsFulfilment"]),
    ],
)
def test_what_iot_deployments_need_is_accepted(vocabulary: object, names: list[str]) -> None:
    assert all(name in vocabulary for name in names)  # type: ignore[operator]


@pytest.mark.parametrize(
    "name",
    [
        "EthnicOrigin",
        "Religion",
        "PoliticalOpinion",
        "TradeUnionMembership",
        "Genetic",
        "Biometric",
        "Health",
        "PhysicalHealth",
        "Sexual",
        "SexualPreference",
    ],
)
def test_art9_categories_are_special_as_the_release_says(name: str) -> None:
    assert is_special(name)


@pytest.mark.parametrize("name", ["Location", "Behavioural", "Financial", "Criminal", None])
def test_other_categories_are_not_special(name: str | None) -> None:
    # Criminal data is GDPR Art. 10, not Art. 9: DPV does not type it a special category.
    assert not is_special(name)


@pytest.mark.parametrize(
    ("basis", "consent"),
    [
        ("Consent", True),
        ("InformedConsent", True),
        ("ExplicitlyExpressedConsent", True),
        ("Contract", False),
        (None, False),
    ],
)
def test_every_consent_type_waits_for_a_yes(basis: str | None, consent: bool) -> None:
    assert is_consent(basis) is consent


def test_a_pre_release_name_is_read_as_released_with_a_located_warning() -> None:
    edited = EXAMPLE.replace("data_category: Behavioural", "data_category: Behavioral", 1)
    line = edited[: edited.index("data_category: Behavioral")].count("\n") + 1
    loaded = load_manifest_text(edited, "home.yaml")
    [warning] = loaded.warnings
    assert (warning.file, warning.line) == ("home.yaml", line)
    assert warning.field == "device_models[2].streams[0].data_category"
    assert "'Behavioral' is a pre-release DPV name" in warning.message
    assert "calls it 'Behavioural'" in warning.message
    assert str(warning).startswith(f"home.yaml:{line}: device_models[2].streams[0]")
    stream = loaded.manifest.device_models[2].streams[0]
    assert stream.data_category == "Behavioural"


def test_an_application_purpose_with_a_pre_release_name_warns() -> None:
    edited = EXAMPLE.replace(
        "purposes: [ServiceProvision]", "purposes: [ServiceProvision, RightsFulfillment]", 1
    )
    loaded = load_manifest_text(edited, "home.yaml")
    assert [w.message.split(";")[0] for w in loaded.warnings] == [
        "'RightsFulfillment' is a pre-release DPV name"
    ]


def test_a_released_manifest_has_no_warnings() -> None:
    assert load_manifest_text(EXAMPLE, "home.yaml").warnings == ()
