"""Subscribers: each newsletter's list with its consent records, and the events of each
address's story; the send ledger indexed by Message-ID, which bounces are matched by.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("newsletter", sa.String(100), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("ascii_address", sa.String(320), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("consent_at", sa.DateTime(), nullable=True),
        sa.Column("consent_method", sa.String(20), nullable=False),
        sa.Column("consent_source", sa.Text(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("soft_bounces", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("newsletter", "key", name="uq_subscribers_newsletter_key"),
    )
    op.create_index("ix_subscribers_newsletter_status", "subscribers", ["newsletter", "status"])
    op.create_table(
        "subscriber_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("newsletter", sa.String(100), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("issue", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(250), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriber_events"),
    )
    op.create_index("ix_subscriber_events_key", "subscriber_events", ["key"])
    op.create_index("ix_sends_message_id", "sends", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_sends_message_id", "sends")
    op.drop_index("ix_subscriber_events_key", "subscriber_events")
    op.drop_table("subscriber_events")
    op.drop_index("ix_subscribers_newsletter_status", "subscribers")
    op.drop_table("subscribers")
