"""The text a reader sees on a page, split where a reader would pause, for readability scores."""

from __future__ import annotations

from html.parser import HTMLParser

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


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser._flush()
    return " ".join(parser.units)
