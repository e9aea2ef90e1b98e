"""Real listings: a picture's credit on items, and how many entries a source's last read skipped.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as items:
        items.add_column(sa.Column("image_credit", sa.Text()))
    with op.batch_alter_table("sources") as sources:
        sources.add_column(sa.Column("last_skipped", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("sources") as sources:
        sources.drop_column("last_skipped")
    with op.batch_alter_table("items") as items:
        items.drop_column("image_credit")
