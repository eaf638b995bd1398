"""Property tests of the SenML codec: whatever bytes arrive, only a SenMLError comes out, and a
pack that is accepted resolves to records a reader can trust. Bounded so that the suite stays
fast; `make fuzz` runs the coverage-guided fuzzer (fuzz/) for longer."""

from __future__ import annotations

import json
import math
import os
import re

import cbor2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import Record, parse_cbor, parse_json

NOW = 1_790_000_000.0
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9:./_-]*")
# `make fuzz` raises the budget; the suite keeps it small.
BOUNDED = settings(
    max_examples=int(os.environ.get("GOODTHINGS_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

LABELS = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"]
CBOR_LABELS = [-1, -2, -3, -4, -5, -6, 0, 1, 2, 3, 4, 5, 6, 7, 8]


def trustworthy(records: list[Record]) -> None:
    """What every reader downstream of the codec relies on."""
    for record in records:
        assert math.isfinite(record.time)
        assert NAME.fullmatch(record.name)
        assert record.value is not None or record.sum is not None
        if isinstance(record.value, float):
            assert math.isfinite(record.value)
        for number in (record.sum, record.update_time):
            assert number is None or math.isfinite(number)


def only_senml_errors(parse: object, payload: bytes) -> None:
    try:
        records = parse(payload, now=NOW)  # type: ignore[operator]
    except SenMLError as error:
        assert str(error)
    else:
        trustworthy(records)


# Arbitrary bytes


@BOUNDED
@given(st.binary(max_size=400))
@example(b'[{"n":"temperature","v":NaN},]')
@example(b"\x81" * 2000)
def test_any_bytes_as_json_give_records_or_a_senml_error(payload: bytes) -> None:
    only_senml_errors(parse_json, payload)


@BOUNDED
@given(st.binary(max_size=400))
@example(b"\x9b" + (2**63).to_bytes(8, "big"))
@example(b"\x81" * 2000)
def test_any_bytes_as_cbor_give_records_or_a_senml_error(payload: bytes) -> None:
    only_senml_errors(parse_cbor, payload)


# Near-valid JSON: records of SenML labels and stray keys, values of every kind, written by hand
# so that a pack can hold NaN, a name twice, a trailing comma, deep nesting or a cut.

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**28, 1_790_000_000, 1e300, -1e300, 2**64, 1e-300]),
)
scalar_text = st.one_of(
    numbers.map(json.dumps),
    st.text(max_size=12).map(json.dumps),
    st.sampled_from(
        ["true", "false", "null", "NaN", "Infinity", "-Infinity", "1e400", '"\\ud800"']
    ),
)


@st.composite
def json_value(draw: st.DrawFn) -> str:
    inner = draw(scalar_text)
    depth = draw(st.sampled_from([0, 0, 0, 1, 3, 1200]))
    if depth == 0:
        return inner
    opener = draw(st.sampled_from(["[", '{"a":']))
    closer = "]" if opener == "[" else "}"
    return opener * depth + inner + closer * depth


@st.composite
def json_record(draw: st.DrawFn) -> str:
    keys = draw(st.lists(st.sampled_from([*LABELS, "x", "crit_", ""]), max_size=7))
    members = [f"{json.dumps(key)}:{draw(json_value())}" for key in keys]
    trailing = "," if members and draw(st.integers(0, 9)) == 0 else ""
    return "{" + ",".join(members) + trailing + "}"


@st.composite
def json_pack(draw: st.DrawFn) -> bytes:
    records = draw(st.lists(json_record(), max_size=5))
    text = "[" + ",".join(records) + ("," if draw(st.integers(0, 9)) == 0 else "") + "]"
    cut = draw(st.integers(0, 20))
    if cut == 0 and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    return text.encode("utf-8", "surrogatepass")


@BOUNDED
@given(json_pack())
@example(b'[{"n":"x","v":NaN,"x":' + b"[" * 5000 + b"]" * 5000 + b"}]")
@example(b'[{"n":"x","v":1,"v":2}]')
def test_near_valid_json_packs_give_records_or_a_senml_error(payload: bytes) -> None:
    only_senml_errors(parse_json, payload)


@BOUNDED
@given(
    st.lists(
        st.fixed_dictionaries(
            {"n": st.sampled_from(["temp", "a:b", "urn:dev:1"])},
            optional={
                "v": numbers,
                "t": numbers,
                "bt": numbers,
                "vs": st.text(max_size=8),
                "bn": st.sampled_from(["", "dev:", "urn:dev:mac:0024befffe804ff1:"]),
            },
        ),
        min_size=1,
        max_size=6,
    )
)
def test_well_formed_json_packs_are_accepted_or_refused_as_senml(
    pack: list[dict[str, object]],
) -> None:
    only_senml_errors(parse_json, json.dumps(pack).encode())


# Near-valid CBOR: maps with integer and text labels, tags, big numbers, nested containers.

cbor_leaf = st.one_of(
    numbers,
    st.text(max_size=8),
    st.binary(max_size=8),
    st.booleans(),
    st.none(),
    st.floats(),
)
cbor_value = st.recursive(
    cbor_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.integers(-8, 8) | st.text(max_size=3), children, max_size=3),
        st.builds(
            cbor2.CBORTag, st.sampled_from([0, 1, 2, 3, 4, 5, 30, 35, 37, 258, 260, 999]), children
        ),
    ),
    max_leaves=6,
)


@BOUNDED
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([*CBOR_LABELS, "v", "x", "crit_", 99]), cbor_value, max_size=6
        )
        | cbor_value,
        max_size=5,
    )
)
def test_near_valid_cbor_packs_give_records_or_a_senml_error(pack: list[object]) -> None:
    try:
        payload = cbor2.dumps(pack)
    except (cbor2.CBOREncodeError, ValueError, TypeError, OverflowError):
        return  # not every drawn tag's content can be written; those are not packs
    only_senml_errors(parse_cbor, payload)
