"""The DPV terms a manifest may use for purposes, personal data categories and legal bases.

A manifest names what a deployment does with personal data in the W3C Data Privacy Vocabulary,
so that its notices can be read by people and, as JSON-LD with each term's IRI, by machines.
A name that is not in DPV would silently break that second reading, so only terms listed here are
accepted, each with a plain-English explanation for the people the data is about, and a mistyped
name gets the nearest valid ones as a hint.

The terms live in `dpv_terms.yaml` beside this module, with the explanations; each must be a
term of DPV as released (`released.py`), or loading fails. Names DPV used before its release
(`Behavioral`) are kept as `RENAMED`, so a manifest written with one can be read with a warning.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from types import MappingProxyType
from typing import Any

import yaml

from goodthings.core.manifest.released import RELEASE

__all__ = [
    "ART9_CONDITIONS",
    "CONSENT",
    "CONSENT_TYPES",
    "EXPLICIT_CONSENT",
    "LEGAL_BASES",
    "PERSONAL_DATA_CATEGORIES",
    "PURPOSES",
    "RENAMED",
    "Term",
    "Vocabulary",
    "is_consent",
    "is_special",
]

_DATA_FILE = "dpv_terms.yaml"
_CUTOFF = 0.6  # difflib's default: below this, a "suggestion" is mostly noise
_MIN_SUBSTRING = 3  # shorter inputs are part of too many names to be a useful hint


@dataclass(frozen=True)
class Term:
    """One DPV term: its exact name, its IRI, a short label and a plain-English explanation."""

    name: str
    iri: str
    label: str
    explanation: str


@dataclass(frozen=True)
class Vocabulary:
    """The accepted terms of one kind, keyed by exact (case-sensitive) DPV name."""

    kind: str
    namespace: str
    terms: Mapping[str, Term] = field(hash=False)

    def __post_init__(self) -> None:
        # A read-only copy, so no caller can add an unverified term to a shared vocabulary.
        object.__setattr__(self, "terms", MappingProxyType(dict(self.terms)))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.terms

    def get(self, name: str) -> Term:
        """The term called exactly `name`; KeyError, with the nearest names, if there is none."""
        try:
            return self.terms[name]
        except KeyError:
            nearest = self.suggest(name)
            hint = f"; did you mean {' or '.join(nearest)}?" if nearest else ""
            raise KeyError(f"{name!r} is not a DPV {self.kind} term{hint}") from None

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Up to `n` valid names nearest to `name`, best first.

        Case, spaces, hyphens and underscores are ignored, so "service provision" finds
        ServiceProvision first; a name containing `name` counts as near even when difflib
        finds it too different, so "health" also finds MentalHealth and PhysicalHealth.
        """
        wanted = _fold(name)
        if n <= 0 or not wanted:
            return []
        by_fold = {_fold(term): term for term in self.terms}
        near = set(difflib.get_close_matches(wanted, by_fold, n=len(by_fold), cutoff=_CUTOFF))
        if len(wanted) >= _MIN_SUBSTRING:
            near.update(folded for folded in by_fold if wanted in folded)
        near.update(folded for folded in by_fold if folded == wanted)

        def rank(folded: str) -> tuple[bool, float, str]:
            similarity = difflib.SequenceMatcher(None, wanted, folded).ratio()
            return (folded != wanted, -similarity, by_fold[folded])

        return [by_fold[folded] for folded in sorted(near, key=rank)[:n]]

    def names(self) -> list[str]:
        """Every accepted name, sorted."""
        return sorted(self.terms)


def _fold(text: str) -> str:
    """`text` without case or separators, for comparing what a person typed with a DPV name."""
    return "".join(char for char in text.casefold() if char.isalnum())


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{_DATA_FILE}: {where}: {key!r} must be a non-empty string")
    return value


def _vocabulary(data: Mapping[str, Any], section: str) -> Vocabulary:
    block = data.get(section)
    if not isinstance(block, Mapping) or not isinstance(block.get("terms"), list):
        raise ValueError(f"{_DATA_FILE}: {section!r} must be a mapping with a list of terms")
    kind = _text(block, "kind", section)
    namespace = _text(block, "namespace", section)
    terms: dict[str, Term] = {}
    for index, entry in enumerate(block["terms"]):
        where = f"{section}.terms[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{_DATA_FILE}: {where} must be a mapping")
        name = _text(entry, "name", where)
        if name in terms:
            raise ValueError(f"{_DATA_FILE}: {where}: {name!r} is listed twice")
        if not RELEASE.defines(namespace + name):
            raise ValueError(
                f"{_DATA_FILE}: {where}: {name!r} is not a term of DPV {RELEASE.version} "
                f"({namespace}); see scripts/refresh_dpv_terms.py"
            )
        terms[name] = Term(
            name=name,
            iri=namespace + name,
            label=_text(entry, "label", where),
            explanation=_text(entry, "explanation", where),
        )
    return Vocabulary(kind=kind, namespace=namespace, terms=terms)


def _load() -> Mapping[str, Any]:
    text = files("goodthings.core.manifest").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{_DATA_FILE} must hold a mapping of vocabularies")
    return data


_DATA = _load()


def _renamed(data: Mapping[str, Any], *known: Vocabulary) -> Mapping[str, str]:
    block = data.get("renamed")
    if not isinstance(block, Mapping):
        raise ValueError(f"{_DATA_FILE}: 'renamed' must map old names to released ones")
    for old, new in block.items():
        if not any(new in vocabulary for vocabulary in known):
            raise ValueError(f"{_DATA_FILE}: renamed.{old}: {new!r} is not one of our terms")
    return MappingProxyType({str(old): str(new) for old, new in block.items()})


_DATA = _load()

PURPOSES = _vocabulary(_DATA, "purposes")
PERSONAL_DATA_CATEGORIES = _vocabulary(_DATA, "personal_data_categories")
LEGAL_BASES = _vocabulary(_DATA, "legal_bases")
ART9_CONDITIONS = _vocabulary(_DATA, "art9_conditions")
"""GDPR Art. 9(2)'s conditions, as DPV's GDPR extension names them (A9-2-a … A9-2-j)."""

RENAMED = _renamed(_DATA, PURPOSES, PERSONAL_DATA_CATEGORIES, LEGAL_BASES)
"""Pre-release DPV spellings (`Behavioral`) and the released term that replaces each."""

CONSENT = "Consent"
"""The legal basis whose purposes stay off until the person agrees, and stop when they withdraw."""

EXPLICIT_CONSENT = "ExplicitlyExpressedConsent"
"""The consent GDPR Art. 9(2)(a) asks for (DPV's eu-gdpr:A9-2-a is a kind of it)."""

CONSENT_TYPES = frozenset({CONSENT, "InformedConsent", "ExpressedConsent", EXPLICIT_CONSENT})
"""dpv:Consent and the kinds of it (DPV's consent types) a manifest may name; each is consent."""
if not all(name in LEGAL_BASES for name in CONSENT_TYPES):
    raise ValueError(f"{_DATA_FILE}: every consent type must be a legal basis")


def is_consent(legal_basis: str | None) -> bool:
    """Whether a purpose on this legal basis waits for the person's yes, and stops at their no."""
    return legal_basis in CONSENT_TYPES


def is_special(data_category: str | None) -> bool:
    """Whether DPV as released marks this personal data category special (GDPR Art. 9)."""
    if data_category is None or data_category not in PERSONAL_DATA_CATEGORIES:
        return False
    return RELEASE.is_special(PERSONAL_DATA_CATEGORIES.get(data_category).iri)
