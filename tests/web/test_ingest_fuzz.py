"""Property tests: whatever body a device with a valid token sends to `POST /ingest`, the hub
answers with one of the statuses it documents, never 500.

Bodies are arbitrary bytes under each accepted media type, and near-valid SenML: records with
the labels of RFC 8428 and values of every JSON type (NaN and the infinities included), as
JSON and as CBOR, sometimes with a trailing comma or cut short.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import cbor2
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from goodthings.core.config import Home, Settings
from goodthings.ingest import SENML_CBOR, SENML_JSON
from goodthings.security.credentials import issue_token
from goodthings.web.app import create_app
from templates import init_from_template

DOCUMENTED = {202, 400, 403, 404, 413, 415, 429}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    home = Home(Path(tmp_path_factory.mktemp("ingest-fuzz")) / "deployment")
    init_from_template(home, "smart-home")
    roomy = Settings(ingest_max_bytes=4096, ingest_rate=1e6, ingest_burst=1_000_000)
    app = create_app(Home(home.root, settings=roomy))
    with TestClient(app, raise_server_exceptions=False) as client:
        with client.app.state.hub.engine.begin() as connection:  # type: ignore[attr-defined]
            token = issue_token(connection, "thermostat-1")
        yield client, token


def _status(device: tuple[TestClient, str], body: bytes, media: str) -> int:
    client, token = device
    headers = {"Authorization": f"Bearer {token}", "Content-Type": media}
    note(f"{media}: {body!r}")
    return client.post("/ingest", content=body, headers=headers).status_code


MEDIA = st.sampled_from([SENML_JSON, SENML_CBOR, "application/json"])


@FUZZ
@given(body=st.binary(max_size=5000), media=MEDIA)
def test_any_bytes_are_answered_with_a_documented_status(
    device: tuple[TestClient, str], body: bytes, media: str
) -> None:
    status = _status(device, body, media)
    assert status in DOCUMENTED


LABELS = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"]
NUMBERS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1_790_000_000, 1e300, -1e300, 2**64, math.nan, math.inf])
)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | NUMBERS
    | st.text(max_size=12)
    | st.sampled_from(["temperature", "setpoint", "Cel", "K", "thermostat-1:", "urn:dev:x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
RECORD = st.dictionaries(st.sampled_from(LABELS) | st.text(max_size=4), VALUES, max_size=6)
PACK = st.lists(RECORD, max_size=6) | VALUES


def _json(pack: object, damage: str) -> bytes:
    text = json.dumps(pack, allow_nan=True, default=str)
    if damage == "trailing comma" and text.endswith("]"):
        text = text[:-1].rstrip() + ",]" if len(text) > 2 else text
    elif damage == "cut short":
        text = text[: len(text) // 2]
    return text.encode()


@FUZZ
@given(pack=PACK, damage=st.sampled_from(["none", "trailing comma", "cut short"]), media=MEDIA)
def test_near_valid_senml_json_is_answered_with_a_documented_status(
    device: tuple[TestClient, str], pack: object, damage: str, media: str
) -> None:
    body = _json(pack, damage)
    status = _status(device, body, SENML_JSON if media == SENML_CBOR else media)
    assert status in DOCUMENTED


CBOR_LABELS = {"bn": -2, "bt": -3, "bu": -4, "bv": -5, "bs": -6, "bver": -1, "n": 0, "u": 1,
               "v": 2, "vs": 3, "vb": 4, "vd": 8, "s": 5, "t": 6, "ut": 7}  # fmt: skip


@FUZZ
@given(pack=st.lists(RECORD, max_size=6), numeric=st.booleans())
def test_near_valid_senml_cbor_is_answered_with_a_documented_status(
    device: tuple[TestClient, str], pack: list[dict[str, object]], numeric: bool
) -> None:
    if numeric:  # RFC 8428 §6: CBOR labels are integers
        pack = [{CBOR_LABELS.get(k, k): v for k, v in record.items()} for record in pack]  # type: ignore[misc]
    body = cbor2.dumps(pack, default=lambda encoder, value: encoder.encode(str(value)))
    status = _status(device, body, SENML_CBOR)
    assert status in DOCUMENTED
