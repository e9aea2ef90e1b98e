"""Create the item pool: items, sources, topics, and the links between them.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _link(table: str, column: str, target: str) -> sa.Column[int]:
    return sa.Column(
        column,
        sa.Integer(),
        sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(16), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("language", sa.String(35)),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("uid", name="uq_items_uid"),
    )
    op.create_index("ix_items_date_id", "items", ["date", "id"])
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("location", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("listing_url", sa.Text()),
        sa.Column("language", sa.String(35)),
        sa.Column("last_ingested", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("name", name="uq_sources_name"),
    )
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topics"),
        sa.UniqueConstraint("slug", name="uq_topics_slug"),
    )
    op.create_table(
        "item_sources",
        _link("item_sources", "item_id", "items"),
        _link("item_sources", "source_id", "sources"),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "source_id", name="pk_item_sources"),
    )
    op.create_index("ix_item_sources_source_id", "item_sources", ["source_id"])
    op.create_table(
        "item_topics",
        _link("item_topics", "item_id", "items"),
        _link("item_topics", "topic_id", "topics"),
        sa.Column("origin", sa.String(10), primary_key=True),
        sa.PrimaryKeyConstraint("item_id", "topic_id", "origin", name="pk_item_topics"),
    )
    op.create_index("ix_item_topics_topic_id_item_id", "item_topics", ["topic_id", "item_id"])
    op.create_table(
        "topic_exclusions",
        _link("topic_exclusions", "item_id", "items"),
        _link("topic_exclusions", "topic_id", "topics"),
        sa.PrimaryKeyConstraint("item_id", "topic_id", name="pk_topic_exclusions"),
    )


def downgrade() -> None:
    for table in ("topic_exclusions", "item_topics", "item_sources", "topics", "sources", "items"):
        op.drop_table(table)
