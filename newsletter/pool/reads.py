"""The pool's read paths as plain SQL, one text for every connection that runs them.

A `Reads` runs each statement through a function it is given: SQLAlchemy's connection in the
`Pool`, or the standard library's sqlite3 in a quick reader (`pool/quick.py`), which spares a
command that only looks (`newsletter items`) the import of SQLAlchemy, most of its start-up.
The statements use named parameters (`:name`), which both accept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from newsletter.model import Item, ItemQuery, TopicSummary

# The newest migration's revision, which the statements here are written against: a pool at it
# opens without importing Alembic (tests/pool/test_migrations.py keeps it true).
HEAD_REVISION = "0010"

Run = Callable[[str, Mapping[str, object]], Sequence[Sequence[Any]]]

# A comma-joined list of one column over a group, in each dialect's words.
_JOIN_STRINGS = {"sqlite": "group_concat({}, ',')", "postgresql": "string_agg({}, ',')"}
_LIKE_ESCAPE = "/"


RECENT = 5000  # the newest items, whose types a filter offers


class PoolReads(Protocol):
    """What a command that only looks at the pool asks of it."""

    def select_items(self, query: ItemQuery) -> list[Item]: ...
    def topic_summaries(self) -> list[TopicSummary]: ...
    def type_counts(self) -> list[tuple[str, int]]: ...
    def recent_types(self, items: int = RECENT) -> list[str]: ...
    def count_items(self) -> int: ...
    def close(self) -> None: ...


class Reads:
    """The read statements, run by `run` on a database of `dialect` ("sqlite" or "postgresql")."""

    def __init__(self, run: Run, dialect: str):
        self.run = run
        self.dialect = dialect

    def select_items(self, query: ItemQuery) -> list[Item]:
        """The items `query` selects, newest first: the date range walks the (date, id) index,
        and each candidate is checked against the topic links by their primary key."""
        sql, params = self.item_sql(query)
        rows = self.run(sql, params)
        if query.provenance:
            return [_item(row)._replace(sources=_split(row[10]), first_seen=_moment(row[11]),
                                        updated=_moment(row[12])) for row in rows]  # fmt: skip
        return [_item(row) for row in rows]

    def item_sql(self, query: ItemQuery) -> tuple[str, dict[str, object]]:
        join = _JOIN_STRINGS[self.dialect]
        columns = [
            "i.uid, i.type, i.title, i.date, i.summary, i.url, i.language",
            f"(SELECT {join.format('t.slug')} FROM item_topics it JOIN topics t"
            " ON t.id = it.topic_id WHERE it.item_id = i.id)",
            "i.image, i.image_credit",
        ]
        if query.provenance:
            columns.append(
                f"(SELECT {join.format('s.name')} FROM item_sources x JOIN sources s"
                " ON s.id = x.source_id WHERE x.item_id = i.id), i.first_seen, i.updated"
            )
        where: list[str] = []
        params: dict[str, object] = {}
        if query.start is not None:
            where.append("i.date >= :start")
            params["start"] = self._day(query.start)
        if query.end is not None:
            where.append("i.date <= :end")
            params["end"] = self._day(query.end)
        if query.topics:
            where.append(_linked_to("item_topics", "topics", "slug", query.topics, params))
        if query.uids:
            where.append(f"i.uid IN ({_listed('uid', query.uids, params)})")
        if query.types:
            lowered = [kind.lower() for kind in query.types]
            where.append(f"lower(i.type) IN ({_listed('type', lowered, params)})")
        if query.sources:
            where.append(_linked_to("item_sources", "sources", "name", query.sources, params))
        if query.language:
            where.append("i.language = :language")
            params["language"] = query.language
        if query.pictured:
            where.append("i.image IS NOT NULL")
        if query.search:
            where.append(
                f"(lower(i.title) LIKE :search ESCAPE '{_LIKE_ESCAPE}'"
                f" OR lower(i.summary) LIKE :search ESCAPE '{_LIKE_ESCAPE}')"
            )
            params["search"] = f"%{_escape_like(query.search.lower())}%"
        sql = f"SELECT {', '.join(columns)} FROM items i"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.date DESC, i.id DESC"
        if query.limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = query.limit
            if query.offset:
                sql += " OFFSET :offset"
                params["offset"] = query.offset
        return sql, params

    def topic_summaries(self) -> list[TopicSummary]:
        rows = self.run(
            "SELECT t.slug, t.name, count(DISTINCT it.item_id) FROM topics t"
            " LEFT OUTER JOIN item_topics it ON it.topic_id = t.id"
            " GROUP BY t.id, t.slug, t.name ORDER BY t.slug",
            {},
        )
        return [TopicSummary(slug, name, int(count)) for slug, name, count in rows]

    def type_counts(self) -> list[tuple[str, int]]:
        """Every type label in the pool with how many items carry it, the most common first."""
        rows = self.run(
            "SELECT type, count(*) AS n FROM items GROUP BY type ORDER BY n DESC, type", {}
        )
        return [(kind, int(number)) for kind, number in rows]

    def recent_types(self, items: int = RECENT) -> list[str]:
        """The type labels of the newest `items` items, in order: a filter's choices, read
        through the date index in milliseconds where counting every type of a million items
        takes a third of a second."""
        rows = self.run(
            "SELECT DISTINCT type FROM (SELECT type FROM items ORDER BY date DESC, id DESC "
            "LIMIT :items) AS newest ORDER BY type",
            {"items": items},
        )
        return [str(kind) for (kind,) in rows]

    def count_items(self) -> int:
        return int(self.run("SELECT count(*) FROM items", {})[0][0])

    def close(self) -> None:
        """Nothing to close: the connection that runs the statements belongs to the caller."""

    def _day(self, day: date) -> object:
        # SQLite keeps a Date as its ISO text (as SQLAlchemy writes it); PostgreSQL as a date.
        return day.isoformat() if self.dialect == "sqlite" else day


def lower(value: str | None) -> str | None:
    """SQLite's lower() for every script: its own knows only ASCII, so "ÉCONOMIE" would not
    find "économie". Each SQLite connection of the pool registers it."""
    return value.lower() if isinstance(value, str) else value


def _linked_to(
    links: str, table: str, column: str, values: Sequence[str], params: dict[str, object]
) -> str:
    """The condition that item i is linked (through `links`, e.g. item_topics) to a row of
    `table` whose `column` is one of `values` (any of the topics, any of the sources)."""
    key = f"{table[:-1]}_id"  # topics -> topic_id, sources -> source_id
    chosen = _listed(table, values, params)
    return (f"EXISTS (SELECT 1 FROM {links} l WHERE l.item_id = i.id AND l.{key}"
            f" IN (SELECT id FROM {table} WHERE {column} IN ({chosen})))")  # fmt: skip


def _listed(name: str, values: Sequence[str], params: dict[str, object]) -> str:
    """Placeholders `:name0, :name1, ...` for `values`, added to `params`."""
    for number, value in enumerate(values):
        params[f"{name}{number}"] = value
    return ", ".join(f":{name}{number}" for number in range(len(values)))


def _escape_like(text: str) -> str:
    for special in (_LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, _LIKE_ESCAPE + special)
    return text


def _item(row: Sequence[Any]) -> Item:  # the first ten columns of item_sql
    uid, kind, title, day, summary, url, language, topic_slugs, image, credit = row[:10]
    return Item(uid, kind, title, _date(day), summary, url, language, _split(topic_slugs),
                image, image_credit=credit)  # fmt: skip


def _split(joined: str | None) -> tuple[str, ...]:
    return tuple(sorted(set(joined.split(",")))) if joined else ()


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _moment(value: datetime | str | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (the pool keeps UTC without a zone)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC)
