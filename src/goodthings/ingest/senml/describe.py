"""How a decoded item is named in an error message, so that a refusal says what was sent.

A device is told what it sent, to see its mistake; a record kept about the refusal must not
quote it, since readings are personal. Inside :func:`without_values` every item is named by its
kind only ("a string", "a number"), so the same check gives the message for the record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

_kind_only: ContextVar[bool] = ContextVar("senml_kind_only", default=False)


@contextmanager
def without_values() -> Iterator[None]:
    """Name items by their kind only in the SenMLErrors raised inside: no value is quoted."""
    token = _kind_only.set(True)
    try:
        yield
    finally:
        _kind_only.reset(token)


def quoted(text: str) -> str:
    """Text as JSON would show it, cut to 60 characters: a message must stay readable."""
    if _kind_only.get():
        return f"(text of {len(text)} characters)"
    if len(text) > 60:
        text = text[:57] + "..."
    return json.dumps(text)


def label(name: str) -> str:
    """A member name or map label as JSON would show it: a field's name, not a value, so it is
    shown even without values (the error's prefix names the field anyway)."""
    return json.dumps(name if len(name) <= 60 else name[:57] + "...")


def character(char: str) -> str:
    """One character of a name or text, quoted as Python would."""
    return "a character" if _kind_only.get() else repr(char)


def shown(item: object) -> str:
    """A JSON-ish rendering of an item and its type, for error messages."""
    if item is None:
        return "null"
    if _kind_only.get() and isinstance(item, bool | str | int | float):
        return _kind(item)
    if isinstance(item, bool):
        return f"{'true' if item else 'false'} (a boolean)"
    if isinstance(item, str):
        return f"{quoted(item)} (a string)"
    if isinstance(item, float):
        if not math.isfinite(item):
            return shown_constant(item)
        return f"{item!r} (a number)"
    if isinstance(item, Decimal):
        return "a decimal fraction" if _kind_only.get() else f"{item} (a decimal fraction)"
    if isinstance(item, int):
        if -(10**20) < item < 10**20:
            return f"{item} (a number)"
        return f"an integer of {item.bit_length()} bits (a number)"
    return kind_of(item)


def _kind(item: bool | str | int | float) -> str:
    if isinstance(item, bool):
        return "a boolean"
    if isinstance(item, str):
        return "a string"
    if isinstance(item, float) and not math.isfinite(item):
        return shown_constant(item)
    return "a number"


def shown_constant(item: float) -> str:
    """NaN, Infinity or -Infinity: what was sent instead of a number, never a value."""
    if math.isnan(item):
        return "NaN"
    return "Infinity" if item > 0 else "-Infinity"


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
