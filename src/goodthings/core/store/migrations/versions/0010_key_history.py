"""key history: the ledger's signing-key changes, the head's current key, webhook secrets'
generations

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledger_head", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "ledger_keys",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("time", sa.String(length=32), nullable=False),
        sa.Column("old_public_key", sa.Text(), nullable=False),
        sa.Column("new_public_key", sa.Text(), nullable=False),
        sa.Column("old_signature", sa.Text(), nullable=False),
        sa.Column("new_signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_keys")),
    )
    op.create_table(
        "webhook_secrets",
        sa.Column("recipient_id", sa.String(length=63), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("previous_until", sa.Float(), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient_id", name=op.f("pk_webhook_secrets")),
    )


def downgrade() -> None:
    op.drop_table("webhook_secrets")
    op.drop_table("ledger_keys")
    with op.batch_alter_table("ledger_head") as batch:
        batch.drop_column("key_id")
