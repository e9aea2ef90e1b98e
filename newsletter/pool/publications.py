"""The publication record: which issue versions went out, numbered per newsletter."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Connection, Table, insert, select, text
from sqlalchemy.exc import IntegrityError

from newsletter.errors import NewsletterError
from newsletter.model import ItemQuery
from newsletter.pool import queries
from newsletter.pool.tables import PublicationRow

publications = cast(Table, PublicationRow.__table__)

# The first key of PostgreSQL's two-key advisory locks that publishing takes (the second is
# the newsletter's): two-key locks never meet the one-key lock of the other writers.
_PUBLISH_LOCK = 0x7075626C  # "publ"


@dataclass(frozen=True, slots=True)
class Publication:
    newsletter: str
    slug: str
    number: int
    version: int
    published: date
    digest: str


class NewsletterPublications:
    """A newsletter's publication record inside a transaction that holds its lock: what one
    `publish` reads and writes, while no other `publish` of that newsletter can."""

    def __init__(self, connection: Connection, newsletter: str):
        self.connection = connection
        self.newsletter = newsletter

    def history(self) -> list[Publication]:
        return history(self.connection, self.newsletter)

    def record(self, publication: Publication) -> None:
        """Add a row; a number or version given already is a one-line error."""
        if publication.newsletter != self.newsletter:  # pragma: no cover - a bug
            raise ValueError(f"{publication.newsletter} is not {self.newsletter}")
        try:
            with self.connection.begin_nested():
                record(self.connection, publication)
        except IntegrityError:
            raise NewsletterError(
                f"{publication.newsletter}/{publication.slug}: no. {publication.number} "
                f"(version {publication.version}) is recorded already for another issue"
            ) from None

    def topics(self, uids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Item uid -> its topics in the pool now, for those of `uids` the pool holds."""
        found = queries.select_items(self.connection, ItemQuery(uids=tuple(uids)))
        return {item.uid: item.topics for item in found}


def lock(connection: Connection, newsletter: str) -> None:
    """Make the transaction the only one publishing `newsletter` until it ends. SQLite's
    writers queue by BEGIN IMMEDIATE already (all of them: the lock is the whole file's)."""
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(newsletter.encode("utf-8")) - 2**31  # a stable int4 per name
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:kind, :key)"), {"kind": _PUBLISH_LOCK, "key": key}
        )


def record(connection: Connection, publication: Publication) -> None:
    connection.execute(
        insert(publications).values(
            newsletter=publication.newsletter,
            slug=publication.slug,
            number=publication.number,
            version=publication.version,
            published=publication.published,
            digest=publication.digest,
            recorded=datetime.now(UTC),
        )
    )


def history(connection: Connection, newsletter: str | None = None) -> list[Publication]:
    columns = publications.c
    query = select(
        columns.newsletter, columns.slug, columns.number, columns.version, columns.published,
        columns.digest,
    ).order_by(columns.newsletter, columns.number, columns.version)  # fmt: skip
    if newsletter:
        query = query.where(publications.c.newsletter == newsletter)
    return [Publication(*row) for row in connection.execute(query)]
