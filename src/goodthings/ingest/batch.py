"""The values a transport hands to the ingest pipeline, and what it gets back.

A transport (HTTP, MQTT) collects packs into a batch and calls `Ingestor.ingest`; when that
returns, everything stored is durably committed, so the transport may acknowledge, refused packs
too (sent again, they would be refused again). Each pack is accepted or refused whole: a
malformed pack, one naming a stream its device does not have, or one the hub fails on, stores
nothing of itself and does not affect the other packs of the batch. Why a pack was
refused is a `Refusal`, in the domain's words; each transport says it in its own (HTTP maps it
to a status code in `web/ingest.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from goodthings.ingest.senml.media import SENML_CBOR as SENML_CBOR
from goodthings.ingest.senml.media import SENML_JSON as SENML_JSON
from goodthings.policy import DevicePolicy


@dataclass(frozen=True, slots=True)
class Incoming:
    """One SenML pack from one device, as received."""

    device_id: str
    payload: bytes
    received_at: float
    content_type: str = SENML_JSON


class Refusal(StrEnum):
    """Why a pack was refused whole: nothing of it was stored."""

    unknown_device = "unknown_device"
    """The sender is not a device of this deployment (never was, or no longer is)."""
    malformed = "malformed"
    """The payload is not a valid SenML pack (RFC 8428) in the content type it came as."""
    unknown_stream = "unknown_stream"
    """A record names a stream the device does not have: the manifest must declare it first."""
    quarantined = "quarantined"
    """The device is quarantined (abuse monitoring): nothing it sends is kept until the operator
    releases it."""
    unprocessable = "unprocessable"
    """The hub failed on the pack, or its store would not take what the pack holds: refused
    alone, so that it cannot stop the other packs being stored; the hub logs the error's type."""


@dataclass(frozen=True)
class PackResult:
    """What happened to one pack: counts when accepted, a refusal and its message when not."""

    received: int = 0
    """Readings in the pack."""
    stored: int = 0
    """Rows written: one per reading, or one per window when readings are aggregated."""
    minimised: int = 0
    """Readings kept at less detail than sent: rounded, or merged into a window's summary."""
    dropped: Mapping[str, int] = field(default_factory=dict)
    """Readings not stored, by reason (see `policy.decisions.Reason`)."""
    refusal: Refusal | None = None
    """Why the pack was refused whole, or None when it was accepted."""
    error: str | None = None
    """What was wrong, where, and what would be right: set exactly when `refusal` is."""
    ledger_seq: int | None = None
    """The ledger entry that records this pack being stored (None when it was refused)."""


@dataclass(frozen=True)
class BatchOutcome:
    results: tuple[PackResult, ...]
    ledger_seq: int | None
    """The newest ledger entry recording this batch (None when nothing was accepted); packs
    stored one by one each have their own, in `PackResult.ledger_seq`."""


class Ingestor(Protocol):
    """The ingest pipeline as transports see it."""

    def ingest(self, batch: Sequence[Incoming]) -> BatchOutcome:
        """Parse, authorise, gate, protect and store a batch in one transaction."""
        ...

    def refresh(self) -> bool:
        """Reload consents if they changed anywhere (any process); True when policies changed."""
        ...

    def policies(self) -> Mapping[str, DevicePolicy]:
        """The current policy of every device, by device id: the same mapping object until the
        policies change (a new one tells the MQTT bridge to publish what changed)."""
        ...
