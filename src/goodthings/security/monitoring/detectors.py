"""The detectors: pure functions from what a device did to a finding in words, with evidence.

Each takes plain figures (counted by `monitor.Monitor`) and the device's profile, and returns
a `Finding` or None. The rules:

* flood: more messages in the last minute than the profile's `max_rate`, a message with more
  records than `max_pack`, or, once a baseline is learned, a rate at least ten times the
  device's usual one and six deviations above it (and at least `FLOOD_FLOOR` messages, so a
  quiet device sending a few extra is not a flood).
* off-profile: a stream outside the profile's allowed streams, or one the model does not have;
  or a topic the broker denied the device (it may publish and subscribe to its own only).
* credential stuffing: failed sign-ins from one source address against `STUFFING_DEVICES` or
  more different device names within `STUFFING_WINDOW` seconds.
* silent: nothing from a device for `SILENT_INTERVALS` of its declared reporting interval.
* replay: a pack whose every reading was already stored and is more than `REPLAY_AGE` seconds
  old (a device's retry, or MQTT's redelivery, comes sooner), or a pack whose newest reading is
  older than the profile's `max_clock_offset` when it arrives.
* firmware downgrade: a birth message reporting an older version than the one before.
* past support: a device sending while its model's support period is over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from goodthings.core.manifest.schema import Detection
from goodthings.security.monitoring.baselines import Baseline
from goodthings.security.monitoring.profiles import Profile

FLOOD_FACTOR = 10.0
FLOOD_DEVIATIONS = 6.0
FLOOD_FLOOR = 20
"""Messages in one minute below which no baseline comparison calls it a flood."""
STUFFING_DEVICES = 5
STUFFING_WINDOW = 600.0
SILENT_INTERVALS = 3
REPLAY_AGE = 600.0


class Severity(StrEnum):
    info = "info"
    warning = "warning"
    critical = "critical"


PLAIN_REASONS: Mapping[Detection, str] = {
    Detection.flood: "it sent far more than usual",
    Detection.off_profile: "it sent data it is not made to send",
    Detection.credential_stuffing: "someone tried to sign in as many devices",
    Detection.silent: "it stopped reporting",
    Detection.replay: "it sent old or repeated readings",
    Detection.firmware_downgrade: "its software was changed to an older version",
    Detection.past_support: "its maker no longer fixes its security problems",
}
"""Why, in words for the people a device is about (the portal's quarantine line)."""


@dataclass(frozen=True)
class Finding:
    kind: Detection
    severity: Severity
    explanation: str
    """What happened and what the operator should look at, in a sentence or two."""
    evidence: Mapping[str, object] = field(default_factory=dict)
    """The figures the detector decided on, kept with the detection."""
    device_id: str | None = None
    source: str | None = None


def flood(
    device_id: str,
    profile: Profile,
    *,
    last_minute: int,
    largest_pack: int,
    baseline: Baseline | None,
) -> Finding | None:
    evidence: dict[str, object] = {
        "messages_last_minute": last_minute,
        "largest_pack": largest_pack,
    }
    if profile.max_rate is not None and last_minute > profile.max_rate:
        evidence["max_rate"] = profile.max_rate
        return _flood(
            device_id,
            f"sent {last_minute} messages in the last minute; its model allows {profile.max_rate}",
            evidence,
        )
    if profile.max_pack is not None and largest_pack > profile.max_pack:
        evidence["max_pack"] = profile.max_pack
        return _flood(
            device_id,
            f"sent a message of {largest_pack} records; its model allows {profile.max_pack}",
            evidence,
        )
    if baseline is None or last_minute < FLOOD_FLOOR:
        return None
    if last_minute <= baseline.threshold(factor=FLOOD_FACTOR, deviations=FLOOD_DEVIATIONS):
        return None
    times = baseline.times_usual(last_minute)
    evidence.update(usual_per_minute=round(baseline.median, 3), mad=round(baseline.mad, 3))
    return _flood(
        device_id,
        f"sent {times:.0f} times its usual rate: {last_minute} messages in the last minute, "
        f"where it usually sends {baseline.median:.1f} a minute",
        evidence,
    )


def off_profile(device_id: str, profile: Profile, sent: frozenset[str]) -> Finding | None:
    other = sorted(sent - profile.streams)
    if not other:
        return None
    allowed = ", ".join(sorted(profile.streams)) or "none"
    return Finding(
        Detection.off_profile,
        Severity.warning,
        f"device {device_id} sent {', '.join(repr(name) for name in other)}, outside its "
        f"profile (it may send: {allowed}). A changed firmware or a stolen credential sends "
        "what the device was never made to; check the device.",
        {"streams": other, "allowed": sorted(profile.streams)},
        device_id=device_id,
    )


def denied_topic(device_id: str, action: str, topic: str) -> Finding:
    return Finding(
        Detection.off_profile,
        Severity.warning,
        f"device {device_id} tried to {action} to {topic!r} and the broker refused: a device "
        "uses its own topics only. A stolen credential probing the broker, or a changed "
        "firmware; check the device.",
        {"denied": action, "topic": topic[:200]},
        device_id=device_id,
    )


def credential_stuffing(source: str, devices: frozenset[str], failures: int) -> Finding | None:
    if len(devices) < STUFFING_DEVICES:
        return None
    return Finding(
        Detection.credential_stuffing,
        Severity.critical,
        f"{failures} failed sign-ins from {source} against {len(devices)} different devices "
        f"within {STUFFING_WINDOW / 60:g} minutes: someone is trying stolen or default "
        "passwords. Block the address at the firewall and check that no device still has a "
        "default password.",
        {"failures": failures, "devices": sorted(devices)[:50]},
        source=source,
    )


def silent(device_id: str, profile: Profile, *, last_seen: float, now: float) -> Finding | None:
    if profile.interval is None or now - last_seen <= SILENT_INTERVALS * profile.interval:
        return None
    quiet = now - last_seen
    return Finding(
        Detection.silent,
        Severity.warning,
        f"device {device_id} has sent nothing for {_span(quiet)}; it reports every "
        f"{_span(profile.interval)}. A flat battery, a lost network or tampering: go and look.",
        {"last_seen": last_seen, "silent_seconds": round(quiet), "interval": profile.interval},
        device_id=device_id,
    )


def replay(
    device_id: str, profile: Profile, *, repeated: int, oldest_offset: float | None
) -> Finding | None:
    if repeated:
        return Finding(
            Detection.replay,
            Severity.warning,
            f"device {device_id} sent {repeated} pack(s) whose every reading was already "
            f"stored more than {_span(REPLAY_AGE)} ago: someone may be replaying what it sent "
            "earlier.",
            {"repeated_packs": repeated},
            device_id=device_id,
        )
    if oldest_offset is None or oldest_offset <= profile.max_clock_offset:
        return None
    return Finding(
        Detection.replay,
        Severity.warning,
        f"device {device_id} sent readings dated {_span(oldest_offset)} before they arrived "
        f"(at most {_span(profile.max_clock_offset)} is expected): a replay, or a clock gone "
        "wrong.",
        {"clock_offset_seconds": round(oldest_offset, 3), "max": profile.max_clock_offset},
        device_id=device_id,
    )


def firmware_downgrade(device_id: str, before: str, now: str) -> Finding | None:
    if _version_key(now) >= _version_key(before):
        return None
    return Finding(
        Detection.firmware_downgrade,
        Severity.critical,
        f"device {device_id} now reports firmware {now}, older than the {before} it reported "
        "before: an older version brings back the holes that were fixed. Find out who changed "
        "it and update the device again.",
        {"before": before, "now": now},
        device_id=device_id,
    )


def past_support(device_id: str, profile: Profile, today: date) -> Finding | None:
    if today <= profile.support_until:
        return None
    return Finding(
        Detection.past_support,
        Severity.warning,
        f"device {device_id} is still sending, but its model {profile.model_id} has had no "
        f"security updates since {profile.support_until.isoformat()}. Plan its replacement.",
        {"support_until": profile.support_until.isoformat()},
        device_id=device_id,
    )


def _flood(device_id: str, what: str, evidence: Mapping[str, object]) -> Finding:
    return Finding(
        Detection.flood,
        Severity.critical,
        f"device {device_id} {what}. A device that floods is often taken over (a botnet) or "
        "broken; check it before releasing it.",
        evidence,
        device_id=device_id,
    )


def _version_key(version: str) -> tuple[int, ...]:
    """Versions compared by their numbers in order (5.10.0 after 5.9.2); letters are ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:.0f} days"
