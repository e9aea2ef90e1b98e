"""The studio's users (who may sign in when it serves beyond this machine), and reviewers'
approvals of issue versions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password", sa.String(300), nullable=False),
        sa.Column("added", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_users"),
    )
    op.create_table(
        "approvals",
        sa.Column("newsletter", sa.String(100), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("approved", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("newsletter", "slug", "digest", name="pk_approvals"),
    )


def downgrade() -> None:
    op.drop_table("approvals")
    op.drop_table("users")
