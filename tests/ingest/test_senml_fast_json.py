"""The common pack's fast decode (orjson) means exactly what the stdlib's decode means.

Whatever the payload, the decoder with its fast way and the decoder made to take the stdlib's
way every time must resolve it to the same records or refuse it with the same message.
"""

from __future__ import annotations

import json
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml import json_codec, parse_json

NOW = 1_790_000_000.0


def outcome(payload: bytes | str) -> object:
    try:
        return parse_json(payload, now=NOW)
    except SenMLError as error:
        return ("refused", str(error))


def same_either_way(payload: bytes) -> None:
    fast = outcome(payload)
    with patch.object(json_codec, "_decode_common", lambda _payload: None):
        assert fast == outcome(payload)


NAMES = st.sampled_from(["n", "v", "t", "u", "bn", "bt", "bu", "vs", "vb", "s", "bver", "x", ""])
SCALARS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.booleans(),
    st.none(),
    st.text(alphabet="ab:\"'-_ é", max_size=6),
)


def _member(name: str, value: object) -> str:
    return f"{json.dumps(name)}:{json.dumps(value)}"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.tuples(NAMES, SCALARS), max_size=5), max_size=6))
def test_flat_packs_mean_the_same_through_either_decoder(
    records: list[list[tuple[str, object]]],
) -> None:
    # Members are written out by hand, so a name may be given twice, as a hostile device could.
    text = "[" + ",".join("{" + ",".join(_member(k, v) for k, v in r) + "}" for r in records) + "]"
    same_either_way(text.encode())


@pytest.mark.parametrize(
    "payload",
    [
        b'[{"bn":"urn:dev:ow:1:","bt":1790000000,"n":"temperature","u":"Cel","v":21.5},'
        b'{"n":"temperature","t":1,"v":21.6}]',
        b'[{"n":"temperature","v":1,"n":"humidity"}]',  # a name twice: refused
        b'[{"n":"temperature","v":1,"v":2}]',
        b'[{"n":"a","vs":"x","vs":"y"}]',  # a name twice whose values are text
        b'[{"n":"temperature","v":123456789012345678901234567890}]',  # beyond 64 bits
        b'[{"n":"temperature","v":-9223372036854775809}]',
        b'[{"n":"temperature","bver":18446744073709551616,"v":1}]',
        b'[{"n":"temperature","v":NaN}]',
        b'[{"n":"temperature","v":1e400}]',
        b'[{"n":"temp\\u0065rature","v":1}]',  # an escape: the stdlib's way
        b'[{"n":"temperature","vs":"say \\"hi\\""}]',
        b'[{"n":"\xed\xa0\x80","v":1}]',  # a surrogate in UTF-8: not UTF-8
        b'\xef\xbb\xbf[{"n":"temperature","v":1}]',
        b'[{"n":"temperature","v":{"x":1,"x":2}}]',
        b'[{"n":"temperature","v":[1]}]',
        b"[]",
        b"{}",
        b'[{"n":"temperature","v":1},]',
        b' [ {"n" : "temperature" , "v" : 1 } ] ',
        b'[{"n":"a","v":1,"":2,"":3}]',
    ],
)
def test_chosen_packs_mean_the_same_through_either_decoder(payload: bytes) -> None:
    same_either_way(payload)


def test_the_common_pack_takes_the_fast_way() -> None:
    payload = b'[{"bn":"d:","bt":1790000000,"n":"t","v":1.5},{"n":"t","t":1,"v":2}]'
    assert json_codec._decode_common(payload) is not None
    assert json_codec._decode_common(b'[{"n":"t","v":1,"v":2}]') is None
