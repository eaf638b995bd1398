"""Tables of abuse monitoring: behaviour per device and minute, sign-in failures per source,
detections with their evidence, and quarantines.

Minute buckets are written by the hub's monitor a few seconds behind the ingest path and
purged after the manifest's `deployment.metrics_retention`. Quarantines are an append-only
history (quarantined, released), so the latest event of a device is its state and the
largest id is the version every worker's pipeline watches. Migration 0011 creates these.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Index, Integer, String, Table, Text

from goodthings.core.store.tables import metadata

_ID = 63

behaviour_minutes = Table(
    "behaviour_minutes",
    metadata,
    Column("device_id", String(_ID), primary_key=True),
    Column("minute", Integer, primary_key=True),
    Column("messages", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("records", Integer, nullable=False),
    Column("largest_pack", Integer, nullable=False),
    Column("streams", JSON, nullable=False),
    Column("dropped", JSON, nullable=False),
    Column("refused", JSON, nullable=False),
    Column("denied", JSON, nullable=False, server_default="{}"),
    Column("connections", Integer, nullable=False),
    Column("firmware", String(64)),
    Column("clock_offset_min", Float),
    Column("clock_offset_max", Float),
    Index("ix_behaviour_minutes_minute", "minute"),
)
"""What each device did in each minute (`minute` is Unix seconds // 60): messages, bytes,
records, the largest pack, the streams it used, readings dropped and packs refused by reason,
publishes and subscriptions the broker denied it (by action), broker connections, the firmware its birth message reported, and how far its readings' times
were from their receive time (seconds; positive is older)."""

sign_in_minutes = Table(
    "sign_in_minutes",
    metadata,
    Column("source", String(255), primary_key=True),
    Column("minute", Integer, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("devices", JSON, nullable=False),
    Index("ix_sign_in_minutes_minute", "minute"),
)
"""Failed sign-ins per source address and minute, with the device names they tried."""

detections = Table(
    "detections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("device_id", String(_ID)),
    Column("source", String(255)),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Index("ix_detections_device_id", "device_id", "id"),
)
"""Each time a detector found a device (or a source address) misbehaving, in words, with the
figures it decided on."""

quarantine_events = Table(
    "quarantine_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("device_id", String(_ID), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("detection_id", Integer),
    Index("ix_quarantine_events_device_id", "device_id", "id"),
)
"""Each quarantine and release of a device: who, why, and the detection that caused it."""
