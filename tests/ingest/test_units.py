"""Units: a reading is stored in its stream's declared unit, converted where RFC 8428's units
allow it exactly (kelvin and degrees Celsius), and refused with the record where they do not."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from goodthings.core.store import tables as t
from goodthings.ingest.batch import Incoming, Refusal
from goodthings.runtime.hub import Hub

RECEIVED = 1_790_000_000.0


def _ingest(hub: Hub, device: str, records: list[dict[str, object]]) -> tuple[object, ...]:
    pack = [{"bt": RECEIVED - 60, **records[0]}, *records[1:]]
    result = hub.pipeline.ingest([Incoming(device, json.dumps(pack).encode(), RECEIVED)])
    outcome = result.results[0]
    return outcome.refusal, outcome.stored, outcome.error


def _values(hub: Hub) -> list[float]:
    with hub.engine.connect() as connection:
        return [
            float(value)
            for value in connection.execute(
                select(t.readings.c.value).order_by(t.readings.c.time)
            ).scalars()
        ]


def test_a_record_in_the_stream_s_unit_or_without_one_is_stored_as_it_is(smart_home: Hub) -> None:
    records = [
        {"n": "temperature", "u": "Cel", "v": 21.5},
        {"n": "temperature", "v": 21.75, "t": 1},
    ]
    assert _ingest(smart_home, "thermostat-1", records) == (None, 2, None)
    assert _values(smart_home) == [21.5, 21.75]


def test_kelvin_sent_to_a_celsius_stream_is_converted(smart_home: Hub) -> None:
    records = [
        {"n": "temperature", "u": "K", "v": 294.65},
        {"bu": "K", "n": "temperature", "v": 273.15, "t": 1},
    ]
    assert _ingest(smart_home, "thermostat-1", records) == (None, 2, None)
    assert _values(smart_home) == pytest.approx([21.5, 0.0], abs=1e-9)


@pytest.mark.parametrize(
    ("records", "error"),
    [
        (
            [{"n": "temperature", "v": 20.0}, {"n": "temperature", "u": "W", "v": 3.0, "t": 1}],
            "record 1, field 'u': unit 'W' does not match stream 'temperature' (Cel); send "
            "the value in Cel, or in K, which the hub converts (RFC 8428 §12.1)",
        ),
        (
            [{"n": "temperature", "u": "degF", "v": 70.0}],
            "record 0, field 'u': unit 'degF' does not match stream 'temperature' (Cel); send "
            "the value in Cel, or in K, which the hub converts (RFC 8428 §12.1)",
        ),
        (
            [{"n": "temperature", "u": "K", "vs": "warm"}],
            "record 0, field 'u': unit 'K' is converted to Cel only for a number in 'v'; send "
            "the value in Cel",
        ),
    ],
)
def test_a_unit_that_does_not_match_refuses_the_pack(
    smart_home: Hub, records: list[dict[str, object]], error: str
) -> None:
    assert _ingest(smart_home, "thermostat-1", records) == (Refusal.malformed, 0, error)
    assert _values(smart_home) == []


def test_a_stream_without_a_unit_takes_any_unit_as_sent(smart_home: Hub) -> None:
    """`open` declares no unit: there is nothing to compare with, so the record's is kept."""
    records = [{"n": "open", "vb": True, "u": "/"}]
    refusal, _, error = _ingest(smart_home, "front-door", records)
    assert (refusal, error) == (None, None)
