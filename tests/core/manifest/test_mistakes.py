"""Every kind of manifest mistake an operator makes gets a message naming file, line and field.

Each case edits the valid smart-home example in one place; the expected line is the line of
the text that `at` names in the edited file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from goodthings.core.errors import ManifestError
from goodthings.core.manifest import load_manifest_text

EXAMPLE = (Path(__file__).resolve().parents[3] / "examples" / "smart-home.yaml").read_text()


@dataclass(frozen=True)
class Mistake:
    old: str
    new: str
    field: str
    message: str
    at: str
    """A piece of text on the line the error must name (searched in the edited file)."""


MISTAKES = {
    "unknown DPV purpose": Mistake(
        "purpose: PaymentManagement\n            legal_basis: Contract",
        "purpose: PaymentManagment\n            legal_basis: Contract",
        "device_models[0].streams[0].purposes[0].purpose",
        "'PaymentManagment' is not a DPV purpose term; did you mean PaymentManagement",
        "purpose: PaymentManagment",
    ),
    "unknown legal basis": Mistake(
        "legal_basis: Contract\n            how:\n              en: Your supplier",
        "legal_basis: Contrat\n            how:\n              en: Your supplier",
        "device_models[0].streams[0].purposes[0].legal_basis",
        "did you mean Contract",
        "legal_basis: Contrat",
    ),
    "unknown personal data category": Mistake(
        "data_category: Household",
        "data_category: Houshold",
        "device_models[0].streams[0].data_category",
        "'Houshold' is not a DPV personal data category term; did you mean Household",
        "data_category: Houshold",
    ),
    "device of a model that does not exist": Mistake(
        "model: thermia-t5\n    place",
        "model: thermia-t6\n    place",
        "devices[1].model",
        "there is no device model 'thermia-t6'; known device models: opensense-d1",
        "model: thermia-t6",
    ),
    "device in a place that does not exist": Mistake(
        "model: opensense-d1\n    place: flat-4",
        "model: opensense-d1\n    place: flat-5",
        "devices[2].place",
        "there is no place 'flat-5'; known places: flat-4",
        "place: flat-5",
    ),
    "two devices with one id": Mistake(
        "id: front-door",
        "id: meter-1",
        "devices[2].id",
        "'meter-1' is used twice; each must be unique (first used at devices[0].id)",
        "id: meter-1\n    name:\n      en: Front door sensor",
    ),
    "recipient purpose not among the stream's": Mistake(
        "recipient: northgrid-energy\n            purpose: PaymentManagement",
        "recipient: northgrid-energy\n            purpose: ServiceProvision",
        "device_models[0].streams[0].recipients[0].purpose",
        "ServiceProvision is not one of this stream's purposes",
        "purpose: ServiceProvision\n            terms:\n              en: Used only",
    ),
    "recipient that is not declared": Mistake(
        "- recipient: uni-energy-study",
        "- recipient: uni-study",
        "device_models[0].streams[0].recipients[1].recipient",
        "there is no recipient 'uni-study'; known recipients: northgrid-energy, uni-energy-study",
        "recipient: uni-study",
    ),
    "personal stream without retention": Mistake(
        "        retention: P7D\n        minimisation: [exact, off]\n        automation:",
        "        minimisation: [exact, off]\n        automation:",
        "device_models[2].streams[0].retention",
        "a personal stream needs a retention period, such as P30D",
        "- name: open",
    ),
    "personal purpose without legal basis": Mistake(
        "            legal_basis: Contract\n            how:\n              en: The heating uses it",
        "            how:\n              en: The heating uses it",
        "device_models[1].streams[1].purposes[0].legal_basis",
        "purpose ServiceProvision of a personal stream needs a legal basis",
        "- purpose: ServiceProvision\n            how:\n              en: The heating uses it",
    ),
    "consent from someone who cannot be reached": Mistake(
        "    contact: alex.rivera@mail.example\n",
        "",
        "device_models[0].streams[0].purposes[1].legal_basis",
        "consent is needed from subject 'alex', who has no contact",
        "legal_basis: Consent\n            how:\n              en: The energy dashboard",
    ),
    "wearable with nobody wearing it": Mistake(
        '    firmware: "2.0.5"\n    subject: alex\n',
        '    firmware: "2.0.5"\n',
        "device_models[4].streams[0].purposes[0].legal_basis",
        "consent is needed from the wearer of device 'band-alex', but the device names no subject",
        "legal_basis: ExplicitlyExpressedConsent\n            special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows your resting",
    ),
    "passers-by asked for consent": Mistake(
        "about: wearer\n        data_category: PhysicalHealth\n        purposes:\n          - purpose: ServicePersonalisation\n            legal_basis: ExplicitlyExpressedConsent\n            special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
        "about: passers-by\n        data_category: PhysicalHealth\n        purposes:\n          - purpose: ServicePersonalisation\n            legal_basis: ExplicitlyExpressedConsent\n            special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
        "device_models[4].streams[1].purposes[0].legal_basis",
        "passers-by cannot be asked for consent",
        "legal_basis: ExplicitlyExpressedConsent\n            special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
    ),
    "special category without an Art. 9 condition": Mistake(
        "special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
        "how:\n              en: The wellbeing app shows how",
        "device_models[4].streams[1].purposes[0].special_category_condition",
        "PhysicalHealth is a special category of personal data (GDPR Art. 9), so purpose "
        "ServicePersonalisation needs a special_category_condition",
        "- purpose: ServicePersonalisation\n            legal_basis: ExplicitlyExpressedConsent\n"
        "            how:\n              en: The wellbeing app shows how",
    ),
    "Art. 9 condition where no special category is processed": Mistake(
        "legal_basis: Contract\n            how:\n              en: Your supplier",
        "legal_basis: Contract\n            special_category_condition: A9-2-h\n            how:\n              en: Your supplier",
        "device_models[0].streams[0].purposes[0].special_category_condition",
        "only a special category of personal data (GDPR Art. 9), such as Health, needs a "
        "special_category_condition; remove it",
        "special_category_condition: A9-2-h",
    ),
    "explicit-consent condition on plain consent": Mistake(
        "legal_basis: ExplicitlyExpressedConsent\n            special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
        "legal_basis: Consent\n            special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
        "device_models[4].streams[1].purposes[0].legal_basis",
        "A9-2-a is explicit consent, so purpose ServicePersonalisation needs the legal basis "
        "ExplicitlyExpressedConsent",
        "legal_basis: Consent\n            special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
    ),
    "unknown Art. 9 condition": Mistake(
        "special_category_condition: A9-2-a\n            how:\n              en: The wellbeing app shows how",
        "special_category_condition: A9-2-k\n            how:\n              en: The wellbeing app shows how",
        "device_models[4].streams[1].purposes[0].special_category_condition",
        "'A9-2-k' is not a DPV GDPR Art. 9 condition term",
        "special_category_condition: A9-2-k",
    ),
    "a clock skew of more than a day": Mistake(
        "  languages: [en, fr]\n",
        "  languages: [en, fr]\n  clock_skew: P2D\n",
        "deployment.clock_skew",
        "'P2D' is more than a day; a device clock that far ahead is wrong, not skewed",
        "clock_skew: P2D",
    ),
    "unknown field": Mistake(
        '    firmware: "2.0.5"\n    subject: alex\n',
        '    firmware: "2.0.5"\n    colour: red\n    subject: alex\n',
        "devices[4].colour",
        "unknown field 'colour'; valid fields here are: id, name, model, place, firmware, subject",
        "colour: red",
    ),
    "missing required field": Mistake(
        "    update_mechanism: manual\n",
        "",
        "device_models[4].update_mechanism",
        "this field is required",
        "- id: pulse-band-2",
    ),
    "the same key twice": Mistake(
        "    name: {en: Flat 4, fr: Appartement 4}\n",
        "    name: {en: Flat 4, fr: Appartement 4}\n    name: Flat four\n",
        "places[0].name",
        "the key 'name' appears twice in the same block; keep one",
        "name: Flat four",
    ),
    "id with spaces and capitals": Mistake(
        "  - id: flat-4\n",
        "  - id: Flat 4\n",
        "places[0].id",
        "'Flat 4' is not a valid id: use 1 to 63 lower-case letters, digits and hyphens",
        "id: Flat 4",
    ),
    "retention that is not a duration": Mistake(
        "retention: P13M",
        "retention: 13 months",
        "device_models[0].streams[0].retention",
        "'13 months' is not an ISO 8601 duration; write it like P30D",
        "retention: 13 months",
    ),
    "firmware the model does not have": Mistake(
        'firmware: "1.8.0"\n',
        'firmware: "1.9.0"\n',
        "devices[2].firmware",
        "firmware '1.9.0' is not one of model 'opensense-d1''s versions (1.8.0)",
        'firmware: "1.9.0"',
    ),
    "coarse level without a step": Mistake(
        "        coarse_step: 5\n",
        "",
        "device_models[4].streams[0].coarse_step",
        "`coarse` needs a coarse_step",
        "- name: heart_rate",
    ),
    "automated decisions not explained": Mistake(
        "          description:\n            en: The heating lowers the temperature by itself when a room is empty.\n"
        '            fr: "Le chauffage baisse la température de lui-même quand une pièce est vide."\n',
        "",
        "device_models[3].streams[0].automation.description",
        "automated decisions or profiling must be explained in plain words",
        "automation:\n          automated_decisions: true\n\n  - id: pulse-band-2",
    ),
    "application wants a stream that does not exist": Mistake(
        "streams: [temperature, setpoint]",
        "streams: [temperature, set-point]",
        "applications[1].streams[1]",
        "there is no stream 'set-point'",
        "streams: [temperature, set-point]",
    ),
    "application wants a stream for a purpose it is not collected for": Mistake(
        "streams: [power, presence]",
        "streams: [power, presence, temperature]",
        "applications[0].streams[2]",
        "stream 'temperature' is not collected for any of this application's purposes",
        "streams: [power, presence, temperature]",
    ),
    "place of an unknown kind": Mistake(
        "kind: home",
        "kind: house",
        "places[0].kind",
        "'house' is not allowed; input should be 'home', 'care-facility'",
        "kind: house",
    ),
    "disclosure contact that is not an address": Mistake(
        "contact: mailto:security@maplecourt.example",
        "contact: security@maplecourt.example",
        "operator.vulnerability_disclosure.contact",
        "write the contact as a URI: mailto:",
        "contact: security@maplecourt.example",
    ),
    "occupant who is not a subject": Mistake(
        "occupants: [alex, sam]",
        "occupants: [alex, kim]",
        "places[0].occupants[1]",
        "there is no subject 'kim'; known subjects: alex, sam",
        "occupants: [alex, kim]",
    ),
    "a monitoring profile allowing a stream its model lacks": Mistake(
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n",
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n"
        "    monitoring:\n      allowed_streams: [temperature, humidity]\n",
        "device_models[1].monitoring.allowed_streams[1]",
        "model 'thermia-t5' has no stream 'humidity'; its streams are setpoint, temperature",
        "allowed_streams: [temperature, humidity]",
    ),
    "a monitoring action that does not exist": Mistake(
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n",
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n"
        "    monitoring:\n      actions:\n        flood: shutdown\n",
        "device_models[1].monitoring.actions.flood",
        "'alert' or 'quarantine'",
        "flood: shutdown",
    ),
    "a monitoring rate of zero": Mistake(
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n",
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n"
        "    monitoring:\n      max_rate: 0\n",
        "device_models[1].monitoring.max_rate",
        "greater than 0",
        "max_rate: 0",
    ),
    "a monitoring interval that is not a duration": Mistake(
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n",
        "support_until: 2030-12-31\n    update_mechanism: operator-initiated\n"
        "    monitoring:\n      interval: 5 minutes\n",
        "device_models[1].monitoring.interval",
        "not an ISO 8601 duration",
        "interval: 5 minutes",
    ),
}


def _line_of(text: str, fragment: str) -> int:
    index = text.index(fragment)
    return text.count("\n", 0, index) + 1


@pytest.mark.parametrize("case", MISTAKES.values(), ids=MISTAKES.keys())
def test_mistake_is_named_with_file_line_field_and_remedy(case: Mistake) -> None:
    assert EXAMPLE.count(case.old) == 1, "the case must edit exactly one place"
    edited = EXAMPLE.replace(case.old, case.new)
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(edited, "home.yaml")
    problems = raised.value.problems
    matching = [p for p in problems if p.field == case.field]
    assert matching, f"no problem for {case.field}; got {[str(p) for p in problems]}"
    problem = matching[0]
    assert case.message in problem.message
    assert problem.file == "home.yaml"
    assert problem.line == _line_of(edited, case.at)
    assert str(problem).startswith(f"home.yaml:{problem.line}: {case.field}: ")


def test_yaml_syntax_error_names_the_line() -> None:
    edited = EXAMPLE.replace("occupants: [alex, sam]", "occupants: [alex, sam")
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(edited, "home.yaml")
    (problem,) = raised.value.problems
    assert problem.field == "(syntax)"
    assert "not valid YAML" in problem.message
    assert problem.line is not None
    assert abs(problem.line - _line_of(edited, "occupants: [alex, sam")) <= 2


def test_every_problem_is_reported_not_only_the_first() -> None:
    edited = EXAMPLE.replace("kind: home", "kind: house").replace(
        "data_category: Household", "data_category: Houshold"
    )
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(edited, "home.yaml")
    fields = {p.field for p in raised.value.problems}
    assert {"places[0].kind", "device_models[0].streams[0].data_category"} <= fields
    assert str(raised.value).startswith("the manifest has 2 problems")


@pytest.mark.parametrize("word", ["off", "no", "yes", "on"])
def test_yaml_words_that_look_boolean_stay_words(word: str) -> None:
    from goodthings.core.manifest.source import load_yaml

    assert load_yaml(f"level: {word}\nflag: true\n", "f.yaml").data == {"level": word, "flag": True}


def test_empty_file_is_refused() -> None:
    with pytest.raises(ManifestError, match="the file is empty"):
        load_manifest_text("", "empty.yaml")


def test_a_device_in_an_unknown_place_is_one_problem_not_two() -> None:
    """The missing place is the mistake; "the place lists no occupants" would mislead."""
    edited = EXAMPLE.replace(
        "model: opensense-d1\n    place: flat-4", "model: opensense-d1\n    place: flat-5"
    )
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(edited, "home.yaml")
    messages = [p.message for p in raised.value.problems]
    assert not [m for m in messages if "lists no occupants" in m], messages
    assert [m for m in messages if "there is no place 'flat-5'" in m]


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("400", "less than or equal to 365"),
        ("soon", "integer"),
    ],
)
def test_a_patch_window_out_of_range_names_its_line(days: str, message: str) -> None:
    edited = EXAMPLE + f"\nsecurity:\n  advisories:\n    patch_within_days: {days}\n"
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(edited, "home.yaml")
    [problem] = raised.value.problems
    assert problem.field == "security.advisories.patch_within_days"
    assert message in problem.message
    assert problem.line == _line_of(edited, f"patch_within_days: {days}")
