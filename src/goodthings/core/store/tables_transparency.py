"""Tables for transparency and accountable use: notices, secrets, opt-outs, deliveries,
objections.

They share `metadata` with the core tables; migration 0005 creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from goodthings.core.store.tables import metadata

notice_versions = Table(
    "notice_versions",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("scope", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("content", JSON, nullable=False),
)
"""Every notice version someone was shown or consented under, kept for audits."""

application_secrets = Table(
    "application_secrets",
    metadata,
    Column("application_id", String(63), ForeignKey("applications.id"), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""An application's OAuth2 client secret, stored only as a SHA-256 hash (256 random bits)."""

passerby_optouts = Table(
    "passerby_optouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("place_id", String(63)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""Passers-by who opted out: only a keyed hash of their device's address, never the address."""

webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("recipient_id", String(63), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("previous_until", Float, nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=False),
)
"""A recipient's webhook secret generation once rotated (none: generation 0), and until when
deliveries are signed with the previous one as well."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient_id", String(63), nullable=False),
    Column("stream_id", Integer, nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("window_start", Float, nullable=False),
    Column("window_end", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", Text),
    Column("readings", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Index("ix_deliveries_status_next", "status", "next_attempt_at"),
)
"""Webhook deliveries to recipients: a time window of one stream for one purpose. The readings
are read through the gate at each attempt, so nothing personal waits here in clear."""

objections = Table(
    "objections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", String(63), ForeignKey("subjects.id"), nullable=False),
    Column("stream_id", Integer, ForeignKey("streams.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("method", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""A person's objection to automated decisions and profiling on a stream (GDPR Art. 21, 22);
history is kept: a withdrawal is a new row."""
