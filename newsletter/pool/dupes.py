"""Near-duplicate pairs, and merging two items into one.

A merge keeps the first item and gives it everything of the second: its sources, its topics
(and topic exclusions), the fields it lacks, and its uid as an alias, so that ingesting the
second's source again finds the merged item. Then the second is deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, and_, delete, insert, or_, select, update

from newsletter.errors import NewsletterError
from newsletter.model import DuplicatePair, ItemQuery, TopicOrigin
from newsletter.pool.queries import find_item_id, select_items
from newsletter.pool.store import aliases, exclusions, item_sources, item_topics, items, pairs

_GAPS = ("summary", "url", "language", "image")


def listed(connection: Connection, status: str | None = "open") -> list[DuplicatePair]:
    statement = select(pairs).order_by(pairs.c.score.desc(), pairs.c.found)
    if status is not None:
        statement = statement.where(pairs.c.status == status)
    rows = connection.execute(statement).all()
    ids = {row.item_id for row in rows} | {row.other_id for row in rows}
    uids = dict(
        connection.execute(select(items.c.id, items.c.uid).where(items.c.id.in_(ids))).all()
    )
    found = {
        item.uid: item
        for item in select_items(connection, ItemQuery(uids=tuple(uids.values()), provenance=True))
    }
    return [
        DuplicatePair(
            found[uids[row.item_id]], found[uids[row.other_id]], row.score, row.reason, row.status
        )
        for row in rows
    ]


def keep_apart(connection: Connection, first: str, second: str, now: datetime) -> None:
    """Record that two items are different stories: they are not listed again."""
    a, _ = find_item_id(connection, first)
    b, _ = find_item_id(connection, second)
    if a == b:
        raise NewsletterError(f"{first} and {second} are the same item")
    a, b = min(a, b), max(a, b)
    done = connection.execute(
        update(pairs)
        .where(
            or_(
                and_(pairs.c.item_id == a, pairs.c.other_id == b),
                and_(pairs.c.item_id == b, pairs.c.other_id == a),
            )
        )
        .values(status="apart")
    )
    if done.rowcount == 0:
        connection.execute(
            insert(pairs).values(
                item_id=a,
                other_id=b,
                score=0.0,
                reason="kept apart by hand",
                status="apart",
                found=now,
            )
        )


def merge(connection: Connection, keep: str, other: str) -> str:
    """Merge item `other` into item `keep`; returns the uid kept."""
    keep_id, keep_uid = find_item_id(connection, keep)
    other_id, other_uid = find_item_id(connection, other)
    if keep_id == other_id:
        raise NewsletterError(f"{keep} and {other} are the same item")
    kept = connection.execute(select(*(items.c[name] for name in _GAPS)).where(
        items.c.id == keep_id)).one()  # fmt: skip
    given = connection.execute(select(*(items.c[name] for name in _GAPS)).where(
        items.c.id == other_id)).one()  # fmt: skip
    gaps = {name: getattr(given, name) for name in _GAPS
            if getattr(given, name) and not getattr(kept, name)}  # fmt: skip
    if gaps:
        connection.execute(update(items).where(items.c.id == keep_id).values(**gaps))
    _move_links(connection, item_sources, ("source_id",), other_id, keep_id)
    _move_links(connection, item_topics, ("topic_id", "origin"), other_id, keep_id)
    _move_links(connection, exclusions, ("topic_id",), other_id, keep_id)
    # An editor's "not this topic" on either item holds for the merged one: rules and sources
    # may not keep the topic (a topic tagged by hand stays, as `tag` after `untag` would).
    excluded = select(exclusions.c.topic_id).where(exclusions.c.item_id == keep_id)
    connection.execute(
        delete(item_topics).where(
            item_topics.c.item_id == keep_id,
            item_topics.c.topic_id.in_(excluded),
            item_topics.c.origin != str(TopicOrigin.MANUAL),
        )
    )
    connection.execute(update(aliases).where(aliases.c.item_id == other_id).values(item_id=keep_id))
    connection.execute(insert(aliases).values(uid=other_uid, item_id=keep_id))
    connection.execute(
        delete(pairs).where(or_(pairs.c.item_id == other_id, pairs.c.other_id == other_id))
    )
    connection.execute(delete(items).where(items.c.id == other_id))
    return keep_uid


def _move_links(connection: Connection, table: Table, key: tuple[str, ...], source: int,
                target: int) -> None:  # fmt: skip
    """Give `target` the links of `source` it does not have; the rest go with `source`."""
    columns = [table.c[name] for name in key]
    have = set(connection.execute(select(*columns).where(table.c.item_id == target)).all())
    for row in connection.execute(select(table).where(table.c.item_id == source)).all():
        values = dict(row._mapping)
        if tuple(values[name] for name in key) not in have:
            connection.execute(insert(table).values({**values, "item_id": target}))
    connection.execute(delete(table).where(table.c.item_id == source))
