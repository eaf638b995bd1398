"""device security: credentials, lockouts, advisories, disclosure reports

Revision ID: 0003
Revises: 0002

Device tokens move from SHA-256 to argon2id with a lookup id; a SHA-256 hash cannot be turned
into an argon2id one, so tokens issued before this migration stop working and must be issued
again (`goodthings device rotate DEVICE-ID`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("device_tokens")
    op.create_table(
        "device_tokens",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=True),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_tokens_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_tokens")),
    )
    op.create_index("ix_device_tokens_device", "device_tokens", ["device_id"])
    op.create_index("ix_device_tokens_fingerprint", "device_tokens", ["fingerprint"])
    op.create_table(
        "password_refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=True),
        sa.Column("refusal", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_refusals")),
    )
    op.create_table(
        "security_lockouts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_lockouts")),
    )
    op.create_table(
        "firmware_reports",
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("reported_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_firmware_reports_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_firmware_reports")),
    )
    op.create_table(
        "advisories",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("imported_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
    )
    op.create_table(
        "advisory_ranges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("advisory_id", sa.String(length=128), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("vers", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_ranges_advisory_id_advisories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_ranges")),
    )
    op.create_index("ix_advisory_ranges_advisory", "advisory_ranges", ["advisory_id"])
    op.create_table(
        "update_campaigns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(length=63), nullable=False),
        sa.Column("target_version", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["device_models.id"],
            name=op.f("fk_update_campaigns_model_id_device_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_campaigns")),
    )
    op.create_table(
        "campaign_devices",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["update_campaigns.id"],
            name=op.f("fk_campaign_devices_campaign_id_update_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_campaign_devices_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "device_id", name=op.f("pk_campaign_devices")),
    )
    op.create_table(
        "vulnerability_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", _WHEN, nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulnerability_reports")),
    )


def downgrade() -> None:
    op.drop_table("vulnerability_reports")
    op.drop_table("campaign_devices")
    op.drop_table("update_campaigns")
    op.drop_index("ix_advisory_ranges_advisory", table_name="advisory_ranges")
    op.drop_table("advisory_ranges")
    op.drop_table("advisories")
    op.drop_table("firmware_reports")
    op.drop_table("security_lockouts")
    op.drop_table("password_refusals")
    op.drop_index("ix_device_tokens_fingerprint", table_name="device_tokens")
    op.drop_index("ix_device_tokens_device", table_name="device_tokens")
    op.drop_table("device_tokens")
    # The SHA-256 tokens are gone for good: the old table comes back empty.
    op.create_table(
        "device_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("revoked_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_tokens_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_device_tokens")),
    )
