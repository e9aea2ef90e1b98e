"""More sources: item images, source health and fetch validators, aliases, near-duplicates.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as items:
        items.add_column(sa.Column("image", sa.Text()))
    with op.batch_alter_table("sources") as sources:
        sources.add_column(sa.Column("last_fetched", sa.DateTime()))
        sources.add_column(sa.Column("last_status", sa.String(20)))
        sources.add_column(sa.Column("last_error", sa.Text()))
        sources.add_column(sa.Column("etag", sa.Text()))
        sources.add_column(sa.Column("last_modified", sa.Text()))
        sources.add_column(sa.Column("read_options", sa.String(16)))
    # Summaries may now hold inline markup: a '<' of the plain text stored so far is text.
    op.execute("UPDATE items SET summary = REPLACE(summary, '<', '&lt;') WHERE summary LIKE '%<%'")
    op.create_table(
        "item_aliases",
        sa.Column("uid", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name="pk_item_aliases"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_item_aliases_item_id_items", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_item_aliases_item_id", "item_aliases", ["item_id"])
    op.create_table(
        "duplicate_pairs",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("found", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "other_id", name="pk_duplicate_pairs"),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_duplicate_pairs_item_id_items", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["items.id"],
            name="fk_duplicate_pairs_other_id_items",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_duplicate_pairs_other_id", "duplicate_pairs", ["other_id"])


def downgrade() -> None:
    op.drop_table("duplicate_pairs")
    op.drop_table("item_aliases")
    with op.batch_alter_table("sources") as sources:
        for column in (
            "read_options",
            "last_modified",
            "etag",
            "last_error",
            "last_status",
            "last_fetched",
        ):
            sources.drop_column(column)
    with op.batch_alter_table("items") as items:
        items.drop_column("image")
