"""Edits of an issue file's TOML document, each a small function that keeps every byte it does
not change. They are made inside `writing.edited(...)`, which checks the result and writes it.

Items are found by uid or by an unambiguous start of one (as `newsletter items` prints them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from newsletter.errors import NewsletterError
from newsletter.issue import ITEM_KEYS, IssueItem

Document = tomlkit.TOMLDocument
EDITABLE = tuple(key for key in ITEM_KEYS if key != "uid")


@dataclass(frozen=True, slots=True)
class Place:
    """Where an item is: the lead (section None), or a section's title and index in it."""

    section: str | None
    index: int = 0


def item_table(item: IssueItem) -> Table:
    """An item as the file lays it out: its fields in a fixed order, then a blank line."""
    table = tomlkit.table()
    fields: list[tuple[str, Any]] = [
        ("uid", item.uid), ("type", item.type), ("date", item.date), ("title", item.title),
        ("summary", item.summary), ("url", item.url), ("listing_url", item.listing_url),
        ("image", item.image), ("image_alt", item.image_alt),
        ("image_credit", item.image_credit or None), ("new", True if item.new else None),
        ("end", item.end), ("place", item.place or None),
        ("manual", True if item.manual else None), ("language", item.language or None),
    ]  # fmt: skip
    for name, value in fields:
        if value is None:
            continue
        if isinstance(value, str) and "\n" in value:
            value = tomlkit.string(value, multiline=True)
        table[name] = value
    table.add(tomlkit.nl())
    return table


def _copy(table: Table) -> Table:
    """A detached copy of an item table (values keep their own formatting)."""
    copy = tomlkit.table()
    for key, value in table.items():
        copy[key] = value
    copy.add(tomlkit.nl())
    return copy


def _sections(document: Document) -> AoT:
    if "sections" not in document:
        document.append("sections", tomlkit.aot())
    sections: AoT = document["sections"]
    return sections


def _places(document: Document) -> Iterator[tuple[Place, Table]]:
    if "lead" in document:
        yield Place(None), document["lead"]
    for section in document.get("sections", []):
        for index, item in enumerate(section.get("items", [])):
            yield Place(str(section.get("title")), index), item


def find(document: Document, uid: str) -> tuple[Place, Table]:
    """Where the item `uid` (or the one item whose uid starts so) is, and its table."""
    found = [(place, table) for place, table in _places(document)
             if str(table.get("uid", "")).startswith(uid)]  # fmt: skip
    exact = [(place, table) for place, table in found if table.get("uid") == uid]
    if exact:
        return exact[0]
    if not found:
        raise NewsletterError(f"no item {uid} in the issue")
    if len(found) > 1:
        uids = ", ".join(str(table["uid"]) for _, table in found)
        raise NewsletterError(f"{uid} could be any of {uids}: give more of the uid")
    return found[0]


def take(document: Document, uid: str) -> tuple[Place, Table]:
    """Take an item out of the file: where it was, and a detached copy of it."""
    place, table = find(document, uid)
    copy = _copy(table)
    if place.section is None:
        del document["lead"]
    else:
        section = _section(document, place.section)
        assert section is not None
        items: AoT = section["items"]
        del items[place.index]
        if not items:  # an empty section is an error in an issue file: it goes with its last item
            sections = _sections(document)
            del sections[next(i for i, s in enumerate(sections) if s is section)]
    return place, copy


def _section(document: Document, title: str) -> Table | None:
    return next((s for s in document.get("sections", []) if s.get("title") == title), None)


def put(
    document: Document,
    table: Table,
    section_title: str,
    section_order: Sequence[str],
    position: int | None = None,
) -> None:
    """Put an item table into a section at `position` (0-based; None: before the first older
    item), making the section, in the newsletter's order of sections, if need be."""
    sections = _sections(document)
    target = _section(document, section_title)
    if target is None:
        target = tomlkit.table()
        target["title"] = section_title
        target.add(tomlkit.nl())
        target["items"] = tomlkit.aot()
        rank = section_order.index(section_title) if section_title in section_order else None
        at = len(sections)
        if rank is not None:
            later = (index for index, existing in enumerate(sections)
                     if existing.get("title") in section_order
                     and section_order.index(existing["title"]) > rank)  # fmt: skip
            at = next(later, len(sections))
        sections.insert(at, target)
        target = sections[at]
    if "items" not in target:
        target["items"] = tomlkit.aot()
    items: AoT = target["items"]
    if position is None:
        day = table.get("date")
        position = next((i for i, existing in enumerate(items)
                         if isinstance(day, date) and existing.get("date", day) < day),
                        len(items))  # fmt: skip
    items.insert(max(0, min(position, len(items))), table)


def put_lead(document: Document, table: Table) -> Table | None:
    """Make `table` the lead; the lead it replaces, detached, or None. (An issue without a
    lead gets its [lead] at the end of the file: TOML tables may come in any order.)"""
    previous = _copy(document["lead"]) if "lead" in document else None
    lead = tomlkit.table()
    for key, value in table.items():
        lead[key] = value
    lead.add(tomlkit.nl())
    if previous is None:
        document.append("lead", lead)
    else:
        document["lead"] = lead
    return previous


def set_field(table: Table, name: str, value: Any) -> None:
    """Set (or, with None or "" for an optional field, drop) one field of an item."""
    if name not in EDITABLE:
        raise NewsletterError(f"{name!r} is not an item field; fields: {', '.join(EDITABLE)}")
    if value is None or (value == "" and name in ("url", "listing_url", "image", "image_credit")):
        if name in table:
            del table[name]
        return
    if name == "new" and value is False:
        if "new" in table:
            del table["new"]
        return
    if isinstance(value, str) and "\n" in value:
        value = tomlkit.string(value, multiline=True)
    table[name] = value


def add_uid(document: Document, key: str, uid: str) -> None:
    """Add a uid to the [selection] list `key` (offered or excluded), once."""
    if "selection" not in document:
        document["selection"] = tomlkit.table()
    selection = document["selection"]
    if key not in selection:
        selection[key] = tomlkit.array().multiline(True)
    array = selection[key]
    if uid not in array:
        array.append(uid)
    array.multiline(True)


def drop_uid(document: Document, key: str, uid: str) -> None:
    array = document.get("selection", {}).get(key)
    if array is not None and uid in array:
        del array[list(array).index(uid)]
