"""Tables of the operator's console: the people who operate the hub, and their sessions.

Passwords are kept only as argon2id hashes, TOTP secrets encrypted, session ids only as SHA-256
hashes (256 random bits need no slow hash). Migration 0009 creates these.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table

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
