"""Tables of the people's portal: sign-in, sessions, receipts, erasure requests, people's keys.

Secrets (sign-in links, codes, session tokens) are stored only as SHA-256 hashes: they carry
enough randomness that a fast hash is right, and a copy of the database signs nobody in.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from goodthings.core.store.tables import metadata

_ID = 63

portal_invites = Table(
    "portal_invites",
    metadata,
    Column("link_hash", String(64), primary_key=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("subject_id", String(_ID), ForeignKey("subjects.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("subject_id", String(_ID), ForeignKey("subjects.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

consent_receipts = Table(
    "consent_receipts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("consent_id", Integer, ForeignKey("consents.id"), nullable=False, unique=True),
    Column("subject_id", String(_ID), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_consent_receipts_subject", "subject_id"),
)

erasure_requests = Table(
    "erasure_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject_id", String(_ID), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("method", String(32), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("unreadable_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("readings_purged", Integer),
    Column("receipt", Text),
    Index("ix_erasure_requests_subject", "subject_id"),
)

unlinked_aggregates = Table(
    "unlinked_aggregates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stream_id", Integer, nullable=False),
    Column("day", String(10), nullable=False),
    Column("count", Integer, nullable=False),
    Column("mean", Float),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

subject_recipients = Table(
    "subject_recipients",
    metadata,
    Column("subject_id", String(_ID), ForeignKey("subjects.id"), primary_key=True),
    Column("age_recipient", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

held_keys = Table(
    "held_keys",
    metadata,
    Column("subject_id", String(_ID), ForeignKey("subjects.id"), primary_key=True),
    Column("age_recipient", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

held_batch_keys = Table(
    "held_batch_keys",
    metadata,
    Column("holder", String(80), primary_key=True),
    # Hex of the 8-byte nonce prefix of the values sealed under this key; `*` for the values
    # sealed before the person took their key.
    Column("prefix", String(16), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
