"""Each detector, with a device that misbehaves that way and one that does not."""

from __future__ import annotations

from datetime import date

import pytest

from goodthings.core.manifest.schema import Detection
from goodthings.security.monitoring import detectors
from goodthings.security.monitoring.baselines import Baseline
from goodthings.security.monitoring.profiles import profile_of

PROFILE = profile_of(
    "sensor-x",
    {"max_rate": 12, "max_pack": 10, "interval": "PT5M", "max_clock_offset": "PT1H"},
    frozenset({"temperature", "humidity"}),
    date(2030, 1, 1),
)
OPEN = profile_of("sensor-y", None, frozenset({"temperature"}), date(2030, 1, 1))
USUAL = Baseline(median=0.2, mad=0.1, slots=144)


def test_flood_beyond_the_declared_rate() -> None:
    found = detectors.flood("d", PROFILE, last_minute=13, largest_pack=1, baseline=None)
    assert found is not None and found.kind is Detection.flood
    assert "13 messages in the last minute; its model allows 12" in found.explanation
    assert found.evidence["max_rate"] == 12
    assert detectors.flood("d", PROFILE, last_minute=12, largest_pack=10, baseline=None) is None


def test_flood_beyond_the_declared_pack_size() -> None:
    found = detectors.flood("d", PROFILE, last_minute=1, largest_pack=11, baseline=None)
    assert found is not None and "a message of 11 records" in found.explanation


def test_flood_against_the_learned_baseline_is_said_in_times_usual() -> None:
    found = detectors.flood("d", OPEN, last_minute=40, largest_pack=1, baseline=USUAL)
    assert found is not None
    assert "sent 200 times its usual rate" in found.explanation
    assert found.evidence["usual_per_minute"] == 0.2


@pytest.mark.parametrize("last_minute", [1, 5, detectors.FLOOD_FLOOR - 1])
def test_a_few_extra_messages_from_a_quiet_device_are_no_flood(last_minute: int) -> None:
    assert (
        detectors.flood("d", OPEN, last_minute=last_minute, largest_pack=1, baseline=USUAL) is None
    )


def test_a_busy_device_at_its_usual_rate_is_no_flood() -> None:
    busy = Baseline(median=30.0, mad=3.0, slots=144)
    assert detectors.flood("d", OPEN, last_minute=45, largest_pack=1, baseline=busy) is None


def test_off_profile_names_the_stream_and_what_is_allowed() -> None:
    found = detectors.off_profile("d", PROFILE, frozenset({"temperature", "shell"}))
    assert found is not None and found.kind is Detection.off_profile
    assert "'shell'" in found.explanation and "humidity, temperature" in found.explanation
    assert detectors.off_profile("d", PROFILE, frozenset({"temperature"})) is None


def test_credential_stuffing_needs_many_devices_from_one_source() -> None:
    many = frozenset(f"device-{i}" for i in range(detectors.STUFFING_DEVICES))
    found = detectors.credential_stuffing("203.0.113.9", many, 12)
    assert found is not None and found.source == "203.0.113.9"
    assert "12 failed sign-ins from 203.0.113.9 against 5 different devices" in found.explanation
    few = frozenset(f"device-{i}" for i in range(detectors.STUFFING_DEVICES - 1))
    assert detectors.credential_stuffing("203.0.113.9", few, 40) is None


def test_silent_after_several_intervals_only() -> None:
    found = detectors.silent("d", PROFILE, last_seen=0.0, now=3 * 300 + 1)
    assert found is not None and "sent nothing for 15 minutes" in found.explanation
    assert detectors.silent("d", PROFILE, last_seen=0.0, now=3 * 300) is None
    assert detectors.silent("d", OPEN, last_seen=0.0, now=1e9) is None  # no interval declared


def test_replay_of_stored_packs_or_old_readings() -> None:
    repeated = detectors.replay("d", PROFILE, repeated=2, oldest_offset=0.5)
    assert repeated is not None and "2 pack(s)" in repeated.explanation
    old = detectors.replay("d", PROFILE, repeated=0, oldest_offset=7200.0)
    assert old is not None and "dated 2 hours before they arrived" in old.explanation
    assert detectors.replay("d", PROFILE, repeated=0, oldest_offset=30.0) is None
    assert detectors.replay("d", PROFILE, repeated=0, oldest_offset=None) is None


@pytest.mark.parametrize(
    ("before", "now", "downgrade"),
    [
        ("5.2.0", "5.1.9", True),
        ("5.10.0", "5.9.3", True),
        ("5.9.3", "5.10.0", False),
        ("5.1.0", "5.1.0", False),
    ],
)
def test_firmware_downgrade_compares_version_numbers(
    before: str, now: str, downgrade: bool
) -> None:
    found = detectors.firmware_downgrade("d", before, now)
    assert (found is not None) is downgrade


def test_past_support_only_after_the_support_date() -> None:
    found = detectors.past_support("d", PROFILE, date(2030, 1, 2))
    assert found is not None and "no security updates since 2030-01-01" in found.explanation
    assert detectors.past_support("d", PROFILE, date(2030, 1, 1)) is None


def test_every_detection_has_words_for_the_people_it_is_about() -> None:
    assert set(detectors.PLAIN_REASONS) == set(Detection)
