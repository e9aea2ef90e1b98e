"""One story in several languages: items linked as versions of each other, by an editor or
by their addresses (a source's language marks, such as `lang--en` and `lang--fr`).

A story holds at most one version per language: two French items cannot both be the French
version of one English item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select, update

from newsletter.errors import NewsletterError
from newsletter.pool.queries import find_item_id
from newsletter.pool.tables import ItemRow, ItemVersionRow

versions = cast(Table, ItemVersionRow.__table__)
items = cast(Table, ItemRow.__table__)


@dataclass(frozen=True, slots=True)
class Version:
    uid: str
    language: str  # "" when its source does not say
    title: str


def story_of(connection: Connection, item_id: int) -> list[Version]:
    """Every version of the item's story (the item alone when it has no other), by language."""
    story = connection.execute(
        select(versions.c.story).where(versions.c.item_id == item_id)
    ).scalar_one_or_none()
    query = select(items.c.uid, items.c.language, items.c.title)
    if story is None:
        query = query.where(items.c.id == item_id)
    else:
        query = query.join(versions, versions.c.item_id == items.c.id).where(
            versions.c.story == story
        )
    found = [
        Version(uid, language or "", title) for uid, language, title in connection.execute(query)
    ]
    return sorted(found, key=lambda version: (version.language, version.uid))


def stories_of(connection: Connection, uids: Sequence[str]) -> dict[str, list[Version]]:
    """Each item's story (by uid), as story_of gives it, in three queries however many."""
    wanted = {
        uid: (item_id, Version(uid, language or "", title))
        for uid, item_id, language, title in connection.execute(
            select(items.c.uid, items.c.id, items.c.language, items.c.title).where(
                items.c.uid.in_(uids)
            )
        )
    }
    story_by_id = dict(
        connection.execute(
            select(versions.c.item_id, versions.c.story).where(
                versions.c.item_id.in_([item_id for item_id, _ in wanted.values()])
            )
        ).all()
    )
    members: dict[int, list[Version]] = defaultdict(list)
    query = (
        select(versions.c.story, items.c.uid, items.c.language, items.c.title)
        .join(versions, versions.c.item_id == items.c.id)
        .where(versions.c.story.in_(set(story_by_id.values())))
    )
    for story, uid, language, title in connection.execute(query):
        members[story].append(Version(uid, language or "", title))
    found = {}
    for uid, (item_id, alone) in wanted.items():
        story = story_by_id.get(item_id)
        found[uid] = (
            [alone] if story is None else sorted(members[story], key=lambda v: (v.language, v.uid))
        )
    return found


def link(connection: Connection, first: str, second: str) -> list[Version]:
    """Make two items (by uid) versions of one story, joining the stories they are in; an
    error, and nothing changed, when the joined story would hold two items of one language."""
    ids = [find_item_id(connection, uid)[0] for uid in (first, second)]
    if ids[0] == ids[1]:
        raise NewsletterError(f"{first} and {second} are the same item")
    stories = [
        connection.execute(
            select(versions.c.story).where(versions.c.item_id == i)
        ).scalar_one_or_none()
        or i
        for i in ids
    ]
    members = {i for story in stories for i in _members(connection, story)} | set(ids)
    by_language: dict[str, list[str]] = defaultdict(list)
    for uid, language in connection.execute(
        select(items.c.uid, items.c.language).where(items.c.id.in_(members))
    ):
        by_language[language or ""].append(uid)
    for language, uids in by_language.items():
        if len(uids) > 1:
            named = language or "no language"
            raise NewsletterError(
                f"one story has one version per language: {' and '.join(sorted(uids))} are "
                f"both in {named}"
            )
    story = min(stories)
    connection.execute(delete(versions).where(versions.c.item_id.in_(members)))
    connection.execute(insert(versions), [{"item_id": i, "story": story} for i in sorted(members)])
    return story_of(connection, ids[0])


def unlink(connection: Connection, uid: str) -> list[Version]:
    """Take an item out of its story; the story of the others, as it is left."""
    item_id, _ = find_item_id(connection, uid)
    story = connection.execute(
        select(versions.c.story).where(versions.c.item_id == item_id)
    ).scalar_one_or_none()
    if story is None:
        raise NewsletterError(f"{uid} is a version of no other item")
    connection.execute(delete(versions).where(versions.c.item_id == item_id))
    rest = _members(connection, story)
    if len(rest) == 1:  # a story of one is no story
        connection.execute(delete(versions).where(versions.c.story == story))
    elif rest and story == item_id:  # the story is named by its first item that is left
        connection.execute(
            update(versions).where(versions.c.story == story).values(story=min(rest))
        )
    return story_of(connection, min(rest)) if rest else []


def link_by_marks(connection: Connection, marks: Sequence[str]) -> int:
    """Link items whose addresses differ only by one of the language `marks` (`lang--en`,
    `lang--fr`...), each to the others of its language group; how many links were made.
    Items already in a story, or whose group holds two of one language, are left as they are."""
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    query = select(items.c.id, items.c.url, items.c.language).where(items.c.url.is_not(None))
    linked = set(connection.execute(select(versions.c.item_id)).scalars())
    for item_id, url, language in connection.execute(query):
        for mark in marks:
            if mark in url and item_id not in linked:
                groups[url.replace(mark, "\x00")].append((item_id, language or ""))
                break
    made = 0
    for members in groups.values():
        languages = [language for _, language in members]
        if len(members) < 2 or len(set(languages)) < len(languages):
            continue
        story = min(item_id for item_id, _ in members)
        connection.execute(insert(versions), [{"item_id": i, "story": story} for i, _ in members])
        made += len(members) - 1
    return made


def _members(connection: Connection, story: int) -> list[int]:
    return list(
        connection.execute(select(versions.c.item_id).where(versions.c.story == story)).scalars()
    )
