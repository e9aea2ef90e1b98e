"""Read paths of the pool: the selection every later stage uses, and look-ups by uid and topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select, text

from newsletter.errors import NewsletterError
from newsletter.model import Item, ItemQuery
from newsletter.pool.reads import Reads
from newsletter.pool.store import aliases, items


def reads(connection: Connection) -> Reads:
    """The plain-SQL read paths (pool/reads.py), run on this connection."""

    def run(sql: str, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
        return connection.execute(text(sql), dict(params)).all()

    return Reads(run, connection.dialect.name)


def select_items(connection: Connection, query: ItemQuery) -> list[Item]:
    return reads(connection).select_items(query)


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
