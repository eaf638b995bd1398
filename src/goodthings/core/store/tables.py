"""The database schema, as SQLAlchemy Core tables: one definition for SQLite and PostgreSQL.

Declared rows (places, models, streams, devices…) are never deleted when the manifest drops
them: they are marked `retired_at`, because readings, consents and the ledger still refer to
them. Alembic migrations in `migrations/` create and evolve these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_ID = 63


def _retired() -> Column[object]:
    return Column("retired_at", DateTime(timezone=True), nullable=True)


manifest_versions = Table(
    "manifest_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("content", Text, nullable=False),
)

operator = Table(
    "operator",
    metadata,
    Column("deployment_id", String(_ID), primary_key=True),
    Column("deployment_name", Text, nullable=False),
    Column("legal_name", Text, nullable=False),
    Column("spec", JSON, nullable=False),
    # How far ahead of the hub's clock a reading may be dated (the manifest's clock_skew).
    Column("clock_skew_seconds", Float, nullable=False, server_default="300"),
    # How long behaviour minutes are kept (the manifest's metrics_retention, 30 days by default).
    Column("metrics_retention_seconds", Float, nullable=False, server_default="2592000"),
)

places = Table(
    "places",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("address", Text),
    Column("area", Text),
    _retired(),
)

subjects = Table(
    "subjects",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("contact", Text),
    Column("language", String(16), nullable=False),
    _retired(),
)

place_occupants = Table(
    "place_occupants",
    metadata,
    Column("place_id", String(_ID), ForeignKey("places.id"), primary_key=True),
    Column("subject_id", String(_ID), ForeignKey("subjects.id"), primary_key=True),
)

recipients = Table(
    "recipients",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("spec", JSON, nullable=False),
    _retired(),
)

device_models = Table(
    "device_models",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("manufacturer", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("firmware_versions", JSON, nullable=False),
    Column("support_until", Date, nullable=False),
    Column("update_mechanism", String(32), nullable=False),
    Column("mud_url", Text),
    # The SHA-256 of the model's SBOM file, so a changed SBOM shows in the plan (migration 0014).
    Column("sbom_sha256", String(64)),
    # The model's `monitoring:` profile as declared (None: the defaults).
    Column("monitoring", JSON),
    _retired(),
)

streams = Table(
    "streams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(_ID), ForeignKey("device_models.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("personal", Boolean, nullable=False),
    Column("retention_seconds", BigInteger),
    Column("spec", JSON, nullable=False),
    _retired(),
    UniqueConstraint("model_id", "name", name="uq_streams_model_name"),
)

purposes = Table(
    "purposes",
    metadata,
    Column("stream_id", Integer, ForeignKey("streams.id"), primary_key=True),
    Column("purpose", String(64), primary_key=True),
    Column("legal_basis", String(64)),
    Column("how", Text, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", Text),
    Column("model_id", String(_ID), ForeignKey("device_models.id"), nullable=False),
    Column("place_id", String(_ID), ForeignKey("places.id"), nullable=False),
    Column("subject_id", String(_ID), ForeignKey("subjects.id")),
    Column("firmware", String(64), nullable=False),
    _retired(),
    # The SenML base name the device sends (RFC 8428 §4.5.1), such as urn:dev:ow:…:
    Column("senml_name", String(255)),
    UniqueConstraint("senml_name", name="uq_devices_senml_name"),
)

applications = Table(
    "applications",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("operated_by", Text, nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("spec", JSON, nullable=False),
    _retired(),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_id", String(_ID), ForeignKey("subjects.id"), nullable=False),
    Column("stream_id", Integer, ForeignKey("streams.id"), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("recipient_id", String(_ID), ForeignKey("recipients.id")),
    Column("state", String(16), nullable=False),
    Column("level", String(16), nullable=False),
    Column("notice_hash", String(64)),
    Column("method", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The representative (manifest: represented_by) who made the change on the person's
    # behalf, "name (relationship)"; NULL when the person (or the operator for them) did.
    Column("given_by", Text),
    Index("ix_consents_subject_stream", "subject_id", "stream_id"),
)

readings = Table(
    "readings",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("device_id", String(_ID), nullable=False),
    Column("stream_id", Integer, nullable=False),
    Column("subject_id", String(_ID)),
    Column("time", Float, nullable=False),
    # Which of a pack's readings of this stream at this time it is (0, 1, ...): two people seen
    # at the same moment are two readings, while a redelivered pack maps to the same keys.
    Column("ordinal", SmallInteger, nullable=False, server_default="0"),
    Column("value", Float),
    Column("value_text", Text),
    Column("sealed", LargeBinary),
    # One reading per key: a pack redelivered after a crash is not stored twice.
    UniqueConstraint(
        "stream_id", "device_id", "time", "ordinal", name="uq_readings_stream_device_time_ordinal"
    ),
    Index("ix_readings_subject", "subject_id"),
)

# A device's secrets: HTTP/MQTT tokens and operator-set passwords, only as argon2id hashes.
device_tokens = Table(
    "device_tokens",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("device_id", String(_ID), ForeignKey("devices.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("fingerprint", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_device_tokens_device", "device_id"),
    Index("ix_device_tokens_fingerprint", "fingerprint"),
)

data_keys = Table(
    "data_keys",
    metadata,
    Column("holder", String(80), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""Empty since data keys live in the key vault (`keys/data/`): rows left by an older version
are moved out when the deployment is opened (`goodthings.core.keys.moved`)."""

destroyed_keys = Table(
    "destroyed_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("holder", String(80), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=False),
)
"""One row per data key destroyed (crypto-shredding): its holder and the SHA-256 of its wrapped
form, never the key. Every process polls the newest id and forgets a key it still holds in
memory once it appears here; a newer key of the same holder has another fingerprint."""

ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("checkpoint_seq", BigInteger, nullable=False),
    Column("checkpoint_at", Float, nullable=False),
    Column("key_id", String(16)),
)
"""`key_id` names the signing key checkpoints are signed with since its last change (null
before the first `goodthings keys rotate-signing`): every appender compares it with its own."""

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("time", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("object", Text, nullable=False),
    Column("purpose", String(64)),
    Column("counts", JSON, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("hash", String(64), nullable=False),
    Column("time", String(32), nullable=False),
    Column("signature", Text, nullable=False),
    Column("key_id", String(16), nullable=False),
)

ledger_keys = Table(
    "ledger_keys",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("time", String(32), nullable=False),
    Column("old_public_key", Text, nullable=False),
    Column("new_public_key", Text, nullable=False),
    Column("old_signature", Text, nullable=False),
    Column("new_signature", Text, nullable=False),
)
"""Each change of the ledger's signing key, at the seq of the entry that records it, signed by
both keys (core/ledger/keychain.py)."""

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("device_id", String(_ID)),
    Column("kind", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
)

refused_packs = Table(
    "refused_packs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(_ID), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("refusal", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Index("ix_refused_packs_device_id", "device_id", "id"),
)
"""Packs the hub refused whole, newest kept (a bounded number): who sent them, when, why, their
size and SHA-256, and never their payload or a value from it (migration 0006)."""
