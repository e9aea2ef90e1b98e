"""Sources as the pool records them: their health, and the validators of their last fetch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from newsletter.model import Source, SourceHealth
from newsletter.pool.store import item_sources, save_source, sources


def validators(connection: Connection, source: Source) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) of the source's last stored fetch; (None, None) if it has none,
    was last read from elsewhere, or was read another way (its format, selectors, columns...
    changed since: the page must be read whole again)."""
    row = connection.execute(
        select(sources.c.etag, sources.c.last_modified).where(
            sources.c.name == source.name,
            sources.c.location == source.location,
            sources.c.read_options == source.read_options,
        )
    ).first()
    return (row.etag, row.last_modified) if row else (None, None)


def record_status(
    connection: Connection, source: Source, status: str, error: str | None, now: datetime,
    create: bool,
) -> None:  # fmt: skip
    save_source(connection, source, now, status=status, error=error, create=create)


def health(connection: Connection) -> list[SourceHealth]:
    counted = (
        select(item_sources.c.source_id, func.count().label("item_count"))
        .group_by(item_sources.c.source_id)
        .subquery()
    )
    rows = connection.execute(
        select(sources, func.coalesce(counted.c.item_count, 0).label("item_count"))
        .outerjoin(counted, counted.c.source_id == sources.c.id)
        .order_by(sources.c.name)
    )
    return [
        SourceHealth(
            name=row.name,
            format=row.format,
            location=row.location,
            items=int(row.item_count),
            last_fetched=row.last_fetched,
            last_ingested=row.last_ingested,
            status=row.last_status,
            error=row.last_error,
            skipped=row.last_skipped or 0,
        )
        for row in rows
    ]
