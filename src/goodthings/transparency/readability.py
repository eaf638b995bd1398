"""Readability of pages: the text a reader sees, split where a reader pauses, and its grade.

The notices promise plain language (Flesch-Kincaid grade 8 or below in English); the tests and
the assessment's `notices.readable` check measure it the same way, here. Other languages have
no Flesch-Kincaid formula: their text is measured with Flesch's reading ease in the language's
own adaptation (Kandel and Moles for French), turned into a school grade with Flesch's own table,
so one target and one sentence limit hold for every language. textstat counts
English syllables with NLTK's CMU dictionary, which it downloads at first use; the hub must not
reach the network for that, so syllables are counted with pyphen's hyphenation dictionaries
(shipped in the package), as textstat already does for words the CMU dictionary lacks and for
every other language.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from itertools import pairwise
from types import ModuleType

GRADE_TARGET = 8.0
"""The Flesch-Kincaid grade the notices are written to: most adults read it easily."""


SENTENCE_LIMIT = 20.0
"""No single sentence of ten words or more may read above this grade: an average hides one
sentence written like a contract, a reader does not."""


_EASE_TO_GRADE: tuple[tuple[float, float], ...] = (
    (100.0, 4.0),
    (90.0, 5.0),
    (80.0, 6.0),
    (70.0, 7.0),
    (60.0, 8.5),
    (50.0, 11.0),
    (30.0, 14.0),
    (0.0, SENTENCE_LIMIT),
)
"""Flesch's table from reading ease to school grade ("60 to 70: 8th and 9th grade"), as points
to draw straight lines between; the end of his scale (ease 0, past "college graduate") is the
sentence limit, so a sentence off the scale fails in every language."""


def grade(text: str, language: str = "en") -> float:
    """The grade of `text`: Flesch-Kincaid in English, else from its reading ease in `language`."""
    stats = _textstat()
    if language == "en":
        return float(stats.flesch_kincaid_grade(text))
    from textstat.backend.metrics import flesch_reading_ease

    return grade_of_ease(float(flesch_reading_ease(text, language)))


@cache
def _textstat() -> ModuleType:
    """textstat, told not to use the CMU dictionary; loaded at the first grade, since it brings
    NLTK (~17 MiB) into every process that imports this module (a `serve` worker does, through
    the assessment's checks, and grades nothing unless an assessment runs)."""
    import textstat

    try:
        from textstat.backend.counts import _count_syllables
    except ImportError:  # a textstat without the CMU dictionary counts with pyphen already
        pass
    else:
        _count_syllables.get_cmudict = lambda lang: None
    module: ModuleType = textstat
    return module


def grade_of_ease(ease: float) -> float:
    """A reading ease as a school grade, along Flesch's table; beyond its ends, its slopes."""
    points = _EASE_TO_GRADE
    if ease >= points[0][0]:
        return max(0.0, points[0][1] - (ease - points[0][0]) / 10)
    for (high, easy), (low, hard) in pairwise(points):
        if ease >= low:
            return hard - (ease - low) / (high - low) * (hard - easy)
    (high, easy), (low, hard) = points[-2], points[-1]
    return hard + (low - ease) / (high - low) * (hard - easy)


_BLOCKS = {"p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "title", "td", "th", "caption"}
_HIDDEN = {"script", "style", "head"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.units: list[str] = []
        self._current: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden -= 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        self._current = []
        if text:
            # A heading or a list item is read as a unit, like a sentence.
            self.units.append(text if text[-1] in ".!?:" else text + ".")


def units(html: str) -> list[str]:
    """The text a reader sees, one heading, paragraph, list item or cell at a time."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser._flush()
    return parser.units


def visible_text(html: str) -> str:
    return " ".join(units(html))


def hardest_sentence(html: str, language: str = "en") -> tuple[float, str]:
    """The grade and text of the hardest sentence of ten words or more (0 and "" when none)."""
    sentences = (s for unit in units(html) for s in _SENTENCE_END.split(unit))
    graded = [
        (grade(sentence, language), sentence)
        for sentence in sentences
        if len(sentence.split()) >= 10
    ]
    return max(graded, default=(0.0, ""))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9À-Ý])")
