"""SenML JSON (RFC 8428 §5): decode an ``application/senml+json`` pack, and encode records.

Choices where RFC 8428 leaves room (each one is tested in tests/ingest/test_senml.py):

* JSON must be UTF-8 (§5); NaN and Infinity are not JSON numbers and are refused wherever they
  appear.
* A JSON object with a member name twice is refused, at any depth, as SenML CBOR refuses a map
  with a key twice: RFC 8259 §4 leaves the meaning of such an object to the reader, so a pack
  would mean different things to different readers. The check costs nothing on the common
  pack: objects are decoded as tuples of pairs (faster than dicts in the stdlib decoder), each
  record becomes a dict, and only a record whose dict is shorter than its pairs had a name twice.
* A pack nested more deeply than the stdlib decoder allows (about 1,000 levels) is refused.

The common pack (flat records of numbers, names and text, no escape in it, no integer of 19
digits or more) is decoded by orjson, five to ten times faster than the stdlib; every other
pack, and every pack orjson refuses, takes the stdlib's way, so that what is accepted, what
is refused and every message stay exactly as they were (`_decode_common` says why each
condition is needed).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Final, NoReturn, cast

import orjson

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.describe import kind_of, label
from goodthings.ingest.senml.records import Record
from goodthings.ingest.senml.resolution import resolve


def parse_json(payload: bytes | str, *, now: float) -> list[Record]:
    """Decode an ``application/senml+json`` pack and resolve it (relative times against ``now``).

    ``payload`` as bytes must be UTF-8 (RFC 8428 §5). Raises SenMLError for anything that is not
    a valid SenML pack.
    """
    if type(payload) is bytes:
        common = _decode_common(payload)
        if common is not None:
            return resolve(common, now=now)
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
    except _NonFiniteConstant as exc:
        _refuse_non_finite(text, str(exc))
    except json.JSONDecodeError as exc:
        raise SenMLError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python will convert
        raise SenMLError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise SenMLError("invalid JSON: nested too deeply") from None
    if type(pack) is not list:
        raise SenMLError(
            f"a SenML pack is a JSON array of records, got {_kind(pack)}"
            + ("; wrap a single record in [ ]" if type(pack) is tuple else "")
        )
    # resolve refuses, with its index, any item of the pack that is not a record
    return resolve(cast(list[Mapping[str, object]], _records(pack, text)), now=now)


_LONG_INTEGER: Final = re.compile(rb"[0-9]{19}")


def _decode_common(payload: bytes) -> list[Mapping[str, object]] | None:
    """The common pack, decoded by orjson; None for anything the stdlib must decide.

    orjson reads valid JSON as the stdlib does except in three ways, each kept off this path:
    it reads an integer beyond 64 bits as a float (the stdlib: an int), so no run of 19 digits
    may appear; it keeps the last of a member name given twice, so the pack's quotes are
    counted (without a backslash every quote opens or closes a string, and a flat record's
    strings are its names and its text values: a name given twice leaves more quotes than
    the decoded records account for); and what it refuses (NaN, Infinity, 1e400, bad UTF-8)
    is refused again by the stdlib, for its exact message.
    """
    if b"\\" in payload or _LONG_INTEGER.search(payload) is not None:
        return None
    try:
        pack = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if type(pack) is not list:
        return None
    strings = 0
    for record in pack:
        if type(record) is not dict:
            return None
        strings += len(record)
        for value in record.values():
            kind = type(value)
            if kind is str:
                strings += 1
            elif kind is dict or kind is list:
                return None
    if payload.count(b'"') != 2 * strings:
        return None
    return pack


class _NonFiniteConstant(ValueError):
    """NaN, Infinity or -Infinity in the JSON text: not JSON, and not a finite number."""


def _refuse_constant(constant: str) -> NoReturn:
    raise _NonFiniteConstant(constant)


# Objects come out as tuples of (name, value) pairs, so that a name given twice can be seen.
_decode_json: Final = json.JSONDecoder(
    object_pairs_hook=tuple, parse_constant=_refuse_constant
).decode

Pairs = tuple[tuple[str, object], ...]
"""A decoded JSON object: its (name, value) pairs in order."""


def _records(pack: list[object], text: str) -> list[object]:
    """The pack with every decoded object made a dict; a name given twice is refused."""
    if text.count("{") == len(pack) and set(map(type, pack)) <= {tuple}:
        # The common pack: flat records, no object inside one (each "{" opens a record).
        objects = cast(list[Pairs], pack)
        records: list[dict[str, object]] = list(map(dict, objects))
        if sum(map(len, records)) != sum(map(len, objects)):
            for index, (pairs, record) in enumerate(zip(objects, records, strict=True)):
                if len(record) != len(pairs):
                    _refuse_twice(pairs, index, None)
        return cast(list[object], records)
    converted: list[object] = []
    for index, item in enumerate(pack):
        try:
            converted.append(_objects(item, index, None))
        except RecursionError:
            raise SenMLError("invalid JSON: nested too deeply", index=index) from None
    return converted


def _objects(item: object, index: int, field: str | None) -> object:
    """``item`` with its objects made dicts, refusing a name given twice at any depth."""
    if type(item) is tuple:
        pairs = cast(Pairs, item)
        record: dict[str, object] = {}
        for name, value in pairs:
            record[name] = _objects(value, index, name if field is None else field)
        if len(record) != len(pairs):
            _refuse_twice(pairs, index, field)
        return record
    if type(item) is list:
        return [_objects(child, index, field) for child in item]
    return item


def _refuse_twice(pairs: Pairs, index: int, field: str | None) -> NoReturn:
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            break
        seen.add(name)
    if field is None:
        raise SenMLError(
            f"the member name {label(name)} appears twice in the record; a SenML record "
            "names each field once (CBOR packs are refused for it too)",
            index=index,
            field=name,
        )
    raise SenMLError(
        f"the member name {label(name)} appears twice in an object inside this field; "
        "a JSON object in a SenML pack names each member once",
        index=index,
        field=field,
    )


def _kind(item: object) -> str:
    return "an object" if type(item) is tuple else kind_of(item)


class _Marked:
    """Stands in for an offending JSON item while a refused payload is decoded again to find it."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


def _contains_marked(item: object) -> _Marked | None:
    """The first _Marked item in ``item``, searched without recursion (a pack may nest deeply)."""
    stack = [item]
    while stack:
        current = stack.pop()
        if isinstance(current, _Marked):
            return current
        if isinstance(current, dict):
            stack.extend(reversed(current.values()))  # names are text: never marked
        elif isinstance(current, list):
            stack.extend(reversed(current))
    return None


_marking: Final = json.JSONDecoder(parse_constant=_Marked)


_SPACE: Final = re.compile(r"[ \t\n\r]*")


def _space_after(text: str, position: int) -> int:
    """Where JSON white space starting at ``position`` ends (RFC 8259 §2)."""
    return _SPACE.match(text, position).end()  # type: ignore[union-attr]  # * always matches


def _refuse_non_finite(text: str, constant: str) -> NoReturn:
    """Refuse a pack holding NaN or Infinity, naming the record and field that hold it.

    The text is decoded again record by record, with the constant marked: a record that does
    not decode (the constant may be followed by a syntax error, or nest too deeply) is still
    named, since the first decode met the constant before anything else went wrong.
    """

    def refuse(what: str, index: int | None = None, field: str | None = None) -> NoReturn:
        raise SenMLError(
            f"{what} is not a JSON number; SenML numbers must be finite (RFC 8428 §5)",
            index=index,
            field=field,
        )

    position = _space_after(text, 0)
    if not text.startswith("[", position):
        refuse(constant)
    position += 1
    index = 0
    while True:
        position = _space_after(text, position)
        try:
            record, position = _marking.raw_decode(text, position)
        except (ValueError, RecursionError):
            refuse(constant, index)
        if isinstance(record, _Marked):
            refuse(record.what, index)
        if isinstance(record, dict):
            for key, item in record.items():
                found = _contains_marked(item)
                if found is not None:
                    refuse(found.what, index, key)
        else:
            found = _contains_marked(record)
            if found is not None:
                refuse(found.what, index)
        position = _space_after(text, position)
        if not text.startswith(",", position):
            refuse(constant)
        position += 1
        index += 1


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
