"""Resolve a decoded SenML pack (RFC 8428 §4.6) into absolute, self-contained records.

Base fields (``bn``, ``bt``, ``bu``, ``bv``, ``bs``, ``bver``) apply to the record that carries
them and to every later record until a later record carries the same base field again (§4).
Resolving applies them:

    name   = bn + n                 must then match §4.5.1: [A-Za-z0-9][A-Za-z0-9:./_-]*
    time   = bt + t                 2**28 or more: absolute Unix seconds; less: relative to ``now``
    unit   = u, else bu
    value  = bv + v, or vs, vb, vd  exactly one of them, unless the record carries a sum ``s``
    sum    = bs + s                 when either is present (§4.5.4)

Choices where RFC 8428 leaves room (each one is tested in tests/ingest/test_senml.py):

* A record that carries only base fields (like the first record of the §5.1.7 example) sets
  context for the records after it and resolves to no record of its own.
* A base value ``bv`` is added to a numeric ``v`` only; a record without ``v`` takes no value
  from ``bv`` (§4.2: the record itself must carry its one value field).
* An empty unit (``"u": ""`` or ``"bu": ""``) means "no unit".
* ``ut`` is a period of time, so a negative one is refused.

This is the hot path of ingest: the common record (``n``, ``v``, ``t``, ``u`` only) takes a
short way through, and names already checked are remembered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.describe import kind_of, shown
from goodthings.ingest.senml.fields import (
    check_name,
    check_text,
    check_version,
    data_bytes,
    finite_number,
    refuse_overflow,
    refuse_type,
)
from goodthings.ingest.senml.records import Record, build_record

_ABSOLUTE: Final = 268435456.0  # 2**28: times at or above are absolute Unix seconds (§4.5.3)
_NAME_CACHE_SIZE: Final = 4096
# Names already checked against §4.5.1: devices repeat their names in every pack.
_valid_names: dict[str, None] = {}


def resolve(pack: Sequence[Mapping[str, object]], *, now: float) -> list[Record]:
    """Resolve the records of a decoded pack (RFC 8428 §4.6), in pack order.

    ``now`` is the Unix time against which relative times (below 2**28, §4.5.3) are counted:
    normally the time the pack was received. A record that carries only base fields resolves to
    no record; every other record resolves to one.
    """
    if type(pack) is not list and (
        isinstance(pack, str | bytes | bytearray) or not isinstance(pack, Sequence)
    ):
        raise SenMLError(f"a SenML pack is an array of records, got {kind_of(pack)}")
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
    new_record = build_record
    records: list[Record] = []
    append = records.append

    for index, record in enumerate(pack):
        if type(record) is not dict and not isinstance(record, Mapping):
            raise SenMLError(
                f"expected a record (a JSON object), got {kind_of(record)}", index=index
            )
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
                        refuse_type(item, index, key)
                    base_name = item
                    has_base = True
                elif key == "bt":
                    base_time = finite_number(item, index, key)
                    has_base = True
                elif key == "bu":
                    if type(item) is not str:
                        refuse_type(item, index, key)
                    if not item.isascii():
                        check_text(item, index, key)
                    base_unit = item or None
                    has_base = True
                elif key == "bv":
                    base_value = finite_number(item, index, key)
                    has_base = True
                elif key == "bs":
                    base_sum = finite_number(item, index, key)
                    has_base = True
                elif key == "bver":
                    check_version(item, index)
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
                            refuse_type(item, index, key)
                        if not item.isascii():
                            check_text(item, index, key)
                        value = item
                    elif key == "vb":
                        if type(item) is not bool:
                            refuse_type(item, index, key)
                        value = item
                    else:
                        value = data_bytes(item, index)
                    more_values = True
                elif key == "s":
                    s = finite_number(item, index, key)
                    regular = True
                elif key == "ut":
                    update_time = finite_number(item, index, key)
                    if update_time < 0.0:
                        raise SenMLError(
                            f"expected a period of time (zero or more seconds), got {shown(item)}",
                            index=index,
                            field=key,
                        )
                    regular = True
                elif key == "n" or key == "v" or key == "t" or key == "u":
                    if item is None:
                        refuse_type(item, index, key)
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
                    refuse_overflow(index, "s", "bs")

        # Value (§4.2, §4.5.4): exactly one value field, unless there is a sum.
        if v is not None:
            if type(v) is not float or v - v != 0.0:
                v = finite_number(v, index, "v")
            if base_value:
                v = base_value + v
                if v - v != 0.0:
                    refuse_overflow(index, "v", "bv")
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
            refuse_type(n, index, "n")
        if name not in names:
            check_name(name, base_name, index)
            if len(names) >= _NAME_CACHE_SIZE:
                names.clear()
            names[name] = None

        # Time (§4.5.3): base time plus time; below 2**28 it counts from now.
        if t is None:
            time = base_time
        else:
            if type(t) is not float or t - t != 0.0:
                t = finite_number(t, index, "t")
            time = base_time + t
        if time < absolute:
            time += now
        if time - time != 0.0:
            refuse_overflow(index, "t", "bt")

        # Unit (§4.5.2): the record's own, else the base unit.
        if u is None:
            unit = base_unit
        elif type(u) is str:
            if not u.isascii():
                check_text(u, index, "u")
            unit = u or None
        else:
            refuse_type(u, index, "u")

        append(
            new_record(name, time, unit, value, base_sum if s is None else s, update_time, index)
        )
    return records
