"""devices: the SenML base name a device sends (RFC 8428's urn:dev:… form)

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("senml_name", sa.String(length=255), nullable=True))
        batch.create_unique_constraint("uq_devices_senml_name", ["senml_name"])


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_constraint("uq_devices_senml_name", type_="unique")
        batch.drop_column("senml_name")
