"""Which language edition of an issue each send went out in.

A newsletter in several languages sends each subscriber one edition of an issue; the ledger
keeps one row per issue (its main slug) and recipient, so that nobody gets two editions, and
this column says which edition that row is for (NULL: a row from before editions, the main).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sends") as sends:
        sends.add_column(sa.Column("edition", sa.String(35)))


def downgrade() -> None:
    with op.batch_alter_table("sends") as sends:
        sends.drop_column("edition")
