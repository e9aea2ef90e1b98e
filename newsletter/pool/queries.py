"""Read paths of the pool: the selection every later stage uses, and look-ups by uid and topic."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, exists, func, or_, select

from newsletter.errors import NewsletterError
from newsletter.model import Item, ItemQuery, TopicSummary
from newsletter.pool.store import aliases, item_sources, item_topics, items, sources, topics

_TOPICS = (
    select(func.aggregate_strings(topics.c.slug, ","))
    .select_from(item_topics.join(topics, topics.c.id == item_topics.c.topic_id))
    .where(item_topics.c.item_id == items.c.id)
    .correlate(items)
    .scalar_subquery()
)
_SOURCES = (
    select(func.aggregate_strings(sources.c.name, ","))
    .select_from(item_sources.join(sources, sources.c.id == item_sources.c.source_id))
    .where(item_sources.c.item_id == items.c.id)
    .correlate(items)
    .scalar_subquery()
)
_COLUMNS = (
    items.c.uid,
    items.c.type,
    items.c.title,
    items.c.date,
    items.c.summary,
    items.c.url,
    items.c.language,
    _TOPICS.label("topic_slugs"),
    items.c.image,
    items.c.image_credit,
)
_PROVENANCE = (_SOURCES.label("source_names"), items.c.first_seen, items.c.updated)


def item_statement(query: ItemQuery) -> Select[Any]:
    """One statement for a selection: the date range walks the (date, id) index newest first,
    and each candidate is checked against the topic links by their primary key."""
    statement = select(*_COLUMNS, *(_PROVENANCE if query.provenance else ()))
    if query.start is not None:
        statement = statement.where(items.c.date >= query.start)
    if query.end is not None:
        statement = statement.where(items.c.date <= query.end)
    if query.topics:
        wanted = select(topics.c.id).where(topics.c.slug.in_(query.topics))
        statement = statement.where(
            exists().where(item_topics.c.item_id == items.c.id, item_topics.c.topic_id.in_(wanted))
        )
    if query.uids:
        statement = statement.where(items.c.uid.in_(query.uids))
    if query.types:
        statement = statement.where(func.lower(items.c.type).in_([t.lower() for t in query.types]))
    if query.search:
        needle = query.search.lower()
        statement = statement.where(
            or_(
                func.lower(items.c.title).contains(needle, autoescape=True),
                func.lower(items.c.summary).contains(needle, autoescape=True),
            )
        )
    statement = statement.order_by(items.c.date.desc(), items.c.id.desc())
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return statement


def select_items(connection: Connection, query: ItemQuery) -> list[Item]:
    rows = connection.execute(item_statement(query)).all()
    if query.provenance:
        return [_item(row)._replace(sources=_split(row[10]), first_seen=row[11], updated=row[12])
                for row in rows]  # fmt: skip
    return [_item(row) for row in rows]


def _item(row: Any) -> Item:  # a row of _COLUMNS
    uid, kind, title, day, summary, url, language, topic_slugs, image, credit = row[:10]
    return Item(uid, kind, title, day, summary, url, language, _split(topic_slugs), image,
                image_credit=credit)  # fmt: skip


def _split(joined: str | None) -> tuple[str, ...]:
    return tuple(sorted(set(joined.split(",")))) if joined else ()


def find_item_id(connection: Connection, uid: str) -> tuple[int, str]:
    """The (id, full uid) of the one item whose uid is `uid` or starts with it; a uid that an
    item had before a merge finds the item it was merged into."""
    uid = uid.strip().lower()
    if len(uid) < 4 or not all(c in "0123456789abcdef" for c in uid):
        raise NewsletterError(
            f"{uid!r} is not an item uid (at least 4 hex digits, as `newsletter items` shows them)"
        )
    matches = connection.execute(
        select(items.c.id, items.c.uid).where(items.c.uid.startswith(uid)).limit(2)
    ).all()
    if not matches:
        matches = connection.execute(
            select(items.c.id, items.c.uid)
            .join(aliases, aliases.c.item_id == items.c.id)
            .where(aliases.c.uid.startswith(uid))
            .limit(2)
        ).all()
    if not matches:
        raise NewsletterError(f"no item with uid {uid!r}")
    if len(matches) > 1:
        raise NewsletterError(f"uid {uid!r} is ambiguous: give more of its digits")
    return matches[0].id, matches[0].uid


def get_item(connection: Connection, uid: str) -> Item:
    _, full = find_item_id(connection, uid)
    (item,) = select_items(connection, ItemQuery(uids=(full,), provenance=True))
    return item


def topic_summaries(connection: Connection) -> list[TopicSummary]:
    counted = (
        select(topics.c.slug, topics.c.name, func.count(func.distinct(item_topics.c.item_id)))
        .select_from(topics.outerjoin(item_topics, item_topics.c.topic_id == topics.c.id))
        .group_by(topics.c.id, topics.c.slug, topics.c.name)
        .order_by(topics.c.slug)
    )
    return [TopicSummary(slug, name, count) for slug, name, count in connection.execute(counted)]


def type_counts(connection: Connection) -> list[tuple[str, int]]:
    """Every type label in the pool with how many items carry it, the most common first."""
    count = func.count().label("count")
    query = select(items.c.type, count).group_by(items.c.type).order_by(count.desc(), items.c.type)
    return [(kind, int(number)) for kind, number in connection.execute(query)]


def count_items(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(items)).scalar_one())


def known_uids(connection: Connection, uids: list[str]) -> set[str]:
    """Those of `uids` that are items' uids, or were before a merge."""
    found: set[str] = set()
    for start in range(0, len(uids), 1000):
        chunk = uids[start : start + 1000]
        for table in (items, aliases):
            found.update(
                connection.execute(select(table.c.uid).where(table.c.uid.in_(chunk))).scalars()
            )
    return found


def current_uids(connection: Connection, uids: list[str]) -> dict[str, str]:
    """uid -> the uid of the item it now belongs to, for those of `uids` merged into another."""
    found: dict[str, str] = {}
    for start in range(0, len(uids), 1000):
        chunk = uids[start : start + 1000]
        found.update(
            connection.execute(
                select(aliases.c.uid, items.c.uid)
                .join(items, items.c.id == aliases.c.item_id)
                .where(aliases.c.uid.in_(chunk))
            ).all()
        )
    return found
