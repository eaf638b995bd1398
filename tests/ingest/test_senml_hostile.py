"""Hostile and careless packs: whatever a device sends, the codec answers with a SenMLError that
says where, never another exception (which would be a 500, a traceback, or a failed batch)."""

from __future__ import annotations

import json
from pathlib import Path

import cbor2
import pytest

from cli_helpers import run
from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import parse_cbor, parse_json

NOW = 1_700_000_000.0
DEEP = 5_000

JSON_POISON = {
    # (payload, index, field, fragment of the message)
    "NaN then a trailing comma": ('[{"n":"temperature","v":NaN},]', 0, "v", "NaN is not"),
    "NaN then a syntax error in its record": ('[{"n":"x","v":NaN,}]', 0, None, "NaN is not"),
    "NaN in a later record, then an error": (
        '[{"n":"x","v":1}, {"n":"y","v":-Infinity} , ]',
        1,
        "v",
        "-Infinity is not",
    ),
    "NaN, then nesting too deep": (
        '[{"n":"x","v":NaN,"x":' + "[" * DEEP + "]" * DEEP + "}]",
        0,
        None,
        "NaN is not",
    ),
    "NaN deep inside an extension": (
        '[{"n":"x","v":1,"x":' + "[" * 900 + "NaN" + "]" * 900 + "}]",
        0,
        "x",
        "NaN is not",
    ),
    "NaN outside an array": ('{"v": NaN', None, None, "NaN is not"),
    "NaN after the pack": ('[{"n":"x","v":1}] NaN', None, None, "Extra data"),
    "a name twice in a record": ('[{"n":"x","v":1,"v":2}]', 0, "v", '"v" appears twice'),
    "a name twice in a later record": (
        '[{"n":"x","v":1},{"n":"x","t":1,"n":"y","v":2}]',
        1,
        "n",
        '"n" appears twice',
    ),
    "a name twice inside an extension": (
        '[{"n":"x","v":1,"ext":[{"a":1,"a":2}]}]',
        0,
        "ext",
        '"a" appears twice in an object inside this field',
    ),
    "deep nesting of objects": (
        '[{"n":"x","v":1,"x":' + '{"a":' * 990 + "1" + "}" * 990 + "}]",
        None,
        None,
        "nested too deeply",
    ),
    "a record is an object of objects": ('[{"n":"x","v":{"a":1}}]', 0, "v", "got an object"),
    "a pack of one object": ('{"n":"x","v":1}', None, None, "wrap a single record"),
}


@pytest.mark.parametrize(
    ("payload", "index", "field", "fragment"), list(JSON_POISON.values()), ids=list(JSON_POISON)
)
def test_poison_json_is_refused_with_its_place(
    payload: str, index: int | None, field: str | None, fragment: str
) -> None:
    with pytest.raises(SenMLError) as caught:
        parse_json(payload, now=NOW)
    assert fragment in str(caught.value)
    assert (caught.value.index, caught.value.field) == (index, field)


def test_a_pack_with_each_name_once_is_read_as_before() -> None:
    pack: list[dict[str, object]] = [
        {"bn": "urn:dev:mac:0024befffe804ff1:", "n": "t", "v": 1, "x": {"a": {"b": 1}}}
    ]
    pack.append({"n": "t", "t": 1, "vs": "{not an object}"})
    records = parse_json(json.dumps(pack), now=NOW)
    assert [(record.name, record.value) for record in records] == [
        ("urn:dev:mac:0024befffe804ff1:t", 1.0),
        ("urn:dev:mac:0024befffe804ff1:t", "{not an object}"),
    ]


CBOR_POISON = {
    "a key twice names the record": (
        b"\x82" + cbor2.dumps({0: "x", 2: 1}) + bytes.fromhex("a2006178006179"),
        1,
        None,
        "the label 0 appears twice",
    ),
    "nested too deeply": (b"\x81" * DEEP, 0, None, "nesting depth"),
    "a huge decimal exponent": (
        cbor2.dumps([{0: "x", 2: cbor2.CBORTag(4, [10**6, 1])}]),
        0,
        "v",
        "not a finite double",
    ),
    "a giant decimal exponent": (
        cbor2.dumps([{0: "x", 2: cbor2.CBORTag(4, [10**30, 1])}]),
        0,
        None,
        "decimal fraction",
    ),
    "a bigfloat": (cbor2.dumps([{0: "x", 2: cbor2.CBORTag(5, [10**6, 1])}]), 0, "v", ""),
    "a date far out of range": (
        cbor2.dumps([{0: "x", 2: cbor2.CBORTag(1, 10**20)}]),
        0,
        None,
        "",
    ),
    "a bad date string": (cbor2.dumps([{0: "x", 2: cbor2.CBORTag(0, "yesterday")}]), 0, None, ""),
    "a bad regular expression": (cbor2.dumps([{0: "x", 2: cbor2.CBORTag(35, "(")}]), 0, None, ""),
    "a rational with zero denominator": (
        cbor2.dumps([{0: "x", 2: cbor2.CBORTag(30, [1, 0])}]),
        0,
        None,
        "",
    ),
    "a reference to nothing shared": (
        cbor2.dumps([{0: "x", 2: cbor2.CBORTag(29, 7)}]),
        0,
        None,
        "",
    ),
    "an array claiming 2**63 items": (b"\x9b" + (2**63).to_bytes(8, "big"), None, None, ""),
    "a byte string claiming 2**63 bytes": (
        b"\x81\xa2\x00ax\x08\x5b" + (2**63).to_bytes(8, "big"),
        0,
        None,
        "",
    ),
    "a map keyed by a map": (b"\x81\xa1\xa1\x00\x00\x00", 0, None, ""),
    "an unknown simple value": (b"\x81\xa2\x00ax\x02\xf8\xff", 0, None, ""),
}


@pytest.mark.parametrize(
    ("payload", "index", "field", "fragment"), list(CBOR_POISON.values()), ids=list(CBOR_POISON)
)
def test_poison_cbor_is_refused_as_senml(
    payload: bytes, index: int | None, field: str | None, fragment: str
) -> None:
    with pytest.raises(SenMLError) as caught:
        parse_cbor(payload, now=NOW)
    assert fragment in str(caught.value)
    if index is not None:
        assert caught.value.index == index
    if field is not None:
        assert caught.value.field == field


def test_senml_resolve_prints_the_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "poison.json"
    path.write_bytes(b'[{"n":"temperature","v":NaN},]')
    ran = run(capsys, "senml", "resolve", str(path))
    assert ran.code == 1
    assert ran.err.strip() == (
        "error: record 0, field 'v': NaN is not a JSON number; SenML numbers must be finite "
        "(RFC 8428 §5)"
    )
