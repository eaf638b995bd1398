"""SenML JSON (RFC 8428 §5): decode an ``application/senml+json`` pack, and encode records.

Choices where RFC 8428 leaves room (each one is tested in tests/ingest/test_senml.py):

* JSON must be UTF-8 (§5); NaN and Infinity are not JSON numbers and are refused wherever they
  appear. A JSON object with a member name twice keeps the last one, as the stdlib json module
  does (refusing it would cost a Python hook per object).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Final, NoReturn

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.describe import kind_of
from goodthings.ingest.senml.records import Record
from goodthings.ingest.senml.resolution import resolve


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
            f"a SenML pack is a JSON array of records, got {kind_of(pack)}"
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
