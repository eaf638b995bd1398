"""What DPV as released defines: every term's IRI, its special categories, its Art. 9 conditions.

`dpv_released.json` beside this module is generated from the release's Turtle files by
`scripts/refresh_dpv_terms.py` (run it again for a new DPV release; never edit the file by
hand). The curated vocabulary (`vocabulary.py`) is checked against it when it loads, and which
personal data categories are special (GDPR Art. 9) is read from it, so neither can drift from
the published vocabulary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files

__all__ = ["RELEASE", "Release"]

_DATA_FILE = "dpv_released.json"


@dataclass(frozen=True)
class Release:
    """The terms of one DPV release, by IRI."""

    version: str
    source: str
    iris: frozenset[str]
    special_categories: frozenset[str]
    """IRIs of the personal data categories DPV types dpv:SpecialCategoryPersonalData."""
    sunset: frozenset[str]
    """IRIs DPV marks "sunset": still published, about to be retired; not to be used."""

    def defines(self, iri: str) -> bool:
        """Whether `iri` is a term of this release that is not being retired."""
        return iri in self.iris

    def is_special(self, iri: str) -> bool:
        """Whether `iri` is a special category of personal data (GDPR Art. 9)."""
        return iri in self.special_categories


def _load() -> Release:
    text = files("goodthings.core.manifest").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    iris = frozenset(
        namespace + name for namespace, names in data["terms"].items() for name in names
    )
    return Release(
        version=data["release"],
        source=data["source"],
        iris=iris,
        special_categories=frozenset(data["special_categories"]),
        sunset=frozenset(data["sunset"]),
    )


RELEASE = _load()
"""The DPV release the manifest and the notices follow."""
