"""Checks of one field's item, each raising a SenMLError that names the record and the field
and says what would have been accepted.

Choices where RFC 8428 leaves room (each one is tested in tests/ingest/test_senml.py):

* ``bver`` above 10 is refused, as §4.4 requires of a version newer than the codec supports;
  10 and below are read (a lower version only lacks fields added since, and §5.1.7's own
  example sends ``"bver": 5``). A resolved record keeps no ``bver``: its fields mean the same.
* Text must be valid Unicode: strings with unpaired surrogates (``"\\ud800"``) are refused.
"""

from __future__ import annotations

import base64
import math
import re
import sys
from collections.abc import Mapping
from typing import Final, NoReturn

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.describe import character, quoted, shown

SUPPORTED_VERSION: Final = 10
"""The newest SenML version this codec reads (RFC 8428 §4.4: the default when ``bver`` is
absent); lower versions are read too."""

_FLOAT_MAX: Final = sys.float_info.max
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9:./_-]*")
_NAME_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:./_"
)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def check_version(item: object, index: int) -> None:
    """Refuse a ``bver`` that is not a positive integer, or newer than 10 (§4.4)."""
    if type(item) is float and item.is_integer():
        item = int(item)
    if type(item) is not int or item < 1:
        raise SenMLError(
            f"expected a version number (a positive integer), got {shown(item)}",
            index=index,
            field="bver",
        )
    if item > SUPPORTED_VERSION:
        raise SenMLError(
            f"SenML version {item} is newer than this codec understands (version "
            f"{SUPPORTED_VERSION}, RFC 8428); the pack cannot be used (RFC 8428 §4.4)",
            index=index,
            field="bver",
        )


def finite_number(item: object, index: int, field: str) -> float:
    """Return a field's number as a finite float, or raise a SenMLError that says why not."""
    if type(item) is int and -_FLOAT_MAX < item < _FLOAT_MAX:
        return float(item)  # JSON integers: the common case that comes here
    if type(item) is float or (isinstance(item, int | float) and not isinstance(item, bool)):
        try:
            number = float(item)
        except OverflowError:
            raise SenMLError(
                f"expected a number that fits a double, got {shown(item)}",
                index=index,
                field=field,
            ) from None
        if number - number == 0.0:
            return number
        raise SenMLError(
            "expected a finite number, got "
            + ("NaN" if math.isnan(number) else f"a number too large for a double ({number})"),
            index=index,
            field=field,
        )
    refuse_type(item, index, field)


_EXPECTED: Final[Mapping[str, str]] = {
    "bn": "a string",
    "bt": "a number",
    "bu": "a string",
    "bv": "a number",
    "bs": "a number",
    "n": "a string",
    "u": "a string",
    "v": "a number",
    "vs": "a string",
    "vb": "true or false",
    "vd": "base64url text",
    "s": "a number",
    "t": "a number",
    "ut": "a number",
}

_TIME_HINT: Final = (
    "; times are numbers of seconds: 2**28 or more is absolute Unix time, less is relative to "
    "now (RFC 8428 §4.5.3)"
)


def refuse_type(item: object, index: int, field: str) -> NoReturn:
    """Raise the SenMLError for a field whose item has the wrong JSON type."""
    hint = ""
    is_number = isinstance(item, int | float) and not isinstance(item, bool)
    if field == "v" and isinstance(item, str):
        hint = '; use "vs" for text values'
    elif field in ("v", "vs") and isinstance(item, bool):
        hint = '; use "vb" for boolean values'
    elif field == "vs" and is_number:
        hint = '; use "v" for numeric values'
    elif field == "vb" and item in ("true", "false"):
        hint = "; use a JSON boolean, not a string"
    elif field in ("t", "bt") and isinstance(item, str):
        hint = _TIME_HINT
    elif field == "vd" and isinstance(item, bytes | bytearray):
        hint = "; JSON carries data values as base64url text"
    raise SenMLError(
        f"expected {_EXPECTED.get(field, 'a value')}, got {shown(item)}{hint}",
        index=index,
        field=field,
    )


def refuse_overflow(index: int, field: str, base: str) -> NoReturn:
    raise SenMLError(
        f"adding the base field {base!r} overflows a double; the result is not a finite number",
        index=index,
        field=field,
    )


def check_text(text: str, index: int, field: str) -> None:
    """Refuse text that is not valid Unicode (unpaired surrogates from JSON escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SenMLError(
            f"the text holds an unpaired surrogate (\\u{ord(text[exc.start]):04x}) at position "
            f"{exc.start}; SenML text must be valid Unicode",
            index=index,
            field=field,
        ) from None


def check_name(name: str, base_name: str, index: int) -> None:
    """Raise SenMLError unless ``name`` (``base_name`` + n) is a valid SenML name (§4.5.1)."""
    if _NAME.fullmatch(name):
        return
    if not name:
        raise SenMLError(
            'the name is empty: give the record a name "n", or a base name "bn" in this or an '
            "earlier record",
            index=index,
            field="n",
        )
    field = "bn" if base_name else "n"
    rules = (
        "SenML names use only A-Z, a-z, 0-9 and - : . / _ and start with a letter or digit "
        "(RFC 8428 §4.5.1)"
    )
    if name[0] not in _NAME_CHARS or not name[0].isalnum():
        part = f" (from the base name {quoted(base_name)})" if base_name else ""
        raise SenMLError(
            f"the name {quoted(name)} starts with {character(name[0])}{part}; {rules}",
            index=index,
            field=field,
        )
    position = next(i for i, char in enumerate(name) if char not in _NAME_CHARS)
    part = f" (in the base name {quoted(base_name)})"
    if position >= len(base_name):
        field, part = "n", ""
    raise SenMLError(
        f"the name {quoted(name)} holds {character(name[position])} at position {position}"
        f"{part}; {rules}",
        index=index,
        field=field,
    )


_FROM_BASE64URL: Final = str.maketrans("-_", "+/")


def data_bytes(item: object, index: int) -> bytes:
    """Decode a ``vd`` field: base64url without padding (RFC 8428 §4.3), or bytes from CBOR."""
    if type(item) is bytes:
        return item
    if type(item) is not str:
        refuse_type(item, index, "vd")
    if not _BASE64URL.fullmatch(item):
        bad = next(char for char in item if char not in _BASE64URL_CHARS)
        if bad == "=":
            why = "padding '=' must be left out"
        elif bad in "+/":
            why = (
                f"{character(bad)} is from the standard base64 alphabet; base64url uses '-' and '_'"
            )
        else:
            why = f"{character(bad)} is not a base64url character"
        raise SenMLError(
            f"expected base64url text without padding (RFC 8428 §4.3), but {why}",
            index=index,
            field="vd",
        )
    if len(item) % 4 == 1:
        raise SenMLError(
            f"base64url text of {len(item)} characters cannot be decoded: one character too "
            "many or too few",
            index=index,
            field="vd",
        )
    return base64.b64decode(item.translate(_FROM_BASE64URL) + "=" * (-len(item) % 4))


_BASE64URL_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)
