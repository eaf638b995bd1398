"""reading ordinal: distinct readings at one time; the deployment's clock-skew allowance

Revision ID: 0007
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every reading stored so far was the only one of its key: it takes ordinal 0.
    with op.batch_alter_table("readings") as batch:
        batch.add_column(
            sa.Column("ordinal", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch.drop_constraint("uq_readings_stream_device_time", type_="unique")
        batch.create_unique_constraint(
            "uq_readings_stream_device_time_ordinal",
            ["stream_id", "device_id", "time", "ordinal"],
        )
    with op.batch_alter_table("operator") as batch:
        batch.add_column(
            sa.Column("clock_skew_seconds", sa.Float(), nullable=False, server_default="300")
        )


def downgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("clock_skew_seconds")
    # Readings beyond the first of a key cannot go back under the old key.
    op.execute("DELETE FROM readings WHERE ordinal <> 0")
    with op.batch_alter_table("readings") as batch:
        batch.drop_constraint("uq_readings_stream_device_time_ordinal", type_="unique")
        batch.create_unique_constraint(
            "uq_readings_stream_device_time", ["stream_id", "device_id", "time"]
        )
        batch.drop_column("ordinal")
