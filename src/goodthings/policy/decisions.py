"""What the gate decides for one stream of one device, and the policy a device is told.

These are the values that cross package boundaries: the gate produces them, the ingest
pipeline applies them to readings, and the MQTT bridge publishes them to devices (retained on
`gt/<device>/policy`) so that a device stops collecting what nobody allowed.

`Level` is defined with the manifest's vocabulary (the manifest sits below the policy and spells
the levels the same way) and is exported here, beside `Reason`, for everything above.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from goodthings.core.manifest.schema import Level

__all__ = ["DevicePolicy", "Level", "Reason", "StreamDecision"]


class Reason(StrEnum):
    """Why readings are dropped; counted per reason, never stored."""

    no_consent = "no_consent"
    """Every purpose of the stream needs consent, and it was not given (or was withdrawn)."""
    level_off = "level_off"
    """The people concerned chose `off` for this stream."""
    retired = "retired"
    """The stream or device was retired from the manifest."""
    duplicate = "duplicate"
    """The same reading (device, stream, time) is already stored."""
    opted_out = "opted_out"
    """The reading carries the device address of a passer-by who opted out."""
    unminimisable = "unminimisable"
    """The level asks for less detail than the value can give up (text or data at `coarse`, a
    window of mixed kinds of value at `aggregate`), so it is withheld rather than kept finer."""


@dataclass(frozen=True, slots=True)
class StreamDecision:
    """For one (device, stream): whether readings are stored, how finely, and under whose key."""

    stream_id: int
    personal: bool
    collect: bool
    level: Level
    """`exact`, `coarse` or `aggregate` when collected; `off` when not."""
    reason: Reason | None
    holder: str | None
    """Whose data key protects the values: a subject id, or `place:<id>` for a shared space."""
    coarse_step: float | None = None
    aggregate_seconds: float | None = None


@dataclass(frozen=True)
class DevicePolicy:
    """What one device may collect now: published to it, retained, whenever it changes."""

    device_id: str
    streams: Mapping[str, StreamDecision]
    senml_name: str | None = None
    """The SenML base name the device sends, when the manifest gives one."""

    def to_json(self) -> bytes:
        """The message a device receives; stable bytes, so an unchanged policy is not resent."""
        streams = {}
        for name in sorted(self.streams):
            decision = self.streams[name]
            entry: dict[str, object] = {"collect": decision.collect, "level": decision.level}
            if decision.reason is not None:
                entry["reason"] = decision.reason.value
            if decision.coarse_step is not None and decision.level == Level.coarse:
                entry["coarse_step"] = decision.coarse_step
            if decision.aggregate_seconds is not None and decision.level == Level.aggregate:
                entry["aggregate_seconds"] = decision.aggregate_seconds
            streams[name] = entry
        body = {"device": self.device_id, "streams": streams}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        version = hashlib.sha256(text.encode()).hexdigest()[:16]
        return json.dumps(
            {**body, "version": version}, sort_keys=True, separators=(",", ":")
        ).encode()
