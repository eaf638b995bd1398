"""Tables of device security: refused passwords, lockouts, firmware, advisories, disclosure.

Device credentials themselves live in `tables.device_tokens`. Migration 0003 creates these;
0014 adds withdrawn advisories, package keys of ranges and the components of device models.
"""

from __future__ import annotations

from sqlalchemy import (
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

_ID = 63

password_refusals = Table(
    "password_refusals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("device_id", String(_ID)),
    Column("refusal", String(32), nullable=False),
)
"""Each refused device password, by reason; never the password itself."""

security_lockouts = Table(
    "security_lockouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
)
"""Each lockout after repeated failed sign-ins, of a device or of a source address."""

firmware_reports = Table(
    "firmware_reports",
    metadata,
    Column("device_id", String(_ID), ForeignKey("devices.id"), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)
"""The firmware version each device last reported in its birth message."""

advisories = Table(
    "advisories",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("format", String(8), nullable=False),
    Column("summary", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("url", Text),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
)

advisory_ranges = Table(
    "advisory_ranges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("advisory_id", String(128), ForeignKey("advisories.id"), nullable=False),
    Column("product", Text, nullable=False),
    # A version range in the `vers` syntax (vers:generic/>=1.0|<1.4).
    Column("vers", Text, nullable=False),
    # A package key (pkg:deb/debian/openssl, cpe:wattwise:m2): SBOM components match by it.
    Column("package", Text),
    Index("ix_advisory_ranges_advisory", "advisory_id"),
)
"""Which products and versions an advisory affects."""

model_components = Table(
    "model_components",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(_ID), ForeignKey("device_models.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("purl", Text),
    Column("cpe", Text),
    Index("ix_model_components_model", "model_id"),
)
"""The components of each device model, from the SBOM its manifest entry names."""

update_campaigns = Table(
    "update_campaigns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(_ID), ForeignKey("device_models.id"), nullable=False),
    Column("target_version", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
)

campaign_devices = Table(
    "campaign_devices",
    metadata,
    Column("campaign_id", Integer, ForeignKey("update_campaigns.id"), primary_key=True),
    Column("device_id", String(_ID), ForeignKey("devices.id"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Each device of an update campaign: pending, then updated when it reports the target."""

vulnerability_reports = Table(
    "vulnerability_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("contact", Text),
    Column("summary", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Reports from security researchers, triaged: received, confirmed, fixed, published."""
