"""consent.before-collection: a consent-only stream holds nothing about someone who never agreed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from cli_helpers import run
from goodthings.assessment import CHECKS, Context, Finding, Verdict
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.core.store import tables as t
from goodthings.runtime import Hub

NOW = datetime.now(UTC)


def _check(hub: Hub) -> Finding:
    key = load_public_key(hub.home.keys_dir / SIGNING_PUBLIC_KEY)
    return CHECKS["consent.before-collection"](Context(hub.engine, hub.password_key, key, NOW))


def _plant_heart_rate(hub: Hub) -> None:
    """A reading about Alex written straight into the store, past the gate."""
    with hub.engine.begin() as connection:
        stream = connection.execute(
            select(t.streams.c.id).where(
                t.streams.c.model_id == "pulse-band-2", t.streams.c.name == "heart_rate"
            )
        ).scalar_one()
        connection.execute(
            insert(t.readings).values(
                device_id="band-alex",
                stream_id=stream,
                subject_id="alex",
                time=NOW.timestamp(),
                value=71.0,
            )
        )


def test_no_readings_pass(smart_home: Hub) -> None:
    finding = _check(smart_home)
    assert finding.verdict is Verdict.passed
    assert "pulse-band-2/heart_rate" in finding.evidence["consent_only_streams"]  # type: ignore[operator]


def test_a_reading_without_consent_fails(smart_home: Hub) -> None:
    _plant_heart_rate(smart_home)
    finding = _check(smart_home)
    assert finding.verdict is Verdict.failed
    assert finding.evidence["readings_without_consent"] == 1
    assert finding.evidence["streams_with_readings_without_consent"] == ("pulse-band-2/heart_rate",)
    shown = json.dumps(finding.evidence) + finding.summary
    assert "alex" not in shown
    assert "71" not in shown


def test_a_reading_after_consent_passes(
    smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    given = run(
        capsys,
        "consent",
        "give",
        "--home",
        str(smart_home.home.root),
        "--subject",
        "alex",
        "--stream",
        "heart_rate",
        "--purpose",
        "ServicePersonalisation",
    )
    assert given.code == 0, given.err
    _plant_heart_rate(smart_home)
    finding = _check(smart_home)
    assert finding.verdict is Verdict.passed
    assert finding.evidence["readings_checked"] == 1
