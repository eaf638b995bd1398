"""refused packs: a bounded record of the packs the hub refused, without their payload

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refused_packs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("refusal", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_packs")),
    )
    op.create_index("ix_refused_packs_device_id", "refused_packs", ["device_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_refused_packs_device_id", table_name="refused_packs")
    op.drop_table("refused_packs")
