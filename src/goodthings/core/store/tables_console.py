"""Tables of the operator's console: the people who operate the hub, their sessions, and the
register of people's requests the data protection officer answers.

Passwords are kept only as argon2id hashes, TOTP secrets encrypted, session ids only as SHA-256
hashes (256 random bits need no slow hash). Migration 0009 creates the first two, 0012 the
register.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text

from goodthings.core.store.tables import metadata

_NAME = 63

operators = Table(
    "operators",
    metadata,
    Column("name", String(_NAME), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("password_one_time", Boolean, nullable=False),
    Column("totp_secret", String(128)),
    Column("totp_confirmed", Boolean, nullable=False),
    Column("totp_last_step", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""One row per person; `totp_secret` is AES-GCM sealed (`security.operators`), and
`totp_last_step` is the newest 30-second step whose code was used."""

operator_sessions = Table(
    "operator_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column(
        "operator", String(_NAME), ForeignKey("operators.name", ondelete="CASCADE"), nullable=False
    ),
    Column("stage", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
"""A sign-in under way (`stage` "password": the code is still due) or done ("signed-in")."""

subject_requests = Table(
    "subject_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("subject_id", String(_NAME), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_by", String(_NAME), nullable=False),
    Column("answered_at", DateTime(timezone=True)),
    Column("sent", Text),
)
"""A request that reached the hub's people rather than its portal (a letter, an email, a call):
access, export, erasure or objection, with its deadline and, once answered, what was sent."""

request_extensions = Table(
    "request_extensions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request", String(80), nullable=False, unique=True),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("extended_by", String(_NAME), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""A deadline extended under GDPR Art. 12(3), once per request (`request` is its reference, e.g.
`erasure:<uuid>` or `register:7`), with the reason the person is told."""
