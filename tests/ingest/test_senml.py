"""The SenML codec, read as the spec: RFC 8428 rules, its examples, and every refusal.

Times are resolved against NOW; the RFC's examples are copied from RFC 8428 §5.1 verbatim.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from types import MappingProxyType

import cbor2
import pytest

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import Record, parse_cbor, parse_json, resolution, resolve, to_json

NOW = 1_700_000_000.0
TWO_28 = 2**28


def rec(
    name: str,
    time: float = NOW,
    unit: str | None = None,
    value: float | str | bool | bytes | None = None,
    sum: float | None = None,
    update_time: float | None = None,
) -> Record:
    return Record(name, time, unit, value, sum, update_time)


def refusal(payload: str | bytes) -> SenMLError:
    with pytest.raises(SenMLError) as caught:
        parse_json(payload, now=NOW)
    return caught.value


# ---------------------------------------------------------------------------------------------
# Base fields (RFC 8428 §4.1, §4.5) and their resolution (§4.6)

BASE_FIELD_CASES = {
    "bn is prepended to n": (
        [{"bn": "urn:dev:ow:10e2073a01080063:", "n": "temp", "v": 1}],
        [rec("urn:dev:ow:10e2073a01080063:temp", value=1.0)],
    ),
    "bn alone is the name": (
        [{"bn": "urn:dev:ow:10e2073a01080063", "v": 1}],
        [rec("urn:dev:ow:10e2073a01080063", value=1.0)],
    ),
    "n alone is the name": ([{"n": "temp", "v": 1}], [rec("temp", value=1.0)]),
    "bn applies to later records": (
        [{"bn": "dev:", "n": "a", "v": 1}, {"n": "b", "v": 2}, {"v": 3}],
        [rec("dev:a", value=1.0), rec("dev:b", value=2.0), rec("dev:", value=3.0)],
    ),
    "a later bn overrides": (
        [{"bn": "one:", "n": "a", "v": 1}, {"bn": "two:", "n": "a", "v": 2}, {"n": "b", "v": 3}],
        [rec("one:a", value=1.0), rec("two:a", value=2.0), rec("two:b", value=3.0)],
    ),
    "bt is added to t": (
        [{"n": "x", "bt": 1.6e9, "t": 5, "v": 1}],
        [rec("x", time=1.6e9 + 5, value=1.0)],
    ),
    "bt alone is the time": ([{"n": "x", "bt": 1.6e9, "v": 1}], [rec("x", 1.6e9, value=1.0)]),
    "bt applies to later records until overridden": (
        [
            {"n": "x", "bt": 1.6e9, "v": 1},
            {"n": "x", "t": 60, "v": 2},
            {"n": "x", "bt": 1.7e9, "t": 60, "v": 3},
            {"n": "x", "v": 4},
        ],
        [
            rec("x", 1.6e9, value=1.0),
            rec("x", 1.6e9 + 60, value=2.0),
            rec("x", 1.7e9 + 60, value=3.0),
            rec("x", 1.7e9, value=4.0),
        ],
    ),
    "bu is the unit of records without u": (
        [{"bu": "A", "n": "x", "v": 1}, {"n": "y", "u": "V", "v": 2}, {"n": "z", "v": 3}],
        [
            rec("x", unit="A", value=1.0),
            rec("y", unit="V", value=2.0),
            rec("z", unit="A", value=3.0),
        ],
    ),
    "a later bu overrides": (
        [{"bu": "A", "n": "x", "v": 1}, {"bu": "V", "n": "y", "v": 2}],
        [rec("x", unit="A", value=1.0), rec("y", unit="V", value=2.0)],
    ),
    "no u and no bu is no unit": ([{"n": "x", "v": 1}], [rec("x", value=1.0)]),
    "an empty bu clears the base unit": (
        [{"bu": "A", "n": "x", "v": 1}, {"bu": "", "n": "y", "v": 2}],
        [rec("x", unit="A", value=1.0), rec("y", value=2.0)],
    ),
    "an empty u means no unit, even under bu": (
        [{"bu": "A", "n": "x", "u": "", "v": 1}],
        [rec("x", value=1.0)],
    ),
    "bv is added to v": ([{"n": "x", "bv": 100, "v": 1.5}], [rec("x", value=101.5)]),
    "bv applies to later records until overridden": (
        [{"n": "x", "bv": 100, "v": 1}, {"n": "x", "v": -1}, {"n": "x", "bv": 0, "v": 7}],
        [rec("x", value=101.0), rec("x", value=99.0), rec("x", value=7.0)],
    ),
    "bv is not added to vs, vb or vd": (
        [{"n": "x", "bv": 100, "vs": "on"}, {"n": "y", "vb": True}, {"n": "z", "vd": "AA"}],
        [rec("x", value="on"), rec("y", value=True), rec("z", value=b"\x00")],
    ),
    "bs is added to s": ([{"n": "x", "bs": 1000, "s": 5}], [rec("x", sum=1005.0)]),
    "bs alone is the sum (§4.5.4)": (
        [{"n": "x", "bs": 1000, "s": 5}, {"n": "x", "v": 2}],
        [rec("x", sum=1005.0), rec("x", value=2.0, sum=1000.0)],
    ),
    "s alone is the sum": ([{"n": "x", "s": 5}], [rec("x", sum=5.0)]),
    "no s and no bs is no sum": ([{"n": "x", "v": 1}], [rec("x", value=1.0)]),
    "a value and a sum together": ([{"n": "x", "v": 1, "s": 2}], [rec("x", value=1.0, sum=2.0)]),
    "ut is carried as it is": (
        [{"n": "x", "v": 1, "ut": 300}],
        [rec("x", value=1.0, update_time=300.0)],
    ),
    "ut applies to its record only": (
        [{"n": "x", "v": 1, "ut": 300}, {"n": "x", "v": 2}],
        [rec("x", value=1.0, update_time=300.0), rec("x", value=2.0)],
    ),
    "base fields of one record apply to that record too": (
        [{"bn": "d/", "bt": 1.6e9, "bu": "W", "bv": 10, "bs": 20, "n": "p", "v": 1, "s": 2}],
        [rec("d/p", 1.6e9, "W", 11.0, 22.0)],
    ),
    "bver 10 is the version this codec reads": (
        [{"bver": 10, "n": "x", "v": 1}, {"bver": 10, "n": "y", "v": 2}],
        [rec("x", value=1.0), rec("y", value=2.0)],
    ),
    "a record of base fields only resolves to no record": (
        [{"bn": "dev:", "bu": "Cel"}, {"n": "a", "v": 1}],
        [rec("dev:a", unit="Cel", value=1.0)],
    ),
    "the order of fields in a record does not matter": (
        [{"v": 1, "n": "a", "bv": 10, "bn": "d:", "t": 1, "bt": 1.6e9}],
        [rec("d:a", 1.6e9 + 1, value=11.0)],
    ),
    "integers are read as floats": (
        [{"n": "x", "v": 3, "t": TWO_28}],
        [rec("x", TWO_28, value=3.0)],
    ),
}


@pytest.mark.parametrize(
    ("pack", "expected"), list(BASE_FIELD_CASES.values()), ids=list(BASE_FIELD_CASES)
)
def test_base_fields_resolve(pack: list[dict[str, object]], expected: list[Record]) -> None:
    records = resolve(pack, now=NOW)
    assert records == expected
    assert all(type(r.time) is float for r in records)
    assert all(type(r.value) is float for r in records if type(r.value) in (int, float))
    assert records == parse_json(json.dumps(pack), now=NOW)


# ---------------------------------------------------------------------------------------------
# Time (§4.5.3): 2**28 and above is absolute, below is relative to now (negative: the past)

TIME_CASES = {
    "no time is now": ({}, NOW),
    "t 0 is now": ({"t": 0}, NOW),
    "negative t is seconds before now": ({"t": -5}, NOW - 5),
    "fractional negative t": ({"t": -0.25}, NOW - 0.25),
    "positive small t is seconds after now": ({"t": 20}, NOW + 20),
    "2**28 - 1 is still relative": ({"t": TWO_28 - 1}, NOW + TWO_28 - 1),
    "2**28 is absolute": ({"t": TWO_28}, float(TWO_28)),
    "2**28 as a float is absolute": ({"t": float(TWO_28)}, float(TWO_28)),
    "just below 2**28 as a float is relative": (
        {"t": TWO_28 - 0.5},
        NOW + TWO_28 - 0.5,
    ),
    "a Unix time is absolute": ({"t": 1.276020076e9}, 1.276020076e9),
    "bt + t reaching 2**28 is absolute": ({"bt": TWO_28 - 10, "t": 10}, float(TWO_28)),
    "bt + t below 2**28 is relative": ({"bt": TWO_28, "t": -1}, NOW + TWO_28 - 1),
    "relative bt and t add up": ({"bt": -60, "t": -5}, NOW - 65),
    "absolute bt with negative t is absolute": ({"bt": 1.6e9, "t": -5}, 1.6e9 - 5),
    "very negative relative time": ({"t": -86400 * 365}, NOW - 86400 * 365),
}


@pytest.mark.parametrize(("fields", "time"), list(TIME_CASES.values()), ids=list(TIME_CASES))
def test_time_is_absolute_from_2_28_and_relative_below(
    fields: dict[str, object], time: float
) -> None:
    [record] = resolve([{"n": "x", "v": 1, **fields}], now=NOW)
    assert record.time == time


def test_relative_times_count_from_the_now_given() -> None:
    pack = [{"n": "x", "t": -5, "v": 1}, {"n": "x", "t": 1.6e9, "v": 2}]
    assert [r.time for r in resolve(pack, now=1000.0)] == [995.0, 1.6e9]
    assert [r.time for r in resolve(pack, now=2000)] == [1995.0, 1.6e9]


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_now_must_be_finite(now: float) -> None:
    with pytest.raises(ValueError, match="now must be a finite Unix time"):
        resolve([{"n": "x", "v": 1}], now=now)


# ---------------------------------------------------------------------------------------------
# Values (§4.2, §4.3, §4.5.4)

VALUE_CASES = {
    "v": ({"v": 21.5}, 21.5),
    "v negative": ({"v": -3}, -3.0),
    "v zero": ({"v": 0}, 0.0),
    "v exponent": ({"v": 1.2e-7}, 1.2e-7),
    "vs": ({"vs": "Machine Room"}, "Machine Room"),
    "vs empty": ({"vs": ""}, ""),
    "vs non-ASCII": ({"vs": "Küche ☃"}, "Küche ☃"),
    "vb true": ({"vb": True}, True),
    "vb false": ({"vb": False}, False),
    "vd": ({"vd": "aGkgCg"}, b"hi \n"),
    "vd empty": ({"vd": ""}, b""),
    "vd two bytes": ({"vd": "AAE"}, b"\x00\x01"),
    "vd url-safe alphabet": ({"vd": "-_-_"}, b"\xfb\xff\xbf"),
    "vd three bytes, no padding needed": ({"vd": "AAEC"}, b"\x00\x01\x02"),
}


@pytest.mark.parametrize(("fields", "value"), list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_each_kind_of_value(fields: dict[str, object], value: object) -> None:
    [record] = parse_json(json.dumps([{"n": "x", **fields}]), now=NOW)
    assert record.value == value
    assert type(record.value) is type(value)


# ---------------------------------------------------------------------------------------------
# Extensibility (§4.4): unknown fields are ignored, unknown fields ending in "_" refused

UNKNOWN_FIELDS = {
    "a plain extension": {"foo": 1},
    "an extension base field": {"bfoo": "x"},
    "an extension with punctuation": {"x-y.z": "text"},
    "an object": {"meta": {"a": [1, 2, {"b": None}]}},
    "null": {"note": None},
    "underscore inside the label": {"a_b": 1},
    "underscore first": {"_a": 1},
}


@pytest.mark.parametrize("extra", list(UNKNOWN_FIELDS.values()), ids=list(UNKNOWN_FIELDS))
def test_unknown_fields_are_ignored(extra: dict[str, object]) -> None:
    assert parse_json(json.dumps([{"n": "x", "v": 1, **extra}]), now=NOW) == [rec("x", value=1.0)]


@pytest.mark.parametrize("label", ["foo_", "b_", "_", "v_", "bver_", "n_"])
def test_must_understand_fields_are_refused(label: str) -> None:
    error = refusal(json.dumps([{"n": "x", "v": 1}, {"n": "x", "v": 2, label: 1}]))
    assert (error.index, error.field) == (1, label)
    assert "must be understood" in str(error)
    assert "§4.4" in str(error)


def test_a_must_understand_field_is_refused_even_in_a_record_of_base_fields() -> None:
    error = refusal('[{"bn": "d:", "bx_": 1}, {"n": "x", "v": 1}]')
    assert (error.index, error.field) == (0, "bx_")


# ---------------------------------------------------------------------------------------------
# Version (§4.4): 10 (the default) and below are read; a newer one is refused


@pytest.mark.parametrize("version", [11, 12, 26, 1000])
def test_newer_versions_are_refused(version: int) -> None:
    error = refusal(json.dumps([{"bver": version, "n": "x", "v": 1}]))
    assert (error.index, error.field) == (0, "bver")
    assert f"version {version} is newer than this codec understands" in str(error)


def test_a_newer_version_in_a_later_record_is_refused() -> None:
    error = refusal('[{"n": "x", "v": 1}, {"n": "x", "v": 2}, {"bver": 11, "n": "x", "v": 3}]')
    assert (error.index, error.field) == (2, "bver")


@pytest.mark.parametrize("version", [1, 5, 9, 10])
def test_older_versions_are_read(version: int) -> None:
    """§4.4: only a version newer than the codec's must be refused."""
    assert parse_json(json.dumps([{"bver": version, "n": "x", "v": 1}]), now=NOW) == [
        rec("x", value=1.0)
    ]


@pytest.mark.parametrize("version", ['"10"', "true", "0", "-10", "10.5", "null", "[10]"])
def test_a_version_that_is_not_a_positive_integer_is_refused(version: str) -> None:
    error = refusal(f'[{{"bver": {version}, "n": "x", "v": 1}}]')
    assert (error.index, error.field) == (0, "bver")
    assert "positive integer" in str(error)


def test_version_10_written_as_10_0_is_read() -> None:
    assert parse_json('[{"bver": 10.0, "n": "x", "v": 1}]', now=NOW) == [rec("x", value=1.0)]


# ---------------------------------------------------------------------------------------------
# Malformed packs and records: each refusal names the record and the field

MALFORMED = {
    # (payload, index, field, fragment of the message)
    "not an array": ('{"n": "x", "v": 1}', None, None, "JSON array of records, got an object"),
    "a bare string": ('"hello"', None, None, "JSON array of records"),
    "empty pack": ("[]", None, None, "the pack is empty"),
    "invalid JSON": ('[{"n": "x",\n "v": 1', None, None, "invalid JSON at line 2, column"),
    "trailing comma": ('[{"n": "x", "v": 1},]', None, None, "invalid JSON at line 1, column"),
    "empty payload": ("", None, None, "invalid JSON at line 1, column 1"),
    "record is a number": ('[{"n": "x", "v": 1}, 7]', 1, None, "expected a record"),
    "record is an array": ('[["n", "x"]]', 0, None, "got an array"),
    "v is a string": ('[{"n": "x", "v": "21.5"}]', 0, "v", 'use "vs" for text values'),
    "v is a boolean": ('[{"n": "x", "v": true}]', 0, "v", 'use "vb" for boolean values'),
    "v is null": ('[{"n": "x", "v": null}]', 0, "v", "expected a number, got null"),
    "v is an object": ('[{"n": "x", "v": {"a": 1}}]', 0, "v", "got an object"),
    "v is NaN": ('[{"n": "x", "v": NaN}]', 0, "v", "NaN is not a JSON number"),
    "v is Infinity": ('[{"n": "x", "v": Infinity}]', 0, "v", "Infinity is not a JSON number"),
    "t is -Infinity": ('[{"n": "x", "v": 1, "t": -Infinity}]', 0, "t", "-Infinity is not"),
    "NaN in an unknown field": ('[{"n": "x", "v": 1, "x": [NaN]}]', 0, "x", "must be finite"),
    "NaN as a record": ("[NaN]", 0, None, "NaN is not a JSON number"),
    "v overflows a double": ('[{"n": "x", "v": 1e400}]', 0, "v", "expected a finite number"),
    "v integer too large": ('[{"n": "x", "v": 1' + "0" * 400 + "}]", 0, "v", "fits a double"),
    "bv + v overflows": ('[{"n": "x", "bv": 1e308, "v": 1e308}]', 0, "v", "'bv' overflows"),
    "vs is a number": ('[{"n": "x", "vs": 21.5}]', 0, "vs", 'use "v" for numeric values'),
    "vs is a boolean": ('[{"n": "x", "vs": false}]', 0, "vs", 'use "vb"'),
    "vb is a number": ('[{"n": "x", "vb": 1}]', 0, "vb", "expected true or false"),
    "vb is a string": ('[{"n": "x", "vb": "true"}]', 0, "vb", "a JSON boolean, not a string"),
    "vd is a number": ('[{"n": "x", "vd": 12}]', 0, "vd", "expected base64url text"),
    "vd has padding": ('[{"n": "x", "vd": "aGkgCg=="}]', 0, "vd", "padding '=' must be left out"),
    "vd standard alphabet": ('[{"n": "x", "vd": "ab+/"}]', 0, "vd", "standard base64 alphabet"),
    "vd space": ('[{"n": "x", "vd": "aGk gCg"}]', 0, "vd", "' ' is not a base64url character"),
    "vd bad length": ('[{"n": "x", "vd": "aGkgC"}]', 0, "vd", "5 characters cannot be decoded"),
    "two values": ('[{"n": "x", "v": 1, "vs": "one"}]', 0, "vs", "both 'v' and 'vs'"),
    "two non-numeric values": ('[{"n": "x", "vb": true, "vd": "AA"}]', 0, "vd", "'vb' and 'vd'"),
    "no value and no sum": ('[{"n": "x", "u": "Cel"}]', 0, "v", "has no value"),
    "no value under bs": ('[{"n": "x", "bs": 5, "t": 1}]', 0, "v", "has no value"),
    "empty record": ("[{}]", 0, "v", "the record is empty"),
    "only extensions": ('[{"foo": 1}]', 0, "v", "has no value"),
    "no name at all": ('[{"v": 1}]', 0, "n", "the name is empty"),
    "empty bn and n": ('[{"bn": "", "n": "", "v": 1}]', 0, "n", "the name is empty"),
    "n is a number": ('[{"n": 5, "v": 1}]', 0, "n", "expected a string, got 5 (a number)"),
    "n is null": ('[{"n": null, "v": 1}]', 0, "n", "expected a string, got null"),
    "n has a space": ('[{"n": "room temp", "v": 1}]', 0, "n", "holds ' ' at position 4"),
    "n has a non-ASCII letter": ('[{"n": "température", "v": 1}]', 0, "n", "holds 'é'"),
    "n starts with a dash": ('[{"n": "-temp", "v": 1}]', 0, "n", "starts with '-'"),
    "n starts with a slash": ('[{"n": "/temp", "v": 1}]', 0, "n", "starts with '/'"),
    "n has a hash": ('[{"n": "temp#1", "v": 1}]', 0, "n", "§4.5.1"),
    "bn has a space": ('[{"bn": "my dev:", "n": "t", "v": 1}]', 0, "bn", "holds ' '"),
    "bn starts badly": ('[{"bn": ":dev:", "n": "t", "v": 1}]', 0, "bn", "starts with ':'"),
    "bad char in n after bn": ('[{"bn": "dev:", "n": "t?", "v": 1}]', 0, "n", "at position 5"),
    "bn is a number": ('[{"bn": 5, "n": "t", "v": 1}]', 0, "bn", "expected a string"),
    "bn is null": ('[{"bn": null, "n": "t", "v": 1}]', 0, "bn", "got null"),
    "u is a number": ('[{"n": "x", "u": 1, "v": 1}]', 0, "u", "expected a string"),
    "bu is a boolean": ('[{"n": "x", "bu": true, "v": 1}]', 0, "bu", "got true (a boolean)"),
    "t is a date string": ('[{"n": "x", "t": "2024-05-01T12:00:00Z", "v": 1}]', 0, "t", "2**28"),
    "t is a boolean": ('[{"n": "x", "t": true, "v": 1}]', 0, "t", "expected a number"),
    "bt is a boolean": ('[{"n": "x", "bt": false, "v": 1}]', 0, "bt", "got false (a boolean)"),
    "bt is a string": ('[{"n": "x", "bt": "1.6e9", "v": 1}]', 0, "bt", "relative to now"),
    "bv is a boolean": ('[{"n": "x", "bv": true, "v": 1}]', 0, "bv", "expected a number"),
    "bs is a boolean": ('[{"n": "x", "bs": true, "s": 1}]', 0, "bs", "expected a number"),
    "s is a boolean": ('[{"n": "x", "s": true}]', 0, "s", "expected a number"),
    "s is a string": ('[{"n": "x", "s": "12"}]', 0, "s", "expected a number"),
    "ut is a boolean": ('[{"n": "x", "v": 1, "ut": true}]', 0, "ut", "expected a number"),
    "ut is negative": ('[{"n": "x", "v": 1, "ut": -5}]', 0, "ut", "a period of time"),
    "vs unpaired surrogate": ('[{"n": "x", "vs": "a\\ud800"}]', 0, "vs", "unpaired surrogate"),
    "u unpaired surrogate": ('[{"n": "x", "v": 1, "u": "\\udc00"}]', 0, "u", "unpaired surrogate"),
    "bu unpaired surrogate": ('[{"n": "x", "v": 1, "bu": "\\ud800"}]', 0, "bu", "surrogate"),
    "must-understand field": ('[{"n": "x", "v": 1, "crit_": 1}]', 0, "crit_", "must be understood"),
    "newer version": ('[{"bver": 11, "n": "x", "v": 1}]', 0, "bver", "newer"),
}


@pytest.mark.parametrize(
    ("payload", "index", "field", "fragment"), list(MALFORMED.values()), ids=list(MALFORMED)
)
def test_malformed_input_is_refused_with_its_place(
    payload: str, index: int | None, field: str | None, fragment: str
) -> None:
    error = refusal(payload)
    assert (error.index, error.field) == (index, field)
    assert fragment in str(error)
    prefix = ", ".join(
        [
            *([f"record {index}"] if index is not None else []),
            *([f"field {field!r}"] if field else []),
        ]
    )
    assert str(error).startswith(f"{prefix}: " if prefix else "")


def test_the_message_names_record_field_and_remedy() -> None:
    pack = [{"bn": "dev:", "n": "a", "v": 1}, {"n": "b", "v": 2}, {"n": "c", "v": 3}]
    pack.append({"n": "d", "v": "21.5"})
    error = refusal(json.dumps(pack))
    assert str(error) == (
        """record 3, field 'v': expected a number, got "21.5" (a string); """
        """use "vs" for text values"""
    )


@pytest.mark.parametrize(
    "payload",
    [b'[{"n": "x", "vs": "\xff"}]', b'[{"n": "x", "vs": "\xc3("}]', b"\xef\xbb\xbf[]"[:1]],
    ids=["byte ff", "broken sequence", "cut BOM"],
)
def test_payload_bytes_must_be_utf8(payload: bytes) -> None:
    error = refusal(payload)
    assert (error.index, error.field) == (None, None)
    assert "not UTF-8" in str(error)


def test_payload_may_be_bytes_or_text() -> None:
    text = '[{"n": "x", "vs": "Küche"}]'
    assert parse_json(text.encode(), now=NOW) == parse_json(text, now=NOW)


def test_a_byte_order_mark_is_refused() -> None:
    assert "invalid JSON" in str(refusal('\ufeff[{"n": "x", "v": 1}]'.encode()))


def test_json_nested_too_deeply_is_refused() -> None:
    assert "invalid JSON" in str(refusal("[" * 100_000 + "]" * 100_000))


@pytest.mark.parametrize(
    "field", ["v", "s", "t", "ut", "bt", "bv", "bs"], ids=lambda field: f"{field} true"
)
def test_booleans_are_not_numbers(field: str) -> None:
    record: dict[str, object] = {"n": "x", "v": 1, field: True}
    error = refusal(json.dumps([record]))
    assert (error.index, error.field) == (0, field)
    assert "got true (a boolean)" in str(error)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("field", ["v", "s", "t", "ut", "bt", "bv", "bs"])
def test_non_finite_numbers_are_refused(constant: str, field: str) -> None:
    error = refusal(f'[{{"n": "x", "v": 1}}, {{"n": "x", "v": 1, "{field}": {constant}}}]')
    assert (error.index, error.field) == (1, field)
    assert "SenML numbers must be finite" in str(error)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_by_resolve_too(number: float) -> None:
    with pytest.raises(SenMLError, match="expected a finite number") as caught:
        resolve([{"n": "x", "v": number}], now=NOW)
    assert (caught.value.index, caught.value.field) == (0, "v")


def test_errors_in_later_records_name_their_index() -> None:
    pack = [{"bn": "d:", "n": str(i), "v": i} for i in range(7)]
    pack[5]["n"] = "bad name"
    error = refusal(json.dumps(pack))
    assert (error.index, error.field) == (5, "n")


def test_a_base_name_from_an_earlier_record_is_blamed_on_bn() -> None:
    error = refusal('[{"bn": "my dev:", "bu": "A"}, {"n": "x", "v": 1}]')
    assert (error.index, error.field) == (1, "bn")


def test_a_record_of_base_fields_only_still_checks_them() -> None:
    error = refusal('[{"bn": "d:", "bt": "soon"}, {"n": "x", "v": 1}]')
    assert (error.index, error.field) == (0, "bt")


# ---------------------------------------------------------------------------------------------
# The examples of RFC 8428 §5.1, verbatim

SINGLE_DATA_POINT = """
   [
     {"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}
   ]
"""

MULTIPLE_DATA_POINTS = """
[
  {"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},
  {"n":"current","u":"A","v":1.2}
]
"""

# The RFC's own base name here lacks the final "3" of the 1-wire address; kept as printed.
MULTIPLE_DATA_POINTS_RELATIVE = """
   [
     {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
      "bu":"A","bver":5,
      "n":"voltage","u":"V","v":120.1},
     {"n":"current","t":-5,"v":1.2},
     {"n":"current","t":-4,"v":1.3},
     {"n":"current","t":-3,"v":1.4},
     {"n":"current","t":-2,"v":1.5},
     {"n":"current","t":-1,"v":1.6},
     {"n":"current","v":1.7}
   ]
"""

SENSML_STREAM = """
   [
     {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,
      "bu":"%RH","v":21.2},
     {"t":10,"v":21.3},
     {"t":20,"v":21.4},
     {"t":30,"v":21.4},
     {"t":40,"v":21.5},
     {"t":50,"v":21.5},
     {"t":60,"v":21.5},
     {"t":70,"v":21.6},
     {"t":80,"v":21.7}
   ]
"""

MULTIPLE_MEASUREMENTS = """
   [
     {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,
      "bu":"%RH","v":20},
     {"u":"lon","v":24.30621},
     {"u":"lat","v":60.07965},
     {"t":60,"v":20.3},
     {"u":"lon","t":60,"v":24.30622},
     {"u":"lat","t":60,"v":60.07965},
     {"t":120,"v":20.7},
     {"u":"lon","t":120,"v":24.30623},
     {"u":"lat","t":120,"v":60.07966},
     {"u":"%EL","t":150,"v":98},
     {"t":180,"v":21.2},
     {"u":"lon","t":180,"v":24.30628},
     {"u":"lat","t":180,"v":60.07967}
   ]
"""

RESOLVED_DATA = """
   [
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067464e+09,
      "v":20},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067464e+09,
      "v":24.30621},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067464e+09,
      "v":60.07965},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067524e+09,
      "v":20.3},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067524e+09,
      "v":24.30622},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067524e+09,
      "v":60.07965},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067584e+09,
      "v":20.7},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067584e+09,
      "v":24.30623},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067584e+09,
      "v":60.07966},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%EL","t":1.320067614e+09,
      "v":98},
     {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067644e+09,
      "v":21.2},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067644e+09,
      "v":24.30628},
     {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067644e+09,
      "v":60.07967}
   ]
"""

MULTIPLE_DATA_TYPES = """
  [
    {"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
    {"n":"label","vs":"Machine Room"},
    {"n":"open","vb":false},
    {"n":"nfv-reader","vd":"aGkgCg"}
  ]
"""

COLLECTION_OF_RESOURCES = """
   [
     {"bn":"2001:db8::2/","bt":1.320078429e+09,
      "n":"temperature","u":"Cel","v":25.2},
     {"n":"humidity","u":"%RH","v":30},
     {"bn":"2001:db8::1/","n":"temperature","u":"Cel","v":12.3},
     {"n":"humidity","u":"%RH","v":67}
   ]
"""

SETTING_AN_ACTUATOR = """
   [
     {"bn":"urn:dev:ow:10e2073a01080063:"},
     {"n":"temp","u":"Cel","v":23.1},
     {"n":"heat","u":"/","v":1},
     {"n":"fan","u":"/","v":0}
   ]
"""

LIGHTS_ON = """
   [
     {"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":1},
     {"n":"2001:db8::4","v":1}
   ]
"""

LIGHTS_OFF = """
   [
     {"bt":1.320078429e+09,"bu":"/","n":"2001:db8::3","v":0.5},
     {"n":"2001:db8::4","v":0.5},
     {"n":"2001:db8::3","t":0.1,"v":0},
     {"n":"2001:db8::4","t":0.1,"v":0}
   ]
"""

DEV = "urn:dev:ow:10e2073a01080063"
BT_5_1_2 = 1.276020076001e09

RFC_EXAMPLES = {
    "5.1.1 single data point": (SINGLE_DATA_POINT, [rec(DEV, NOW, "Cel", 23.1)]),
    "5.1.2 multiple data points": (
        MULTIPLE_DATA_POINTS,
        [rec(f"{DEV}:voltage", NOW, "V", 120.1), rec(f"{DEV}:current", NOW, "A", 1.2)],
    ),
    "5.1.2 multiple data points, relative times (with its bver 5)": (
        MULTIPLE_DATA_POINTS_RELATIVE,
        [
            rec("urn:dev:ow:10e2073a0108006:voltage", BT_5_1_2, "V", 120.1),
            *(
                rec("urn:dev:ow:10e2073a0108006:current", BT_5_1_2 + t, "A", v)
                for t, v in [(-5, 1.2), (-4, 1.3), (-3, 1.4), (-2, 1.5), (-1, 1.6), (0, 1.7)]
            ),
        ],
    ),
    "5.1.2 SensML stream": (
        SENSML_STREAM,
        [
            rec(DEV, 1.320067464e09 + t, "%RH", v)
            for t, v in zip(
                range(0, 90, 10),
                [21.2, 21.3, 21.4, 21.4, 21.5, 21.5, 21.5, 21.6, 21.7],
                strict=True,
            )
        ],
    ),
    "5.1.5 multiple data types": (
        MULTIPLE_DATA_TYPES,
        [
            rec(f"{DEV}:temp", NOW, "Cel", 23.1),
            rec(f"{DEV}:label", NOW, None, "Machine Room"),
            rec(f"{DEV}:open", NOW, None, False),
            rec(f"{DEV}:nfv-reader", NOW, None, b"hi \n"),
        ],
    ),
    "5.1.6 collection of resources": (
        COLLECTION_OF_RESOURCES,
        [
            rec("2001:db8::2/temperature", 1.320078429e09, "Cel", 25.2),
            rec("2001:db8::2/humidity", 1.320078429e09, "%RH", 30.0),
            rec("2001:db8::1/temperature", 1.320078429e09, "Cel", 12.3),
            # "the last record would use the Base Name from the 3rd record but the Base Time
            # from the first record"
            rec("2001:db8::1/humidity", 1.320078429e09, "%RH", 67.0),
        ],
    ),
    "5.1.7 setting an actuator": (
        SETTING_AN_ACTUATOR,
        [
            rec(f"{DEV}:temp", NOW, "Cel", 23.1),
            rec(f"{DEV}:heat", NOW, "/", 1.0),
            rec(f"{DEV}:fan", NOW, "/", 0.0),
        ],
    ),
    "5.1.7 lights on": (
        LIGHTS_ON,
        [
            rec("2001:db8::3", 1.320078429e09, "/", 1.0),
            rec("2001:db8::4", 1.320078429e09, "/", 1.0),
        ],
    ),
    "5.1.7 lights off": (
        LIGHTS_OFF,
        [
            rec("2001:db8::3", 1.320078429e09, "/", 0.5),
            rec("2001:db8::4", 1.320078429e09, "/", 0.5),
            rec("2001:db8::3", 1.320078429e09 + 0.1, "/", 0.0),
            rec("2001:db8::4", 1.320078429e09 + 0.1, "/", 0.0),
        ],
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(RFC_EXAMPLES.values()), ids=list(RFC_EXAMPLES))
def test_rfc_examples(text: str, expected: list[Record]) -> None:
    assert parse_json(text, now=NOW) == expected


def test_rfc_5_1_3_resolves_to_the_resolved_data_of_5_1_4() -> None:
    records = parse_json(MULTIPLE_MEASUREMENTS, now=NOW)
    assert to_json(records) == json.loads(RESOLVED_DATA)


def test_resolved_data_of_5_1_4_resolves_to_itself() -> None:
    resolved = parse_json(RESOLVED_DATA, now=NOW)
    assert resolved == parse_json(MULTIPLE_MEASUREMENTS, now=NOW)
    assert to_json(resolved) == json.loads(RESOLVED_DATA)


def test_resolving_does_not_depend_on_now_for_absolute_times() -> None:
    assert parse_json(MULTIPLE_MEASUREMENTS, now=0.0) == parse_json(MULTIPLE_MEASUREMENTS, now=NOW)


# ---------------------------------------------------------------------------------------------
# to_json: the resolved form of §4.6


def test_to_json_writes_every_field_of_the_resolved_form() -> None:
    records = [
        rec("a", 1.6e9, "W", 1.5, 100.0, 60.0),
        rec("b", 1.6e9, None, "text"),
        rec("c", 1.6e9, None, True),
        rec("d", 1.6e9, None, b"\xfb\xff\xbf\x00"),
        rec("e", 1.6e9, "Wh", None, 7.0),
    ]
    assert to_json(records) == [
        {"n": "a", "t": 1.6e9, "u": "W", "v": 1.5, "s": 100.0, "ut": 60.0},
        {"n": "b", "t": 1.6e9, "vs": "text"},
        {"n": "c", "t": 1.6e9, "vb": True},
        {"n": "d", "t": 1.6e9, "vd": "-_-_AA"},
        {"n": "e", "t": 1.6e9, "u": "Wh", "s": 7.0},
    ]


def test_to_json_has_no_base_fields_and_no_bver() -> None:
    records = parse_json(
        '[{"bver": 10, "bn": "d:", "bt": 1.6e9, "bu": "A", "n": "x", "v": 1}]', now=NOW
    )
    [item] = to_json(records)
    assert not [key for key in item if key.startswith("b")]


def test_to_json_orders_records_chronologically_and_stably() -> None:
    records = [
        rec("late", 3.0e9, value=1.0),
        rec("a", 2.0e9, value=1.0),
        rec("b", 2.0e9, value=2.0),
    ]
    assert [item["n"] for item in to_json(records)] == ["a", "b", "late"]


def test_to_json_round_trips_through_parse_json() -> None:
    records = parse_json(MULTIPLE_DATA_TYPES, now=NOW) + parse_json(LIGHTS_OFF, now=NOW)
    again = parse_json(json.dumps(to_json(records)), now=0.0)
    assert again == sorted(records, key=lambda record: record.time)


def test_to_json_of_nothing_is_an_empty_list() -> None:
    assert to_json([]) == []


# ---------------------------------------------------------------------------------------------
# resolve() takes any sequence of mappings


def test_resolve_takes_any_sequence_of_mappings() -> None:
    records: tuple[Mapping[str, object], ...] = (
        MappingProxyType({"bn": "d:", "n": "a", "v": 1}),
        MappingProxyType({"n": "b", "vs": "x"}),
    )
    assert resolve(records, now=NOW) == [rec("d:a", value=1.0), rec("d:b", value="x")]


@pytest.mark.parametrize("pack", ["[]", b"[]", {"n": "x"}, 5, None], ids=repr)
def test_resolve_refuses_what_is_not_a_sequence_of_records(pack: object) -> None:
    with pytest.raises(SenMLError, match="a SenML pack is an array of records") as caught:
        resolve(pack, now=NOW)  # type: ignore[arg-type]
    assert (caught.value.index, caught.value.field) == (None, None)


def test_resolve_accepts_vd_as_bytes() -> None:
    assert resolve([{"n": "x", "vd": b"\x00\x01"}], now=NOW) == [rec("x", value=b"\x00\x01")]


def test_resolve_ignores_labels_that_are_not_text() -> None:
    record: dict[object, object] = {"n": "x", "v": 1, 7: "seven", (1, 2): None}
    assert resolve([record], now=NOW) == [rec("x", value=1.0)]  # type: ignore[list-item]


# ---------------------------------------------------------------------------------------------
# Records


def test_a_record_knows_where_it_stood_in_its_pack_but_is_equal_wherever_it_stands() -> None:
    records = parse_json('[{"bn": "a:", "bt": 1}, {"n": "x", "v": 1}, {"n": "x", "v": 1}]', now=NOW)
    assert [record.index for record in records] == [1, 2]
    assert records[0] == records[1]


def test_resolved_records_are_plain_frozen_records() -> None:
    [record] = parse_json('[{"n": "x", "u": "A", "v": 1, "s": 2, "ut": 3}]', now=NOW)
    assert type(record) is Record
    assert record == Record("x", NOW, "A", 1.0, 2.0, 3.0)
    assert hash(record) == hash(Record("x", NOW, "A", 1.0, 2.0, 3.0))
    assert (
        repr(record)
        == "Record(name='x', time=1700000000.0, unit='A', value=1.0, sum=2.0, update_time=3.0, "
        "index=0)"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.value = 2.0  # type: ignore[misc]
    assert not hasattr(record, "__dict__")


def test_valid_names_are_cached_and_the_cache_stays_small(monkeypatch: pytest.MonkeyPatch) -> None:
    cache: dict[str, None] = {}
    monkeypatch.setattr(resolution, "_valid_names", cache)
    monkeypatch.setattr(resolution, "_NAME_CACHE_SIZE", 3)
    pack = [{"n": f"s{i}", "v": i} for i in range(5)]
    assert [r.name for r in resolve(pack, now=NOW)] == ["s0", "s1", "s2", "s3", "s4"]
    assert 0 < len(cache) <= 3


def test_invalid_names_are_never_cached() -> None:
    for _ in range(2):
        assert refusal('[{"n": "bad name", "v": 1}]').field == "n"
    assert "bad name" not in resolution._valid_names


# ---------------------------------------------------------------------------------------------
# CBOR (RFC 8428 §6)

# The hex dump of §6, as printed: the §5.1.2 example with relative times, bver 5 and all.
RFC_CBOR_DUMP = """
 0000 87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a |..!x.urn:dev:ow:|
 0010 31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a |10e2073a0108006:|
 0020 22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00 |".A...[..b#aA ..|
 0030 67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06 |gvoltage.aV..@^.|
 0040 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 |fffff..gcurrent.|
 0050 24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75 |$..?.333333..gcu|
 0060 72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc |rrent.#..?......|
 0070 cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f |...gcurrent.\"..?|
 0080 f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e |.ffffff..gcurren|
 0090 74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e |t.!..>...gcurren|
 00a0 74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67 |t. ..?.........g|
 00b0 63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33 |current....?.333|
 00c0 33 33 33                                        |333|
"""
RFC_CBOR = bytes.fromhex(
    "".join("".join(line.split("|")[0].split()[1:]) for line in RFC_CBOR_DUMP.strip().splitlines())
)


def test_the_rfc_cbor_example_resolves_like_its_json_bver_5_and_all() -> None:
    assert len(RFC_CBOR) == 0xC3
    assert cbor2.loads(RFC_CBOR)[0][-1] == 5  # the §6 example's bver 5
    assert parse_cbor(RFC_CBOR, now=NOW) == parse_json(MULTIPLE_DATA_POINTS_RELATIVE, now=NOW)


def test_cbor_values_of_every_kind() -> None:
    pack = [
        {-2: "d:", -3: 1.6e9, -4: "A", -5: 10, -6: 100, -1: 10, 0: "v", 2: 1, 6: 5, 7: 60},
        {0: "vs", 3: "text", 5: 1},
        {0: "vb", 4: True},
        {0: "vd", 8: b"\x00\xff"},
        {0: "u", 1: "V", 2: cbor2.CBORTag(4, [-2, 27315])},  # decimal fraction 273.15
    ]
    assert parse_cbor(cbor2.dumps(pack), now=NOW) == [
        rec("d:v", 1.6e9 + 5, "A", 11.0, 100.0, 60.0),
        rec("d:vs", 1.6e9, "A", "text", 101.0),
        rec("d:vb", 1.6e9, "A", True, 100.0),
        rec("d:vd", 1.6e9, "A", b"\x00\xff", 100.0),
        rec("d:u", 1.6e9, "V", 10.0 + 273.15, 100.0),
    ]


def test_cbor_text_labels_are_extensions_and_must_understand_ones_are_refused() -> None:
    assert parse_cbor(cbor2.dumps([{0: "x", 2: 1, "foo": 1, 99: 1, -99: 1}]), now=NOW) == [
        rec("x", value=1.0)
    ]
    with pytest.raises(SenMLError, match="must be understood") as caught:
        parse_cbor(cbor2.dumps([{0: "x", 2: 1, "foo_": 1}]), now=NOW)
    assert (caught.value.index, caught.value.field) == (0, "foo_")


CBOR_MALFORMED = {
    "not CBOR": (b"\xff", None, None, "invalid CBOR"),
    "cut short": (bytes.fromhex("82a10061"), 0, None, "ends before the pack does"),
    "trailing data": (cbor2.dumps([{0: "x", 2: 1}]) + b"\x01", None, None, "more data follows"),
    "not an array": (cbor2.dumps({0: "x", 2: 1}), None, None, "CBOR array of records"),
    "indefinite array": (
        b"\x9f" + cbor2.dumps({0: "x", 2: 1}) + b"\xff",
        None,
        None,
        "indefinite length",
    ),
    "duplicate key": (bytes.fromhex("81a2006178006179"), 0, None, "the label 0 appears twice"),
    "record not a map": (cbor2.dumps([[0, "x"]]), 0, None, "a CBOR map"),
    "vd as text": (cbor2.dumps([{0: "x", 8: "aGk"}]), 0, "vd", "byte string"),
    "bver as float": (cbor2.dumps([{0: "x", 2: 1, -1: 10.0}]), 0, "bver", "unsigned integer"),
    "bver newer": (cbor2.dumps([{0: "x", 2: 1, -1: 11}]), 0, "bver", "newer"),
    "v as text": (cbor2.dumps([{0: "x", 2: "1"}]), 0, "v", 'use "vs"'),
    "v NaN": (cbor2.dumps([{0: "x", 2: math.nan}]), 0, "v", "finite"),
    "v huge bignum": (cbor2.dumps([{0: "x", 2: 2**2000}]), 0, "v", "fits a double"),
    "v decimal too large": (
        cbor2.dumps([{0: "x", 2: cbor2.CBORTag(4, [400, 1])}]),
        0,
        "v",
        "not a finite double",
    ),
    "v as a date": (cbor2.dumps([{0: "x", 2: cbor2.CBORTag(1, 0)}]), 0, "v", "got a datetime"),
    "label twice": (cbor2.dumps([{0: "x", 2: 1, "v": 2}]), 0, "v", "appears twice"),
    "label a boolean": (cbor2.dumps([{0: "x", 2: 1, True: "A"}]), 0, None, "integers or text"),
    "empty pack": (cbor2.dumps([]), None, None, "the pack is empty"),
}


@pytest.mark.parametrize(
    ("payload", "index", "field", "fragment"),
    list(CBOR_MALFORMED.values()),
    ids=list(CBOR_MALFORMED),
)
def test_malformed_cbor_is_refused_with_its_place(
    payload: bytes, index: int | None, field: str | None, fragment: str
) -> None:
    with pytest.raises(SenMLError) as caught:
        parse_cbor(payload, now=NOW)
    assert (caught.value.index, caught.value.field) == (index, field)
    assert fragment in str(caught.value)
