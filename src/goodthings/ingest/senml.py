"""SenML codec (RFC 8428): decode a pack and resolve it into absolute, self-contained records.

A SenML pack is a JSON array (or CBOR array) of records. Base fields (``bn``, ``bt``, ``bu``,
``bv``, ``bs``, ``bver``) apply to the record that carries them and to every later record until a
later record carries the same base field again (RFC 8428 §4). Resolving (§4.6) applies them:

    name   = bn + n                 must then match §4.5.1: [A-Za-z0-9][A-Za-z0-9:./_-]*
    time   = bt + t                 2**28 or more: absolute Unix seconds; less: relative to ``now``
    unit   = u, else bu
    value  = bv + v, or vs, vb, vd  exactly one of them, unless the record carries a sum ``s``
    sum    = bs + s                 when either is present (§4.5.4)

Every refusal is a :class:`~goodthings.core.errors.SenMLError` that names the record (0-based) and the
field, and says what would have been accepted.

Choices where RFC 8428 leaves room (each one is tested in tests/ingest/test_senml.py):

* A record that carries only base fields (like the first record of the §5.1.7 example) sets
  context for the records after it and resolves to no record of its own.
* Only version 10 (the default) is read: ``bver`` above 10 is refused as §4.4 requires, and so
  is a lower, pre-RFC draft version, because a resolved record of another version would have to
  carry its ``bver`` (§4.6) and :class:`Record` has no place for it.
* A base value ``bv`` is added to a numeric ``v`` only; a record without ``v`` takes no value
  from ``bv`` (§4.2: the record itself must carry its one value field).
* An empty unit (``"u": ""`` or ``"bu": ""``) means "no unit".
* ``ut`` is a period of time, so a negative one is refused.
* Text must be valid Unicode: strings with unpaired surrogates (``"\\ud800"``) are refused.
* JSON must be UTF-8 (§5); NaN and Infinity are not JSON numbers and are refused wherever they
  appear. A JSON object with a member name twice keeps the last one, as the stdlib json module
  does (refusing it would cost a Python hook per object); CBOR refuses duplicate keys, which
  cbor2 does for free.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from io import BytesIO
from operator import attrgetter
from typing import Final, NoReturn

from goodthings.core.errors import SenMLError

__all__ = ["SUPPORTED_VERSION", "Record", "parse_cbor", "parse_json", "resolve", "to_json"]

SUPPORTED_VERSION: Final = 10
"""The SenML version this codec reads (RFC 8428 §4.4: the default when ``bver`` is absent)."""

_ABSOLUTE: Final = 268435456.0  # 2**28: times at or above are absolute Unix seconds (§4.5.3)
_FLOAT_MAX: Final = sys.float_info.max
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9:./_-]*")
_NAME_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:./_"
)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_NAME_CACHE_SIZE: Final = 4096
# Names already checked against §4.5.1: devices repeat their names in every pack.
_valid_names: dict[str, None] = {}


@dataclass(frozen=True, slots=True)
class Record:
    """One resolved SenML record (RFC 8428 §4.6): no base fields left, no relative time."""

    name: str
    """Base name and name concatenated; always a valid SenML name (§4.5.1)."""
    time: float
    """Absolute time of the measurement, in Unix seconds."""
    unit: str | None
    """The record's unit, else the base unit, else None."""
    value: float | str | bool | bytes | None
    """``v`` (plus ``bv``) as float, ``vs`` as str, ``vb`` as bool, ``vd`` decoded to bytes, or
    None for a record that carries only a sum."""
    sum: float | None
    """``s`` plus ``bs``, or None when neither is present."""
    update_time: float | None
    """``ut``: the longest time, in seconds, before the sensor sends an updated reading."""


def _record_builder() -> Callable[
    [str, float, str | None, object, float | None, float | None], Record
]:
    """A constructor for Record that is twice as fast as the frozen dataclass's ``__init__``.

    A frozen dataclass sets each field through ``object.__setattr__`` by name; on the hot path
    that is half the cost of resolving a record. This fills the slots through their descriptors
    instead, in the order of the dataclass fields (checked here, so a new field cannot be
    forgotten).
    """
    slots = tuple(field.name for field in fields(Record))
    if slots != ("name", "time", "unit", "value", "sum", "update_time"):
        raise RuntimeError(f"_record_builder does not fill the fields {slots} of Record")
    new = object.__new__
    set_name, set_time, set_unit, set_value, set_sum, set_update_time = (
        getattr(Record, slot).__set__ for slot in slots
    )

    def build(
        name: str,
        time: float,
        unit: str | None,
        value: object,
        sum: float | None,
        update_time: float | None,
    ) -> Record:
        record: Record = new(Record)
        set_name(record, name)
        set_time(record, time)
        set_unit(record, unit)
        set_value(record, value)
        set_sum(record, sum)
        set_update_time(record, update_time)
        return record

    return build


_new_record: Final = _record_builder()


# ---------------------------------------------------------------------------------------------
# Decoding


def parse_json(payload: bytes | str, *, now: float) -> list[Record]:
    """Decode an ``application/senml+json`` pack and resolve it (relative times against ``now``).

    ``payload`` as bytes must be UTF-8 (RFC 8428 §5). Raises SenMLError for anything that is not
    a valid SenML pack.
    """
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SenMLError(
                f"the payload is not UTF-8: byte 0x{exc.object[exc.start]:02x} at offset "
                f"{exc.start} is invalid ({exc.reason}); SenML JSON must be UTF-8 (RFC 8428 §5)"
            ) from None
    elif isinstance(payload, str):
        text = payload
    else:
        raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")
    try:
        pack = _decode_json(text)
    except _NonFiniteConstant:
        _refuse_non_finite(text)
    except json.JSONDecodeError as exc:
        raise SenMLError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python will convert
        raise SenMLError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise SenMLError("invalid JSON: nested too deeply") from None
    if not isinstance(pack, list):
        raise SenMLError(
            f"a SenML pack is a JSON array of records, got {_a(pack)}"
            + ("; wrap a single record in [ ]" if isinstance(pack, dict) else "")
        )
    return resolve(pack, now=now)


class _NonFiniteConstant(ValueError):
    """NaN, Infinity or -Infinity in the JSON text: not JSON, and not a finite number."""


def _refuse_constant(constant: str) -> NoReturn:
    raise _NonFiniteConstant(constant)


_decode_json: Final = json.JSONDecoder(parse_constant=_refuse_constant).decode


class _Marked:
    """Stands in for an offending JSON item while a refused payload is decoded again to find it."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


def _contains_marked(item: object) -> _Marked | None:
    if isinstance(item, _Marked):
        return item
    if isinstance(item, dict):
        for key, child in item.items():
            found = _contains_marked(key) or _contains_marked(child)
            if found is not None:
                return found
    elif isinstance(item, list):
        for child in item:
            found = _contains_marked(child)
            if found is not None:
                return found
    return None


def _locate(pack: object, message: Callable[[str], str]) -> NoReturn:
    """Raise SenMLError naming the record and field that hold the first _Marked item."""
    if isinstance(pack, list):
        for index, record in enumerate(pack):
            if isinstance(record, dict):
                for key, item in record.items():
                    if isinstance(key, _Marked):
                        raise SenMLError(message(key.what), index=index, field=key.what)
                    found = _contains_marked(item)
                    if found is not None:
                        raise SenMLError(message(found.what), index=index, field=key)
            found = _contains_marked(record)
            if found is not None:
                raise SenMLError(message(found.what), index=index)
    found = _contains_marked(pack)
    raise SenMLError(message(found.what if found is not None else "?"))


def _refuse_non_finite(text: str) -> NoReturn:
    pack = json.JSONDecoder(parse_constant=_Marked).decode(text)
    _locate(
        pack,
        lambda what: f"{what} is not a JSON number; SenML numbers must be finite (RFC 8428 §5)",
    )


# CBOR (RFC 8428 §6): integer labels for the fields of Table 4, native byte strings for vd.
_CBOR_LABELS: Final[Mapping[int, str]] = {
    -1: "bver",
    -2: "bn",
    -3: "bt",
    -4: "bu",
    -5: "bv",
    -6: "bs",
    0: "n",
    1: "u",
    2: "v",
    3: "vs",
    4: "vb",
    5: "s",
    6: "t",
    7: "ut",
    8: "vd",
}


def parse_cbor(payload: bytes, *, now: float) -> list[Record]:
    """Decode an ``application/senml+cbor`` pack (RFC 8428 §6) and resolve it.

    Labels are the integers of §6 Table 4; text labels are extension fields (a text label that
    spells a field of Table 4, such as ``"v"``, is read as that field). ``vd`` must be a byte
    string, ``bver`` an unsigned integer, and the pack a definite-length array.
    """
    import cbor2  # deferred: only CBOR ingest pays for the import

    decoder = cbor2.CBORDecoder(
        BytesIO(payload), allow_indefinite=False, allow_duplicate_keys=False
    )
    try:
        pack = decoder.decode()
    except cbor2.CBORDecodeEOF:
        raise SenMLError("invalid CBOR: the payload ends before the pack does") from None
    except cbor2.CBORDecodeError as exc:
        raise SenMLError(f"invalid CBOR: {exc}") from None
    except RecursionError:
        raise SenMLError("invalid CBOR: nested too deeply") from None
    try:
        decoder.decode()
    except cbor2.CBORDecodeEOF:
        pass
    except cbor2.CBORError:
        raise SenMLError("invalid CBOR: more data follows the pack") from None
    else:
        raise SenMLError("invalid CBOR: more data follows the pack")
    if not isinstance(pack, list):
        raise SenMLError(f"a SenML pack is a CBOR array of records, got {_a(pack)}")
    records: list[Mapping[str, object]] = []
    for index, record in enumerate(pack):
        if not isinstance(record, Mapping):
            raise SenMLError(f"expected a record (a CBOR map), got {_a(record)}", index=index)
        records.append(_from_cbor(record, index))
    return resolve(records, now=now)


def _from_cbor(record: Mapping[object, object], index: int) -> dict[str, object]:
    labelled: dict[str, object] = {}
    for key, item in record.items():
        if type(key) is int:
            if key not in _CBOR_LABELS:
                continue  # §6: Table 4 is conclusive; an unknown integer label is not "_"-marked
            label = _CBOR_LABELS[key]
        elif type(key) is str:
            label = key
        else:
            raise SenMLError(
                f"a record's labels are integers or text, got {_a(key)} as a label", index=index
            )
        if label in labelled:
            raise SenMLError(
                f"the field {label!r} appears twice (as a text and as an integer label)",
                index=index,
                field=label,
            )
        if type(item) is Decimal:  # decimal fraction, CBOR tag 4
            item = _decimal(item, index, label)
        elif label == "vd" and type(item) is not bytes:
            raise SenMLError(
                f"expected a byte string, got {_a(item)}; CBOR carries data values as bytes, "
                "not base64 (RFC 8428 §6)",
                index=index,
                field=label,
            )
        elif label == "bver" and type(item) is not int:
            raise SenMLError(
                f"expected an unsigned integer, got {_a(item)} (RFC 8428 §6)",
                index=index,
                field=label,
            )
        labelled[label] = item
    return labelled


def _decimal(item: Decimal, index: int, field: str) -> float:
    number = float(item)
    if not math.isfinite(number):
        raise SenMLError(
            f"the decimal fraction {item} is not a finite double", index=index, field=field
        )
    return number


# ---------------------------------------------------------------------------------------------
# Resolving


def resolve(pack: Sequence[Mapping[str, object]], *, now: float) -> list[Record]:
    """Resolve the records of a decoded pack (RFC 8428 §4.6), in pack order.

    ``now`` is the Unix time against which relative times (below 2**28, §4.5.3) are counted:
    normally the time the pack was received. A record that carries only base fields resolves to
    no record; every other record resolves to one.
    """
    if type(pack) is not list and (
        isinstance(pack, str | bytes | bytearray) or not isinstance(pack, Sequence)
    ):
        raise SenMLError(f"a SenML pack is an array of records, got {_a(pack)}")
    if not pack:
        raise SenMLError("the pack is empty; a SenML pack holds at least one record")
    if type(now) is not float:
        now = float(now)
    if not math.isfinite(now):
        raise ValueError(f"now must be a finite Unix time, not {now!r}")

    base_name = ""
    base_time = 0.0
    base_unit: str | None = None
    base_value = 0.0
    base_sum: float | None = None
    names = _valid_names
    absolute = _ABSOLUTE
    new_record = _new_record
    records: list[Record] = []
    append = records.append

    for index, record in enumerate(pack):
        if type(record) is not dict and not isinstance(record, Mapping):
            raise SenMLError(f"expected a record (a JSON object), got {_a(record)}", index=index)
        n = record.get("n")
        v = record.get("v")
        t = record.get("t")
        u = record.get("u")
        value: float | str | bool | bytes | None = None
        s: float | None = None
        update_time: float | None = None
        more_values = False

        if len(record) != (n is not None) + (v is not None) + (t is not None) + (u is not None):
            # Anything beyond n, v, t and u: base fields, other values, sum, update time,
            # extensions, or null. The first record of a pack usually comes this way.
            has_base = False
            regular = n is not None or v is not None or t is not None or u is not None
            value_key = "v" if v is not None else None
            for key, item in record.items():
                if key == "bn":
                    if type(item) is not str:
                        _refuse_type(item, index, key)
                    base_name = item
                    has_base = True
                elif key == "bt":
                    base_time = _number(item, index, key)
                    has_base = True
                elif key == "bu":
                    if type(item) is not str:
                        _refuse_type(item, index, key)
                    if not item.isascii():
                        _check_text(item, index, key)
                    base_unit = item or None
                    has_base = True
                elif key == "bv":
                    base_value = _number(item, index, key)
                    has_base = True
                elif key == "bs":
                    base_sum = _number(item, index, key)
                    has_base = True
                elif key == "bver":
                    _check_version(item, index)
                    has_base = True
                elif key == "vs" or key == "vb" or key == "vd":
                    if value_key is not None:
                        raise SenMLError(
                            f"a record carries exactly one value, but it has both {value_key!r} "
                            f"and {key!r}",
                            index=index,
                            field=key,
                        )
                    value_key = key
                    regular = True
                    if key == "vs":
                        if type(item) is not str:
                            _refuse_type(item, index, key)
                        if not item.isascii():
                            _check_text(item, index, key)
                        value = item
                    elif key == "vb":
                        if type(item) is not bool:
                            _refuse_type(item, index, key)
                        value = item
                    else:
                        value = _data(item, index)
                    more_values = True
                elif key == "s":
                    s = _number(item, index, key)
                    regular = True
                elif key == "ut":
                    update_time = _number(item, index, key)
                    if update_time < 0.0:
                        raise SenMLError(
                            f"expected a period of time (zero or more seconds), got {item!r}",
                            index=index,
                            field=key,
                        )
                    regular = True
                elif key == "n" or key == "v" or key == "t" or key == "u":
                    if item is None:
                        _refuse_type(item, index, key)
                elif type(key) is str and key.endswith("_"):
                    raise SenMLError(
                        "this field must be understood to use the record (its label ends in "
                        "'_', RFC 8428 §4.4), and this codec does not know it",
                        index=index,
                        field=key,
                    )
                # Any other field is an extension this codec does not know: ignored (§4.4).
            if not regular and has_base:
                continue  # a record of base fields only: context for the records after it
            if s is not None and base_sum is not None:
                s = base_sum + s
                if s - s != 0.0:
                    _refuse_overflow(index, "s", "bs")

        # Value (§4.2, §4.5.4): exactly one value field, unless there is a sum.
        if v is not None:
            if type(v) is not float or v - v != 0.0:
                v = _number(v, index, "v")
            if base_value:
                v = base_value + v
                if v - v != 0.0:
                    _refuse_overflow(index, "v", "bv")
            value = v
        elif not more_values and s is None:
            raise SenMLError(
                f"the record {'is empty' if not record else 'has no value'}: give it one of "
                "v (number), vs (text), vb (boolean) or vd (data), or a sum s",
                index=index,
                field="v",
            )

        # Name (§4.5.1): base name and name, concatenated.
        if n is None:
            name = base_name
        elif type(n) is str:
            name = base_name + n if base_name else n
        else:
            _refuse_type(n, index, "n")
        if name not in names:
            _check_name(name, base_name, index)
            if len(names) >= _NAME_CACHE_SIZE:
                names.clear()
            names[name] = None

        # Time (§4.5.3): base time plus time; below 2**28 it counts from now.
        if t is None:
            time = base_time
        else:
            if type(t) is not float or t - t != 0.0:
                t = _number(t, index, "t")
            time = base_time + t
        if time < absolute:
            time += now
        if time - time != 0.0:
            _refuse_overflow(index, "t", "bt")

        # Unit (§4.5.2): the record's own, else the base unit.
        if u is None:
            unit = base_unit
        elif type(u) is str:
            if not u.isascii():
                _check_text(u, index, "u")
            unit = u or None
        else:
            _refuse_type(u, index, "u")

        append(new_record(name, time, unit, value, base_sum if s is None else s, update_time))
    return records


def _check_version(item: object, index: int) -> None:
    if type(item) is float and item.is_integer():
        item = int(item)
    if type(item) is not int or item < 1:
        raise SenMLError(
            f"expected a version number (a positive integer), got {_shown(item)}",
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
    if item != SUPPORTED_VERSION:
        raise SenMLError(
            f"SenML version {item} is a pre-RFC draft format; this codec reads version "
            f"{SUPPORTED_VERSION} (RFC 8428): send bver 10 or leave it out",
            index=index,
            field="bver",
        )


def _number(item: object, index: int, field: str) -> float:
    """Return a field's number as a finite float, or raise a SenMLError that says why not."""
    if type(item) is int and -_FLOAT_MAX < item < _FLOAT_MAX:
        return float(item)  # JSON integers: the common case that comes here
    if type(item) is float or (isinstance(item, int | float) and not isinstance(item, bool)):
        try:
            number = float(item)
        except OverflowError:
            raise SenMLError(
                f"expected a number that fits a double, got {_shown(item)}",
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
    _refuse_type(item, index, field)


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


def _refuse_type(item: object, index: int, field: str) -> NoReturn:
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
        f"expected {_EXPECTED.get(field, 'a value')}, got {_shown(item)}{hint}",
        index=index,
        field=field,
    )


def _refuse_overflow(index: int, field: str, base: str) -> NoReturn:
    raise SenMLError(
        f"adding the base field {base!r} overflows a double; the result is not a finite number",
        index=index,
        field=field,
    )


def _check_text(text: str, index: int, field: str) -> None:
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


def _check_name(name: str, base_name: str, index: int) -> None:
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
        part = f" (from the base name {_quoted(base_name)})" if base_name else ""
        raise SenMLError(
            f"the name {_quoted(name)} starts with {name[0]!r}{part}; {rules}",
            index=index,
            field=field,
        )
    position = next(i for i, char in enumerate(name) if char not in _NAME_CHARS)
    part = f" (in the base name {_quoted(base_name)})"
    if position >= len(base_name):
        field, part = "n", ""
    raise SenMLError(
        f"the name {_quoted(name)} holds {name[position]!r} at position {position}{part}; {rules}",
        index=index,
        field=field,
    )


_FROM_BASE64URL: Final = str.maketrans("-_", "+/")


def _data(item: object, index: int) -> bytes:
    """Decode a ``vd`` field: base64url without padding (RFC 8428 §4.3), or bytes from CBOR."""
    if type(item) is bytes:
        return item
    if type(item) is not str:
        _refuse_type(item, index, "vd")
    if not _BASE64URL.fullmatch(item):
        bad = next(char for char in item if char not in _BASE64URL_CHARS)
        if bad == "=":
            why = "padding '=' must be left out"
        elif bad in "+/":
            why = f"{bad!r} is from the standard base64 alphabet; base64url uses '-' and '_'"
        else:
            why = f"{bad!r} is not a base64url character"
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


def _quoted(text: str) -> str:
    if len(text) > 60:
        text = text[:57] + "..."
    return json.dumps(text)


def _shown(item: object) -> str:
    """A JSON-ish rendering of an item and its type, for error messages."""
    if item is None:
        return "null"
    if isinstance(item, bool):
        return f"{'true' if item else 'false'} (a boolean)"
    if isinstance(item, str):
        return f"{_quoted(item)} (a string)"
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
    return _a(item)


def _a(item: object) -> str:
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
        return _shown(item)
    return f"a {type(item).__name__}"


# ---------------------------------------------------------------------------------------------
# Encoding


def to_json(records: Sequence[Record]) -> list[dict[str, object]]:
    """Resolved records as a resolved SenML pack (RFC 8428 §4.6), ready for ``json.dumps``.

    Each record becomes an object with ``n``, ``t``, ``u`` (if any), one of ``v``/``vs``/``vb``/
    ``vd`` (if any; ``vd`` as base64url without padding), ``s`` and ``ut`` (if any), and no base
    fields. §4.6 wants resolved records in chronological order, so they are sorted by time
    (stably: records with the same time keep their order).
    """
    pack: list[dict[str, object]] = []
    for record in sorted(records, key=_by_time):
        item: dict[str, object] = {"n": record.name, "t": record.time}
        if record.unit is not None:
            item["u"] = record.unit
        value = record.value
        if value is None:
            pass
        elif isinstance(value, bool):
            item["vb"] = value
        elif isinstance(value, str):
            item["vs"] = value
        elif isinstance(value, bytes):
            item["vd"] = base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")
        else:
            item["v"] = value
        if record.sum is not None:
            item["s"] = record.sum
        if record.update_time is not None:
            item["ut"] = record.update_time
        pack.append(item)
    return pack


_by_time: Final = attrgetter("time")
