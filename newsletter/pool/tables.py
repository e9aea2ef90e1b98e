"""The item pool's tables as SQLAlchemy 2 typed mappings; the schema itself is Alembic's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    format: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    listing_url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(35))
    last_ingested: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last stored
    # Its health: the last attempt to read it, how that went, and what a fetch must send for
    # the server to answer 304 when nothing changed.
    last_fetched: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(20))  # ok | not modified | error
    last_error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    read_options: Mapped[str | None] = mapped_column(String(16))
    last_skipped: Mapped[int | None] = mapped_column()  # entries its last read could not store


class ItemRow(Base):
    __tablename__ = "items"
    __table_args__ = (Index("ix_items_date_id", "date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(16), unique=True)
    type: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    date: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(35))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    image: Mapped[str | None] = mapped_column(Text)
    image_credit: Mapped[str | None] = mapped_column(Text)  # "© ILO/M. Crozet", as a page says


class ItemAliasRow(Base):
    """Another uid of an item: one it had before a merge, or a near-duplicate's merged into it.

    Ingest finds items by these as by their own uid, so a merged story stays merged."""

    __tablename__ = "item_aliases"
    __table_args__ = (Index("ix_item_aliases_item_id", "item_id"),)

    uid: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))


class DuplicatePairRow(Base):
    """Two items that may tell the same story, for the editor to merge or keep apart."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (Index("ix_duplicate_pairs_other_id", "other_id"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )  # the one that was in the pool first
    other_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # open | apart
    found: Mapped[datetime] = mapped_column(UTCDateTime)


class TopicRow(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(Text)


class ItemTopicRow(Base):
    __tablename__ = "item_topics"
    __table_args__ = (Index("ix_item_topics_topic_id_item_id", "topic_id", "item_id"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    origin: Mapped[str] = mapped_column(String(10), primary_key=True)


class TopicExclusionRow(Base):
    """An editor's 'not this topic' for one item: rules and sources may not add it back."""

    __tablename__ = "topic_exclusions"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )


class ItemSourceRow(Base):
    __tablename__ = "item_sources"
    __table_args__ = (Index("ix_item_sources_source_id", "source_id"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    # Digest of what this source last said of the item: unchanged means nothing to update.
    fingerprint: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class SendRow(Base):
    """The send ledger: one row per issue and recipient, so that a send can resume."""

    __tablename__ = "sends"
    __table_args__ = (
        UniqueConstraint("issue", "recipient", name="uq_sends_issue_recipient"),
        Index("ix_sends_issue_state", "issue", "state"),
        Index("ix_sends_message_id", "message_id"),  # bounces name their message by it
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue: Mapped[str] = mapped_column(String(200))  # "<newsletter>/<slug>"
    recipient: Mapped[str] = mapped_column(String(320))  # the address, in lower case
    name: Mapped[str] = mapped_column(Text, default="")
    # pending -> sent | failed (permanent) | deferred (temporary, retried next run) | suppressed
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[str] = mapped_column(String(250))  # fixed before the first attempt
    smtp_code: Mapped[int | None] = mapped_column()
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the send run sending it now
    # The language edition this row is for, chosen with its Message-ID (None: the main one).
    edition: Mapped[str | None] = mapped_column(String(35))


class SendRunRow(Base):
    """A `newsletter send` at work on an issue: it claims ledger rows, and renews its lease
    while alive; a run past its lease, or whose process is gone, leaves its rows to others."""

    __tablename__ = "send_runs"
    __table_args__ = (Index("ix_send_runs_issue", "issue"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    issue: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column()
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime)


class SuppressionRow(Base):
    """Addresses never to send to: unsubscribed, bounced, complained."""

    __tablename__ = "suppressions"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # in lower case
    reason: Mapped[str] = mapped_column(String(20))
    added: Mapped[datetime] = mapped_column(UTCDateTime)


class PublicationRow(Base):
    """The record of what was published: one row per issue version."""

    __tablename__ = "publications"
    __table_args__ = (
        UniqueConstraint("newsletter", "slug", "version", name="uq_publications_newsletter"),
        # A newsletter's numbers are given once: to an issue's first version.
        Index(
            "uq_publications_number",
            "newsletter",
            "number",
            unique=True,
            sqlite_where=text("version = 1"),
            postgresql_where=text("version = 1"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column()
    version: Mapped[int] = mapped_column()
    published: Mapped[date] = mapped_column(Date)
    digest: Mapped[str] = mapped_column(String(64))  # of the email's HTML and text
    recorded: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRow(Base):
    """Who may use the studio beyond this machine: an editor, or a reviewer who reads."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # "editor" or "reviewer"
    password: Mapped[str] = mapped_column(String(300))  # passwords.hash_password's form
    added: Mapped[datetime] = mapped_column(UTCDateTime)


class ApprovalRow(Base):
    """A reviewer's approval of one version of an issue file (its digest): a newsletter that
    asks for approvals publishes only an approved version."""

    __tablename__ = "approvals"

    newsletter: Mapped[str] = mapped_column(String(100), primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    by: Mapped[str] = mapped_column(String(100))
    approved: Mapped[datetime] = mapped_column(UTCDateTime)


class SubscriberRow(Base):
    """One address on one newsletter's list, and the record of its consent."""

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("newsletter", "key", name="uq_subscribers_newsletter_key"),
        Index("ix_subscribers_newsletter_status", "newsletter", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(320))  # the address in lower case: one subscriber
    address: Mapped[str] = mapped_column(String(320))  # as email-validator normalises it
    ascii_address: Mapped[str | None] = mapped_column(String(320))  # its IDNA form, if other
    name: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(35), default="")
    # pending (not confirmed) | active | paused | unsubscribed | bounced | complained
    status: Mapped[str] = mapped_column(String(20))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_method: Mapped[str] = mapped_column(String(20), default="")  # form, import, cli
    consent_source: Mapped[str] = mapped_column(Text, default="")  # the page, file or host
    attributes: Mapped[str] = mapped_column(Text, default="{}")  # JSON, from the import's columns
    soft_bounces: Mapped[int] = mapped_column(default=0)  # in a row; a delivery resets it
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)


class SubscriberEventRow(Base):
    """What happened to an address, and when: with the send ledger, its whole story."""

    __tablename__ = "subscriber_events"
    __table_args__ = (Index("ix_subscriber_events_key", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(100))  # "" for every newsletter
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # subscribed, confirmed, imported, unsubscribed, paused, resumed, language, bounced,
    # soft-bounce, complained, removed
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    issue: Mapped[str] = mapped_column(String(200), default="")  # the send it is about
    # What made it, once: a bounce's own Message-ID, so that reading a mailbox again counts
    # nothing twice.
    reference: Mapped[str] = mapped_column(String(250), default="")


class ItemVersionRow(Base):
    """Items that tell one story in several languages: each is a version of the story named
    by its first item's id."""

    __tablename__ = "item_versions"
    __table_args__ = (Index("ix_item_versions_story", "story"),)

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    story: Mapped[int] = mapped_column()
