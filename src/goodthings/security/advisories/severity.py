"""One severity word from whatever an advisory scores with: CVSS vectors or scores, or words.

CVSS v3 and v4 ratings are FIRST's (critical from 9.0, high from 7.0, medium from 4.0); CVSS v2
has no rating of its own, so NVD's (high from 7.0, medium from 4.0) is used. Words are read in
the vocabularies advisories use: CVSS's, GitHub's `MODERATE`, Red Hat's and Microsoft's
`Important`, Ubuntu's priorities. Anything else is "unknown" rather than a guess.
"""

from __future__ import annotations

from collections.abc import Iterable

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from goodthings.security.advisories.model import SEVERITIES

_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "low",
    "none": "low",
}


def from_word(text: object) -> str:
    """`Important` → high; an unknown word → unknown."""
    return _WORDS.get(str(text or "").strip().lower(), "unknown")


def from_score(score: object, *, version: int = 3) -> str:
    """A CVSS base score (0 to 10) → its rating."""
    try:
        value = float(str(score))
    except ValueError:
        return "unknown"
    if not 0 <= value <= 10:
        return "unknown"
    if version >= 3 and value >= 9.0:
        return "critical"
    return "high" if value >= 7.0 else "medium" if value >= 4.0 else "low"


def from_vector(vector: object) -> str:
    """A CVSS v2, v3.x or v4.0 vector string → its base rating."""
    text = str(vector or "").strip()
    try:
        if text.startswith("CVSS:4."):
            return from_word(CVSS4(text).severity)
        if text.startswith("CVSS:3."):
            return from_word(CVSS3(text).severities()[0])
        return from_score(CVSS2(text.removeprefix("(").removesuffix(")")).scores()[0], version=2)
    except (CVSSError, ValueError, IndexError):
        return "unknown"


def most_severe(ratings: Iterable[str]) -> str:
    known = [r for r in ratings if r in SEVERITIES and r != "unknown"]
    return min(known, key=SEVERITIES.index) if known else "unknown"
