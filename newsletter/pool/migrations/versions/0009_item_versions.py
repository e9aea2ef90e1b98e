"""Items that tell one story in several languages (language editions).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_versions",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("story", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_item_versions_item_id_items", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", name="pk_item_versions"),
    )
    op.create_index("ix_item_versions_story", "item_versions", ["story"])


def downgrade() -> None:
    op.drop_index("ix_item_versions_story", "item_versions")
    op.drop_table("item_versions")
