"""abuse monitoring: behaviour minutes, sign-in failures, detections, quarantines, profiles

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "behaviour_minutes",
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("largest_pack", sa.Integer(), nullable=False),
        sa.Column("streams", sa.JSON(), nullable=False),
        sa.Column("dropped", sa.JSON(), nullable=False),
        sa.Column("refused", sa.JSON(), nullable=False),
        sa.Column("connections", sa.Integer(), nullable=False),
        sa.Column("firmware", sa.String(length=64), nullable=True),
        sa.Column("clock_offset_min", sa.Float(), nullable=True),
        sa.Column("clock_offset_max", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "minute", name=op.f("pk_behaviour_minutes")),
    )
    op.create_index("ix_behaviour_minutes_minute", "behaviour_minutes", ["minute"])
    op.create_table(
        "sign_in_minutes",
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("source", "minute", name=op.f("pk_sign_in_minutes")),
    )
    op.create_index("ix_sign_in_minutes_minute", "sign_in_minutes", ["minute"])
    op.create_table(
        "detections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detections")),
    )
    op.create_index("ix_detections_device_id", "detections", ["device_id", "id"])
    op.create_table(
        "quarantine_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detection_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_events")),
    )
    op.create_index("ix_quarantine_events_device_id", "quarantine_events", ["device_id", "id"])
    with op.batch_alter_table("device_models") as batch:
        batch.add_column(sa.Column("monitoring", sa.JSON(), nullable=True))
    with op.batch_alter_table("operator") as batch:
        batch.add_column(
            sa.Column(
                "metrics_retention_seconds", sa.Float(), nullable=False, server_default="2592000"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("metrics_retention_seconds")
    with op.batch_alter_table("device_models") as batch:
        batch.drop_column("monitoring")
    op.drop_index("ix_quarantine_events_device_id", table_name="quarantine_events")
    op.drop_table("quarantine_events")
    op.drop_index("ix_detections_device_id", table_name="detections")
    op.drop_table("detections")
    op.drop_index("ix_sign_in_minutes_minute", table_name="sign_in_minutes")
    op.drop_table("sign_in_minutes")
    op.drop_index("ix_behaviour_minutes_minute", table_name="behaviour_minutes")
    op.drop_table("behaviour_minutes")
