"""The plain records every stage shares: what a source says, and what the pool holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

# The dates newsletter works with, checked wherever a date comes in (an issue file, a command's
# option, a source): far wider than any item's or issue's, and far enough inside the years 1 to
# 9999 of `date` that arithmetic on them (the day after, the next month, a window of days
# either side) cannot overflow. 0001-01-01 and 9999-12-31, which some systems write for "no
# date", fall outside: they are refused as the mistakes they are.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def date_problem(day: date) -> str | None:
    """Why `day` is outside the dates newsletter works with, or None when it is inside."""
    if EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    return (
        f"{day.isoformat()} is outside the dates newsletter works with "
        f"({EARLIEST_DATE} to {LATEST_DATE})"
    )


class TopicOrigin(StrEnum):
    """What tagged an item with a topic; `retag` recomputes SOURCE and RULE, never MANUAL."""

    SOURCE = "source"  # the source's default topics
    RULE = "rule"  # the taxonomy's keywords
    MANUAL = "manual"  # an editor, with `newsletter tag` or `ingest --topic`


class Entry(NamedTuple):
    """One item as a source shows it, before its identity and topics are worked out.

    A NamedTuple rather than a frozen dataclass, as are the other records made once per
    ingested entry: a frozen dataclass's __init__ costs a few microseconds, which a million
    entries turn into seconds.
    """

    type: str
    title: str
    date: date
    summary: str = ""
    url: str | None = None
    language: str | None = None
    line: int | None = None  # where the entry starts in its file, for messages
    image: str | None = None  # an absolute http(s) URL, from a feed or a page
    image_credit: str | None = None  # "© ILO/M. Crozet 2021", as a listing prints it
    undated: bool = False  # the source gave no date: `date` is when it was first seen


class Item(NamedTuple):
    """One item of the pool, as the later stages see it (a NamedTuple, for the same reason as
    Entry: selections of thousands of items are made in milliseconds)."""

    uid: str
    type: str
    title: str
    date: date
    summary: str = ""
    url: str | None = None
    language: str | None = None
    topics: tuple[str, ...] = ()
    image: str | None = None
    # Provenance, filled in when the query asks for it.
    sources: tuple[str, ...] = ()
    first_seen: datetime | None = None
    updated: datetime | None = None
    image_credit: str | None = None


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """Which items to select: every given criterion must hold (topics and types match any)."""

    start: date | None = None
    end: date | None = None
    topics: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    search: str | None = None
    uids: tuple[str, ...] = ()
    limit: int | None = None
    offset: int = 0  # with limit: the items after the first `offset` (a page further on)
    provenance: bool = False  # also each item's sources and when it was first and last seen
    sources: tuple[str, ...] = ()  # read from any of these (source names)
    language: str | None = None
    pictured: bool = False  # only items with a picture


@dataclass(frozen=True, slots=True)
class TopicSummary:
    """A topic of the taxonomy with how many pool items carry it."""

    slug: str
    name: str
    items: int
    in_config: bool = True


@dataclass(frozen=True, slots=True)
class Source:
    """Where a batch of items was read from, as the pool records it."""

    name: str
    format: str
    location: str | None = None
    title: str | None = None
    listing_url: str | None = None
    language: str | None = None
    # What the server said of a fetched page, to ask next time "only if it changed".
    etag: str | None = None
    last_modified: str | None = None
    read_options: str | None = None  # a digest of how it is read: a change means read it whole


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How a source fared: its last attempt, how that went, and what the pool holds from it."""

    name: str
    format: str
    location: str | None
    items: int
    last_fetched: datetime | None
    last_ingested: datetime | None
    status: str | None  # ok | not modified | error; None: never read
    error: str | None
    skipped: int = 0  # entries its last read could not store (see that read's warnings)


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Two pool items that may tell the same story, as `newsletter dupes` lists them."""

    first: Item  # the one in the pool first
    second: Item
    score: float
    reason: str
    status: str  # open | apart


class IncomingItem(NamedTuple):
    """An entry ready for the pool: its identity, the digest of what its source said, and the
    topics the taxonomy's keywords give it."""

    uid: str
    fingerprint: str
    entry: Entry
    rule_topics: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class WriteCounts:
    """What storing a batch did: items added, changed, already known as they were, merged
    into a near-duplicate already in the pool, and added but listed as possible duplicates."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    listed: int = 0

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.merged + other.merged,
            self.listed + other.listed,
        )


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """An issue rendered: what is sent (HTML and text parts), with what the stages after need.

    The HTML and text hold neutral merge tags (MERGE_TAGS) where a subscriber's own values go.
    """

    subject: str
    preheader: str
    html: str
    text: str
    mjml: str
    language: str
    web_version_url: str | None = None
    # The workspace pictures it links, prepared: (media/<digest>.<ext>, the file), which the
    # archive must serve at its base_url before the email is sent.
    media: tuple[tuple[str, Path], ...] = ()


# Neutral merge tags: the send stage fills them in, each ESP export translates them.
MERGE_TAGS = ("unsubscribe_url", "subscriber_name", "web_version_url")


def merge_tag(name: str) -> str:
    return f"%%{name}%%"


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address on a list: from a CSV file, or the pool's list of a newsletter."""

    address: str  # as email-validator normalises it (an internationalised domain in Unicode)
    name: str = ""
    ascii_address: str | None = None  # the same address in ASCII (IDNA domain), when it has one
    language: str = ""  # a language tag such as "fr" ("": the newsletter's first)
    attributes: Mapping[str, str] = field(default_factory=dict)  # the list's other columns

    @property
    def key(self) -> str:
        """Addresses differing only in case are one subscriber."""
        return self.address.lower()

    @property
    def smtp_address(self) -> str:
        """What SMTP and the To: header use: ASCII when it can be, else UTF-8 (SMTPUTF8)."""
        return self.ascii_address or self.address
