"""How a decoded item is named in an error message, so that a refusal says what was sent."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping


def quoted(text: str) -> str:
    """Text as JSON would show it, cut to 60 characters: a message must stay readable."""
    if len(text) > 60:
        text = text[:57] + "..."
    return json.dumps(text)


def shown(item: object) -> str:
    """A JSON-ish rendering of an item and its type, for error messages."""
    if item is None:
        return "null"
    if isinstance(item, bool):
        return f"{'true' if item else 'false'} (a boolean)"
    if isinstance(item, str):
        return f"{quoted(item)} (a string)"
    if isinstance(item, float):
        if math.isnan(item):
            return "NaN"
        if math.isinf(item):
            return "Infinity" if item > 0 else "-Infinity"
        return f"{item!r} (a number)"
    if isinstance(item, int):
        if -(10**20) < item < 10**20:
            return f"{item} (a number)"
        return f"an integer of {item.bit_length()} bits (a number)"
    return kind_of(item)


def kind_of(item: object) -> str:
    """The kind of a decoded item, with its article: 'an object', 'an array', 'a string'..."""
    if item is None:
        return "null"
    if isinstance(item, Mapping):
        return "an object"
    if isinstance(item, bytes | bytearray):
        return f"a byte string ({len(item)} bytes)"
    if isinstance(item, list | tuple):
        return "an array"
    if isinstance(item, bool | str | int | float):
        return shown(item)
    return f"a {type(item).__name__}"
