"""Notices: plain language, the same content in every language, one hash per version, DPV terms."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from goodthings.core.manifest import Manifest, load_manifest_text
from goodthings.core.manifest.vocabulary import LEGAL_BASES, PERSONAL_DATA_CATEGORIES, PURPOSES
from goodthings.deployment.directory import EXAMPLES
from goodthings.transparency.notices import (
    LANGUAGES,
    NoticeNotFound,
    Scope,
    ScopeKind,
    build_notice,
    negotiate,
    render_html,
    to_jsonld,
)
from goodthings.transparency.notices.model import every_scope
from goodthings.transparency.notices.render import duration_words
from goodthings.transparency.readability import grade, visible_text

SRC = Path(__file__).resolve().parents[3] / "src" / "goodthings" / "transparency"
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"


def _example(name: str) -> Manifest:
    text = (EXAMPLES_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    return load_manifest_text(text, f"{name}.yaml").manifest


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_english_notice_reads_at_grade_8_or_below(example: str) -> None:
    manifest = _example(example)
    for scope in every_scope(manifest):
        text = visible_text(render_html(build_notice(manifest, scope), "en"))
        level = grade(text)
        assert level <= 8, f"{example} {scope}: Flesch-Kincaid grade {level}"


def test_readability_measure_catches_hard_text() -> None:
    hard = (
        "<p>The controller processes personal data pursuant to legitimate interests "
        "notwithstanding the applicable derogations established by supervisory authorities.</p>"
    )
    assert grade(visible_text(hard)) > 8


def _extracted() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for folder in ("notices", "inference", "signs"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(SRC / folder),
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")],
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        ):
            found.add(message)
    return found


def _catalogue(language: str) -> dict[str, object]:
    path = SRC / "notices" / "locale" / language / "LC_MESSAGES" / "goodthings.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    return {
        (message.id if isinstance(message.id, str) else message.id[0]): message.string
        for message in catalog
        if message.id
    }


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_message_and_every_term_the_examples_use_is_translated(language: str) -> None:
    catalogue = _catalogue(language)
    messages = _extracted()
    assert len(messages) > 50
    for message in messages:
        key = message if isinstance(message, str) else message[0]
        translated = catalogue.get(key)
        assert translated and all(translated), f"{language}: no translation for {key!r}"
    vocabularies = {"purpose": PURPOSES, "category": PERSONAL_DATA_CATEGORIES}
    for example in EXAMPLES:
        for model in _example(example).device_models:
            for stream in model.streams:
                terms = [("purpose", use.purpose) for use in stream.purposes]
                if stream.data_category:
                    terms.append(("category", stream.data_category))
                for kind, name in terms:
                    explanation = vocabularies[kind].get(name).explanation
                    assert catalogue.get(explanation), f"{language}: {name} is not translated"
                for use in stream.purposes:
                    if use.legal_basis:
                        assert catalogue.get(LEGAL_BASES.get(use.legal_basis).explanation)


def test_french_notice_is_in_french_with_the_same_version() -> None:
    notice = build_notice(_example("smart-home"))
    french = render_html(notice, "fr")
    english = render_html(notice, "en")
    assert '<html lang="fr">' in french
    assert "Ce que nous recueillons" in french and "What we collect" not in french
    assert "13 mois" in french and "13 months" in english
    assert "parce que vous avez donné votre accord" in french
    assert to_jsonld(notice, "fr")["dct:identifier"] == to_jsonld(notice, "en")["dct:identifier"]


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no notices in 'xx'"):
        render_html(build_notice(_example("smart-home")), "xx")


@pytest.mark.parametrize(
    ("header", "language"),
    [("fr-FR,fr;q=0.9,en;q=0.8", "fr"), ("de-DE,en;q=0.5", "en"), (None, "en"), ("fr", "fr")],
)
def test_language_is_negotiated_from_accept_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language


@pytest.mark.parametrize(
    ("iso", "words"),
    [
        ("P13M", "13 months"),
        ("P1D", "1 day"),
        ("PT15M", "15 minutes"),
        ("P1DT12H", "1 day and 12 hours"),
    ],
)
def test_retention_is_said_in_words(iso: str, words: str) -> None:
    assert duration_words(iso) == words


def test_the_hash_follows_the_content_not_the_formatting() -> None:
    text = (EXAMPLES_DIR / "smart-home.yaml").read_text(encoding="utf-8")
    first = build_notice(load_manifest_text(text).manifest)
    reformatted = build_notice(load_manifest_text("# a comment\n" + text).manifest)
    changed = build_notice(
        load_manifest_text(text.replace("retention: P13M", "retention: P14M")).manifest
    )
    assert first.hash == reformatted.hash
    assert first.hash != changed.hash
    assert len(first.hash) == 64


def test_a_notice_says_what_why_basis_recipients_retention_automation_and_whom_to_contact() -> None:
    html = render_html(build_notice(_example("smart-home")), "en")
    for expected in (
        "How much electricity the flat is using right now",  # what
        "Your supplier bills you for the electricity you use.",  # how it is used
        "because we need it for a contract with you",  # legal basis
        "NorthGrid Energy, another organisation.",  # recipient
        "never sold",  # terms
        "13 months",  # retention
        "A computer makes some decisions here on its own.",  # automated decisions
        "A computer builds a picture of you from this data.",  # profiling
        "Tom Okafor is responsible for this data.",  # accountable person
        "dpo@maplecourt.example",  # whom to contact
        "your daily routine, and when nobody is home",  # inference
    ):
        assert expected in html, expected


def test_scopes_narrow_the_notice() -> None:
    manifest = _example("city-street")
    square = build_notice(manifest, Scope(ScopeKind.place, "market-square"))
    assert {d.place for s in square.streams for d in s.devices} == {"market-square"}
    assert "probe" not in {s.name for s in square.streams}
    device = build_notice(manifest, Scope(ScopeKind.device, "footfall-north"))
    assert {s.name for s in device.streams} == {"footfall", "probe"}
    assert [i.rule for i in device.inferences] == ["routes-of-passers-by"]
    stream = build_notice(manifest, Scope(ScopeKind.stream, "passby-wp2/probe"))
    assert [s.ref for s in stream.streams] == ["passby-wp2/probe"]
    assert {d.id for d in stream.streams[0].devices} == {"footfall-north", "footfall-south"}
    assert {a.id for a in stream.applications} == {"journey-times"}
    with pytest.raises(NoticeNotFound, match="its places are: market-square"):
        build_notice(manifest, Scope(ScopeKind.place, "town-hall"))


@pytest.mark.parametrize("example", EXAMPLES)
def test_jsonld_names_every_purpose_category_and_basis_by_its_dpv_iri(example: str) -> None:
    manifest = _example(example)
    document = to_jsonld(build_notice(manifest))
    assert document["@context"]["dpv"] == "https://w3id.org/dpv#"
    processes = {p["dct:identifier"]: p for p in document["dpv:hasProcess"]}
    for model in manifest.device_models:
        if not any(d.model == model.id for d in manifest.devices):
            continue
        for stream in model.streams:
            for use in stream.purposes:
                process = processes[f"{model.id}/{stream.name}#{use.purpose}"]
                assert process["dpv:hasPurpose"]["@id"] == PURPOSES.get(use.purpose).iri
                if stream.personal:
                    category = PERSONAL_DATA_CATEGORIES.get(stream.data_category or "").iri
                    assert process["dpv:hasPersonalData"]["@id"] == category
                    basis = LEGAL_BASES.get(use.legal_basis or "").iri
                    assert {"@id": basis} in process["dpv:hasLegalBasis"]
                    assert process["dpv:hasStorageCondition"]["dpv:hasDuration"]["rdf:value"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_notice_pages_are_structured_for_screen_readers(example: str) -> None:
    manifest = _example(example)
    for scope in every_scope(manifest)[:4]:
        html = render_html(build_notice(manifest, scope), "en", optout_action="/passers-by")
        levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
        assert '<html lang="en">' in html and "<main>" in html
        for field in re.findall(r'<input id="([^"]+)"', html):
            assert f'<label for="{field}">' in html
