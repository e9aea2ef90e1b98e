"""Sends claimed before they go out, and issue numbers given once.

Each `newsletter send` run is a row of `send_runs` with a lease it renews while alive; a ledger
row is claimed by one run before its message is handed to SMTP, so two runs never send the
same recipient. A first version's number is unique per newsletter.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("issue", sa.String(200), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_send_runs"),
    )
    op.create_index("ix_send_runs_issue", "send_runs", ["issue"])
    with op.batch_alter_table("sends") as sends:
        sends.add_column(sa.Column("claimed_by", sa.String(64)))
    bind = op.get_bind()
    duplicates = bind.execute(
        sa.text(
            "SELECT newsletter, number, COUNT(*) FROM publications WHERE version = 1 "
            "GROUP BY newsletter, number HAVING COUNT(*) > 1"
        )
    ).all()
    if duplicates:
        shown = ", ".join(f"{newsletter} no. {number} ({count} issues)"
                          for newsletter, number, count in duplicates)  # fmt: skip
        raise RuntimeError(
            f"issues published under the same number: {shown}; give each its own number "
            "in the publications table, then upgrade again"
        )
    op.create_index(
        "uq_publications_number",
        "publications",
        ["newsletter", "number"],
        unique=True,
        sqlite_where=sa.text("version = 1"),
        postgresql_where=sa.text("version = 1"),
    )


def downgrade() -> None:
    op.drop_index("uq_publications_number", table_name="publications")
    with op.batch_alter_table("sends") as sends:
        sends.drop_column("claimed_by")
    op.drop_index("ix_send_runs_issue", table_name="send_runs")
    op.drop_table("send_runs")
