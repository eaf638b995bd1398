"""transparency: notices, application access, deliveries, passers-by opt-outs, retention

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Reserved for this area's tables, so that parallel work keeps one migration chain."""


def downgrade() -> None:
    """Nothing to undo yet."""
