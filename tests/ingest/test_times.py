"""Times the hub can live with: a reading dated before 1970, or further ahead of the hub's clock
than the deployment's clock-skew allowance, is refused with the record, the field and the window.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from goodthings.core.manifest import load_manifest_text
from goodthings.core.store import tables as t
from goodthings.deployment import apply_manifest, example_text
from goodthings.ingest.batch import Incoming, Refusal
from goodthings.runtime.hub import Hub

RECEIVED = 1_790_000_000.0  # 2026-09-21T14:13:20Z, the hub's clock when the pack arrives


def _send(hub: Hub, records: list[dict[str, object]], received: float = RECEIVED) -> Incoming:
    return Incoming("thermostat-1", json.dumps(records).encode(), received)


def _stored(hub: Hub) -> int:
    with hub.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.readings)).scalar_one())


@pytest.mark.parametrize(
    ("records", "field"),
    [
        ([{"n": "temperature", "v": 20.0, "t": 1e300}], "t"),
        ([{"n": "temperature", "v": 20.0, "t": -1e300}], "t"),
        ([{"n": "temperature", "v": 20.0, "t": 2**64}], "t"),
        ([{"n": "temperature", "v": 20.0, "t": -RECEIVED - 1}], "t"),
        ([{"n": "temperature", "v": 20.0, "bt": 1e300}], "t"),  # t is the resolved bt + t
        ([{"n": "temperature", "v": 20.0, "t": RECEIVED + 301}], "t"),
    ],
)
def test_an_impossible_time_refuses_the_pack_and_says_the_window(
    smart_home: Hub, records: list[dict[str, object]], field: str
) -> None:
    result = smart_home.pipeline.ingest([_send(smart_home, records)]).results[0]
    assert result.refusal is Refusal.malformed
    assert result.error is not None
    assert result.error.startswith(f"record 0, field '{field}': ")
    assert "1970-01-01T00:00:00Z" in result.error
    assert "300 seconds after the hub received the pack (2026-09-21T14:18:20Z)" in result.error
    assert _stored(smart_home) == 0


def test_the_record_named_is_the_one_in_the_pack_even_after_a_base_only_record(
    smart_home: Hub,
) -> None:
    records = [
        {"bn": "thermostat-1:", "bt": RECEIVED},
        {"n": "temperature", "v": 20.0},
        {"n": "temperature", "v": 20.5, "t": 1e12},
    ]
    result = smart_home.pipeline.ingest([_send(smart_home, records)]).results[0]
    assert result.error is not None and result.error.startswith("record 2, field 't': ")


def test_times_within_the_allowance_are_stored(smart_home: Hub) -> None:
    records = [
        {"n": "temperature", "v": 20.0, "t": 0.0},
        {"n": "temperature", "v": 20.1, "t": RECEIVED + 300},
        {"n": "temperature", "v": 20.2, "t": -3600.0},  # relative: an hour ago
    ]
    result = smart_home.pipeline.ingest([_send(smart_home, records)]).results[0]
    assert (result.refusal, result.stored) == (None, 3)


def test_a_relative_time_is_counted_from_when_the_hub_received_the_pack(smart_home: Hub) -> None:
    """A device without a clock sends relative times (RFC 8428 §4.5.3): they never fall outside."""
    records = [{"n": "temperature", "v": 20.0}, {"n": "temperature", "v": 20.5, "t": -5}]
    result = smart_home.pipeline.ingest([_send(smart_home, records, time.time())]).results[0]
    assert (result.refusal, result.stored) == (None, 2)


def test_the_allowance_is_the_deployment_s_clock_skew(smart_home: Hub) -> None:
    text = example_text("smart-home").replace(
        "  languages: [en, fr]", "  languages: [en, fr]\n  clock_skew: PT1H", 1
    )
    apply_manifest(smart_home.engine, load_manifest_text(text))
    smart_home.pipeline.refresh()
    ahead = [{"n": "temperature", "v": 20.0, "t": RECEIVED + 3000}]
    assert smart_home.pipeline.ingest([_send(smart_home, ahead)]).results[0].stored == 1
    further = [{"n": "temperature", "v": 20.0, "t": RECEIVED + 3601}]
    result = smart_home.pipeline.ingest([_send(smart_home, further)]).results[0]
    assert result.error is not None
    assert "3600 seconds after the hub received the pack (2026-09-21T15:13:20Z)" in result.error
