"""data path: device tokens, data keys, ledger head, one reading per device, stream and time

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("readings") as batch:
        batch.drop_index("ix_readings_stream_time")
        batch.create_unique_constraint(
            "uq_readings_stream_device_time", ["stream_id", "device_id", "time"]
        )
    op.create_table(
        "device_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_tokens_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_device_tokens")),
    )
    op.create_table(
        "data_keys",
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_seq", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )
    op.execute(
        "INSERT INTO ledger_head (id, seq, hash, checkpoint_seq, checkpoint_at) "
        "VALUES (1, 0, '" + "0" * 64 + "', 0, 0)"
    )


def downgrade() -> None:
    op.drop_table("ledger_head")
    op.drop_table("data_keys")
    op.drop_table("device_tokens")
    with op.batch_alter_table("readings") as batch:
        batch.drop_constraint("uq_readings_stream_device_time", type_="unique")
        batch.create_index("ix_readings_stream_time", ["stream_id", "time"])
