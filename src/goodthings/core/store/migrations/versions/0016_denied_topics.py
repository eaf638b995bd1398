"""behaviour_minutes: topics the broker denied each device, by action (publish, subscribe)

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("behaviour_minutes") as batch:
        batch.add_column(sa.Column("denied", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("behaviour_minutes") as batch:
        batch.drop_column("denied")
