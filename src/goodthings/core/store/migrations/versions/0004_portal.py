"""people's portal: sign-in, sessions, receipts, erasure requests

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portal_invites",
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_portal_invites_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("link_hash", name=op.f("pk_portal_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_portal_invites_code_hash")),
    )
    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_portal_sessions_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_portal_sessions")),
    )
    op.create_table(
        "consent_receipts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=63), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_receipts_consent_id_consents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_receipts")),
        sa.UniqueConstraint("consent_id", name=op.f("uq_consent_receipts_consent_id")),
    )
    op.create_index("ix_consent_receipts_subject", "consent_receipts", ["subject_id"])
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=63), nullable=False),
        sa.Column("requested_at", _TZ, nullable=False),
        sa.Column("deadline", _TZ, nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("unreadable_at", _TZ, nullable=True),
        sa.Column("completed_at", _TZ, nullable=True),
        sa.Column("readings_purged", sa.Integer(), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index("ix_erasure_requests_subject", "erasure_requests", ["subject_id"])
    op.create_table(
        "unlinked_aggregates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unlinked_aggregates")),
    )
    op.create_table(
        "subject_recipients",
        sa.Column("subject_id", sa.String(length=63), nullable=False),
        sa.Column("age_recipient", sa.String(length=128), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_recipients_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_recipients")),
    )
    op.create_table(
        "held_keys",
        sa.Column("subject_id", sa.String(length=63), nullable=False),
        sa.Column("age_recipient", sa.String(length=128), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_held_keys_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_held_keys")),
    )
    op.create_table(
        "held_batch_keys",
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("holder", "prefix", name=op.f("pk_held_batch_keys")),
    )


def downgrade() -> None:
    op.drop_table("held_batch_keys")
    op.drop_table("held_keys")
    op.drop_table("subject_recipients")
    op.drop_table("unlinked_aggregates")
    op.drop_index("ix_erasure_requests_subject", table_name="erasure_requests")
    op.drop_table("erasure_requests")
    op.drop_index("ix_consent_receipts_subject", table_name="consent_receipts")
    op.drop_table("consent_receipts")
    op.drop_table("portal_sessions")
    op.drop_table("portal_invites")
