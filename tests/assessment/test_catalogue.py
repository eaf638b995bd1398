"""The controls catalogue: shipped, valid, every automatic control backed by a real check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from goodthings.assessment import CHECKS, Collection, Standard, load_catalogue, load_catalogue_text
from goodthings.core.errors import ManifestError

CATALOGUE = load_catalogue()

GOOD = """\
version: 1
controls:
  - id: principle-x
    standard: principles
    reference: somewhere
    title: A title
    summary: What is asked.
    evidence: What shows it.
    collection: automatic
    check: ledger.verifies
    not_applicable_when: Never.
"""


def test_every_automatic_control_names_a_check_that_exists() -> None:
    automatic = [c for c in CATALOGUE.controls if c.collection is Collection.automatic]
    assert automatic
    assert [c.id for c in automatic if c.check not in CHECKS] == []


def test_every_check_is_used_by_a_control() -> None:
    used = {c.check for c in CATALOGUE.controls}
    assert set(CHECKS) - used == set()


@pytest.mark.parametrize("standard", list(Standard))
def test_every_standard_has_controls(standard: Standard) -> None:
    assert CATALOGUE.of(standard)


def test_etsi_controls_use_the_published_provision_ids() -> None:
    shape = re.compile(r"^etsi-(5\.([1-9]|1[0-3])-\d+|6-\d+)$")
    etsi = CATALOGUE.of(Standard.etsi)
    assert [c.id for c in etsi if not shape.match(c.id)] == []
    for control in etsi:
        assert control.reference == f"ETSI EN 303 645 provision {control.id.removeprefix('etsi-')}"


def test_psti_covers_the_three_paragraphs_of_schedule_1() -> None:
    references = " ".join(c.reference for c in CATALOGUE.of(Standard.psti))
    for paragraph in ("paragraph 1", "paragraph 2", "paragraph 3"):
        assert paragraph in references


def test_nist_covers_the_six_capabilities_of_8259a_and_the_ten_of_8425() -> None:
    ids = [c.id for c in CATALOGUE.of(Standard.nist)]
    assert len([i for i in ids if i.startswith("nist-8259a-")]) == 6
    assert len([i for i in ids if i.startswith("nist-8425-")]) == 10


def test_the_cra_covers_every_point_of_annex_i() -> None:
    references = [c.reference for c in CATALOGUE.of(Standard.cra)]
    part_one = [r.rsplit(" ", 1)[-1] for r in references if "Part I point" in r]
    assert part_one == ["1", *(f"2({letter})" for letter in "abcdefghijklm")]
    part_two = [r.rsplit(" ", 1)[-1] for r in references if "Part II point" in r]
    assert part_two == [str(n) for n in range(1, 9)]


def test_en_18031_names_its_mechanisms() -> None:
    mechanisms = {
        c.reference.rsplit("(", 1)[-1].rstrip(")") for c in CATALOGUE.of(Standard.en18031)
    }
    assert {
        "ACM",
        "AUM",
        "SUM",
        "SSM",
        "SCM",
        "RLM",
        "CCK",
        "GEC",
        "CRY",
        "DLM",
        "LGM",
    } <= mechanisms


def test_a_valid_catalogue_loads() -> None:
    assert load_catalogue_text(GOOD).controls[0].check == "ledger.verifies"


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        ("    check: ledger.verifies\n", 3, "an automatic control names its check"),
        ("    collection: automatic\n", 3, "Field required"),
        ("    standard: principles\n", 4, "Input should be"),
        ("    title: A title\n", 3, "Field required"),
    ],
    ids=["automatic-without-check", "check-without-collection", "no-standard", "no-title"],
)
def test_a_mistake_names_file_line_and_field(change: str, line: int, words: str) -> None:
    text = GOOD.replace(change, "")
    if change.startswith("    standard"):
        text = GOOD.replace(change, "    standard: iso\n")
    with pytest.raises(ManifestError) as caught:
        load_catalogue_text(text, "controls.yaml")
    assert f"controls.yaml:{line}" in str(caught.value)
    assert words in str(caught.value)
    assert str(caught.value).startswith("the controls catalogue has 1 problem")


def test_an_unknown_field_is_refused_with_its_line() -> None:
    with pytest.raises(ManifestError, match=r"controls.yaml:12: controls\[0\].colour"):
        load_catalogue_text(GOOD + "    colour: blue\n", "controls.yaml")


def test_a_control_id_twice_is_refused() -> None:
    twice = GOOD + GOOD.split("controls:\n")[1]
    with pytest.raises(ManifestError, match="principle-x appears twice"):
        load_catalogue_text(twice, "controls.yaml")


def test_every_check_is_explained_in_the_docs() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "assessment.md").read_text()
    assert [check for check in CHECKS if f"| `{check}` |" not in docs] == []
