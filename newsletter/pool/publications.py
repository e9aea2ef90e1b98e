"""The publication record: which issue versions went out, numbered per newsletter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Connection, Table, func, insert, select

from newsletter.pool.tables import PublicationRow

publications = cast(Table, PublicationRow.__table__)


@dataclass(frozen=True, slots=True)
class Publication:
    newsletter: str
    slug: str
    number: int
    version: int
    published: date
    digest: str


def next_number(connection: Connection, newsletter: str) -> int:
    found = connection.execute(
        select(func.max(publications.c.number)).where(publications.c.newsletter == newsletter)
    ).scalar()
    return int(found or 0) + 1


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
