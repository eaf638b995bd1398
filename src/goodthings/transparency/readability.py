"""Readability of pages: the text a reader sees, split where a reader pauses, and its grade.

The notices promise plain language (Flesch-Kincaid grade 8 or below in English); the tests and
the assessment's `notices.readable` check measure it the same way, here. textstat counts
English syllables with NLTK's CMU dictionary, which it downloads at first use; the hub must not
reach the network for that, so syllables are counted with pyphen's hyphenation dictionaries
(shipped in the package), as textstat already does for words the CMU dictionary lacks and for
every other language.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from types import ModuleType

GRADE_TARGET = 8.0
"""The Flesch-Kincaid grade the notices are written to: most adults read it easily."""


def grade(text: str) -> float:
    """The Flesch-Kincaid grade of `text`."""
    return float(_textstat().flesch_kincaid_grade(text))


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


SENTENCE_LIMIT = 20.0
"""No single sentence of ten words or more may read above this grade: an average hides one
sentence written like a contract, a reader does not."""


def units(html: str) -> list[str]:
    """The text a reader sees, one heading, paragraph, list item or cell at a time."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser._flush()
    return parser.units


def visible_text(html: str) -> str:
    return " ".join(units(html))


def hardest_sentence(html: str) -> tuple[float, str]:
    """The grade and text of the hardest sentence of ten words or more (0 and "" when none)."""
    sentences = (s for unit in units(html) for s in _SENTENCE_END.split(unit))
    graded = [(grade(sentence), sentence) for sentence in sentences if len(sentence.split()) >= 10]
    return max(graded, default=(0.0, ""))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
