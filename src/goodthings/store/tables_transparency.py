"""Tables for transparency and accountable use: notices, application secrets, opt-outs.

They share `metadata` with the core tables; migration 0005 creates them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Table

from goodthings.store.tables import metadata

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
