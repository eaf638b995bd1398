"""advisories as specified: withdrawn OSV records, package keys of ranges, SBOMs of models

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_models") as batch:
        batch.add_column(sa.Column("sbom_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("advisories") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("advisory_ranges") as batch:
        batch.add_column(sa.Column("package", sa.Text(), nullable=True))
    op.create_table(
        "model_components",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("purl", sa.Text(), nullable=True),
        sa.Column("cpe", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["device_models.id"],
            name=op.f("fk_model_components_model_id_device_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_components")),
    )
    op.create_index("ix_model_components_model", "model_components", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_model_components_model", table_name="model_components")
    op.drop_table("model_components")
    with op.batch_alter_table("advisory_ranges") as batch:
        batch.drop_column("package")
    with op.batch_alter_table("advisories") as batch:
        batch.drop_column("withdrawn_at")
    with op.batch_alter_table("device_models") as batch:
        batch.drop_column("sbom_sha256")
