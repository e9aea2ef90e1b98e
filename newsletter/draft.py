"""Issue drafts: select pool items into a new issue file, then refresh it or add to it by hand.

The file is the editor's from the moment it is written: refresh and add only insert what is
new (as TOML edits that keep every other byte), and never bring back what the editor removed.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import tomlkit

from newsletter.config import Config, NewsletterConfig
from newsletter.editions import edition_choices, sibling_items, untouched
from newsletter.errors import Finding, NewsletterError
from newsletter.headers import HeaderKind, header_problem
from newsletter.issue import (
    SLUG,
    Issue,
    IssueItem,
    Section,
    check_issue,
    editing,
    edition_paths,
    edition_slug,
    issue_path,
    newsletter_of,
    read_issue,
)
from newsletter.issue.preheader import made_preheader, titles_preheader
from newsletter.issue.writing import edited, write_new_issue
from newsletter.labels import DEFAULT_THEME, labels_for
from newsletter.model import Item, ItemQuery
from newsletter.pool import Pool
from newsletter.pool.reads import PoolReads
from newsletter.tomltext import parse_toml, read_toml_text


@dataclass(frozen=True, slots=True)
class DraftReport:
    """What `create_draft` wrote, and what it left out."""

    path: Path
    issue: Issue
    earlier_issues: tuple[str, ...]  # titles of pool items that are this newsletter's own issues


@dataclass(frozen=True, slots=True)
class RefreshReport:
    path: Path
    added: tuple[tuple[str, IssueItem], ...]  # (section title, item)
    newly_excluded: tuple[str, ...]  # uids the editor removed since the last refresh
    editions: tuple[Path, ...] = ()  # the files of the issue's language editions, its own too
    unread: tuple[str, ...] = ()  # why another edition's file could not be read


# Titles


def month_name(day: date, language: str) -> str:
    """The month's name as it stands alone in the language: "November", "novembre"."""
    from babel.dates import format_date

    return str(format_date(day, "LLLL", locale=language.replace("-", "_")))


def issue_title(newsletter: NewsletterConfig, start: date) -> str:
    return newsletter.title_pattern.format(
        name=newsletter.name, month=month_name(start, newsletter.language), year=start.year
    )


def earlier_issue_patterns(newsletter: NewsletterConfig) -> list[re.Pattern[str]]:
    """What the titles of this newsletter's own issues look like: the title pattern with any
    month and year, and the newsletter's `earlier_issues` (else the ways sources have named
    them: "ILO COOP eNewsUpdate No. 8, August 2020", "Issue No 5, May 2019")."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(newsletter.title_pattern):
        parts.append(r"\s+".join(re.escape(word) for word in literal.split(" ")))
        if field == "name":
            parts.append(r"\s+".join(re.escape(word) for word in newsletter.name.split()))
        elif field == "month":
            parts.append(r"[^\W\d_]+")
        elif field == "year":
            parts.append(r"\d{4}")
    name = r"\s*".join(re.escape(word) for word in newsletter.name.split())
    extra = newsletter.earlier_issues or (
        rf"{name}\s*(?:update)?\b.*?\b(?:no|n[°º]|number|issue)\.?\s*\d+\b.*",
        r"issue\s+(?:no\.?|n[°º]|number)?\s*\d+\b.*",
    )
    return [re.compile(pattern, re.IGNORECASE) for pattern in ["".join(parts), *extra]]


# Selection


def select_for_issue(
    pool: Pool, newsletter: NewsletterConfig, start: date, end: date, topics: Sequence[str]
) -> tuple[list[Item], list[Item]]:
    """(items for the issue, newest first; pool items that are earlier issues, left out)."""
    found = pool.select_items(
        ItemQuery(start=start, end=end, topics=tuple(topics), provenance=True)
    )
    earlier = [  # as any edition titles them
        pattern
        for language in newsletter.languages
        for pattern in earlier_issue_patterns(newsletter.edition(language))
    ]

    def is_earlier(item: Item) -> bool:
        title = " ".join(item.title.split())
        return any(pattern.fullmatch(title) for pattern in earlier)

    kept = [item for item in found if not is_earlier(item)]
    left_out = [item for item in found if is_earlier(item)]
    return kept, left_out


def section_for(item: IssueItem | Item, topics: Sequence[str], newsletter: NewsletterConfig) -> str:
    """The title of the section an item belongs in, by its type label or its topics."""
    return section_of_type(item.type, topics, newsletter) or other_section(newsletter)


def section_of_type(label: str, topics: Sequence[str], newsletter: NewsletterConfig) -> str | None:
    """The configured section that takes this type label (or these topics), else the
    configured catch-all; None when neither: the item goes to other_section()."""
    for section in newsletter.sections:
        if section.takes_type(label) or set(section.topics) & set(topics):
            return section.title
    for section in newsletter.sections:
        if not section.types and not section.topics:
            return section.title  # the configured catch-all
    return None


@dataclass(frozen=True, slots=True)
class TypeSection:
    """A type label of the pool, how many items carry it, and the section drafts put them in."""

    type: str
    items: int
    section: str
    configured: bool  # False: no configured section takes it, it falls into other_section()


def type_sections(pool: PoolReads, newsletter: NewsletterConfig) -> list[TypeSection]:
    """Where each type label of the pool goes in this newsletter's issues (by type alone)."""
    found = []
    for label, count in pool.type_counts():
        section = section_of_type(label, (), newsletter)
        taken = section or other_section(newsletter)
        found.append(TypeSection(label, count, taken, section is not None))
    return found


def other_section(newsletter: NewsletterConfig) -> str:
    """The title of the section that gathers items no configured section takes: the theme's
    word for it in the newsletter's language ("More", "Autres")."""
    own = (newsletter.templates,) if newsletter.templates else ()
    return labels_for((*own, DEFAULT_THEME), newsletter.language).other_section


def _section_order(newsletter: NewsletterConfig) -> list[str]:
    return [section.title for section in newsletter.sections] + [other_section(newsletter)]


def snapshot(item: Item, config: Config, picture: bool = False, language: str = "") -> IssueItem:
    """What the issue shows of a pool item (its listing page stands in for a missing URL);
    with `picture`, its pool picture and credit (the alt text is the editor's to write);
    `language`, the item's where it is not the issue's."""
    listing_url = None
    if not item.url:
        listing_url = next(
            (
                config.sources[name].listing_url
                for name in config.sources
                if name in item.sources and config.sources[name].listing_url
            ),
            None,
        )
    return IssueItem(
        uid=item.uid,
        type=item.type,
        title=item.title,
        date=item.date,
        summary=item.summary,
        url=item.url,
        listing_url=listing_url,
        image=item.image if picture else None,
        image_credit=(item.image_credit or "") if picture and item.image else "",
        language=language,
    )


def choose_lead(items: Sequence[Item]) -> Item | None:
    """The newest item with a summary (a lead story needs words), else the newest."""
    return next((item for item in items if item.summary), items[0] if items else None)


def default_slug(start: date, end: date) -> str:
    """`2020-11` for a calendar month, else `2020-11-05--2020-11-20`."""
    next_month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    if start.day == 1 and (next_month - end).days == 1:
        return f"{start:%Y-%m}"
    return f"{start.isoformat()}--{end.isoformat()}"


def create_draft(
    pool: Pool,
    config: Config,
    newsletter_slug: str,
    start: date,
    end: date,
    *,
    topics: Sequence[str] = (),
    title: str | None = None,
    slug: str | None = None,
    allow_empty: bool = False,
    force: bool = False,
    language: str | None = None,
) -> DraftReport:
    """Write a new issue file from the pool's items for the period and topics: the edition in
    `language` (default: the newsletter's main one), each story in its version in that
    language when the pool has one."""
    main = _newsletter(config, newsletter_slug)
    newsletter = main.edition(language or main.language)
    if end < start:
        raise NewsletterError(f"the period ends ({end}) before it starts ({start})")
    topics = config.check_topics(topics) or newsletter.topics
    if title is not None and (not title.strip() or "\n" in title or "\r" in title):
        raise NewsletterError("the title must be one line of text")
    problem = header_problem(title, HeaderKind.TEXT) if title is not None else None
    if problem:  # the title is the emails' subject
        raise NewsletterError(f"title: {problem}")
    _check_main_slug(main, slug)
    slug = edition_slug(main, slug or default_slug(start, end), newsletter.language)
    path = _new_issue_path(config, newsletter, slug, force)
    found, earlier = select_for_issue(pool, newsletter, start, end, topics)
    choices = edition_choices(pool, newsletter, found, newsletter.language)
    if not choices and not allow_empty:
        about = " or ".join(topics) if topics else "matching"
        raise NothingToDraft(
            f"no {about} items between {start} and {end}; nothing written (--allow-empty "
            "writes an empty draft)"
        )
    first = choose_lead(found)  # one story leads every edition, when each has it
    lead = next((c for c in choices if first and first.uid in c.story), None) or next(
        (c for c in choices if c.item.summary), choices[0] if choices else None
    )
    grouped: dict[str, list[IssueItem]] = {}
    for choice in choices:
        if choice is not lead:
            section = section_for(choice.selected, choice.selected.topics, newsletter)
            grouped.setdefault(section, []).append(
                snapshot(choice.item, config, newsletter.thumbnails, choice.marked)
            )
    sections = tuple(
        Section(title, tuple(grouped[title]))
        for title in _section_order(newsletter)
        if title in grouped
    )
    issue = Issue(
        path=path,
        newsletter=newsletter.slug,
        title=title or issue_title(newsletter, start),
        status="draft",
        language=newsletter.language,
        start=start,
        end=end,
        topics=topics,
        intro=newsletter.intro,
        lead=snapshot(lead.item, config, True, lead.marked) if lead else None,
        sections=sections,
        offered=tuple(choice.item.uid for choice in choices),
    )
    write_new_issue(path, issue, f"{newsletter.slug}/{slug}")
    return DraftReport(path, issue, tuple(item.title for item in earlier))


class NothingToDraft(NewsletterError):
    """No item for the issue (in its edition's language, when untranslated stories are left
    out)."""


@dataclass(frozen=True, slots=True)
class EditionsReport:
    drafts: tuple[DraftReport, ...]
    empty: tuple[str, ...]  # languages with nothing to show, whose edition was not written


def create_editions(
    pool: Pool,
    config: Config,
    newsletter_slug: str,
    start: date,
    end: date,
    *,
    languages: Sequence[str] = (),
    slug: str | None = None,
    **options: Any,
) -> EditionsReport:
    """Every language edition of a new issue (or those of `languages`), main one first. Each
    file is checked before any is written: one that exists stops them all (unless `force`).
    An edition with nothing to show is not written, unless none has anything (an error)."""
    newsletter = _newsletter(config, newsletter_slug)
    languages = tuple(languages) or newsletter.languages
    _check_main_slug(newsletter, slug)
    for language in languages:
        edition = newsletter.edition(language)
        name = edition_slug(newsletter, slug or default_slug(start, end), language)
        _new_issue_path(config, edition, name, bool(options.get("force")))
    if len(languages) > 1 and options.get("title"):
        raise NewsletterError("--title names one edition's issue: give --language too")
    drafts: list[DraftReport] = []
    empty: list[str] = []
    for language in languages:
        try:
            drafts.append(create_draft(pool, config, newsletter_slug, start, end, slug=slug,
                                       language=language, **options))  # fmt: skip
        except NothingToDraft:
            if len(empty) == len(languages) - 1:
                raise
            empty.append(language)
    return EditionsReport(tuple(drafts), tuple(empty))


def _check_main_slug(newsletter: NewsletterConfig, slug: str | None) -> None:
    """A slug given for an issue must not end in one of the newsletter's edition marks
    (`special.fr`): its file would be taken for the French edition of `special`."""
    if not slug:
        return
    stem, dot, language = slug.rpartition(".")
    if dot and stem and language in newsletter.languages[1:]:
        raise NewsletterError(
            f"slug {slug!r}: a name ending in .{language} is the {language} edition's "
            f"(of {stem!r}); give the issue's own name, such as {stem!r}"
        )


def _new_issue_path(config: Config, newsletter: NewsletterConfig, slug: str, force: bool) -> Path:
    """Where a new issue goes; an error if a file is there (a published one, even forced)."""
    if not SLUG.match(slug):
        raise NewsletterError(f"slug {slug!r}: use lower-case letters, digits, '.', '-' and '_'")
    path = issue_path(config, newsletter.slug, slug)
    reference = f"{newsletter.slug}/{slug}"
    if path.exists() and not force:
        raise NewsletterError(
            f"{path} exists and is not overwritten: `newsletter draft refresh {reference}` "
            "adds new items and keeps your edits; --force starts it over"
        )
    if path.exists() and _status_of(path) != "draft":
        raise NewsletterError(f"{path} is a published issue: --force does not overwrite it")
    return path


def _status_of(path: Path) -> str:
    """The status a file says it has, however broken the rest of it is."""
    try:
        status = parse_toml(read_toml_text(path), path).get("status", "draft")
    except (NewsletterError, UnicodeDecodeError):
        return "draft"  # a broken draft may be started over
    return str(status)


def newsletter_for(config: Config, slug: str | None) -> NewsletterConfig:
    """The newsletter named, or the only one configured (the editor need not name it)."""
    if slug is None:
        if len(config.newsletters) != 1:
            known = ", ".join(sorted(config.newsletters)) or "none configured"
            raise NewsletterError(f"give --newsletter (newsletters: {known})")
        return next(iter(config.newsletters.values()))
    return _newsletter(config, slug)


@dataclass(frozen=True, slots=True)
class Validation:
    """An issue file checked against the pool: the Issue (None if it has errors), its findings,
    and whether its uids were checked (not against an empty pool: nothing was ingested yet)."""

    issue: Issue | None
    findings: list[Finding]
    uids_checked: bool


def validate_issue(pool: Pool, config: Config, path: Path) -> Validation:
    """Check an issue file: its fields, its items, and (unless the pool is empty) its uids."""
    empty_pool = pool.count_items() == 0
    known = None if empty_pool else pool.known_uids
    issue, findings = check_issue(path, config, known_uids=known)
    return Validation(issue, findings, uids_checked=not empty_pool)


def _edition(config: Config, issue: Issue) -> NewsletterConfig:
    """The newsletter as the issue's language edition names things (its sections)."""
    return newsletter_of(config, issue) or _newsletter(config, issue.newsletter)


def _newsletter(config: Config, slug: str) -> NewsletterConfig:
    if slug not in config.newsletters:
        known = ", ".join(sorted(config.newsletters)) or "none configured"
        raise NewsletterError(f"unknown newsletter {slug!r} (newsletters: {known})")
    return config.newsletters[slug]


def refresh_draft(
    pool: Pool, config: Config, path: Path, *, made_on: str | None = None
) -> RefreshReport:
    """Add the pool's new matching items to their sections, flagged `new = true`.

    Items the editor removed are recorded as excluded and never come back; nothing already in
    the file is rewritten.
    """
    with edited(path, config, made_on=made_on) as (issue, document):
        newsletter = _edition(config, issue)
        present = {item.uid for item in issue.items}
        newly_excluded = [
            uid for uid in issue.offered if uid not in present and uid not in issue.excluded
        ]
        for uid in newly_excluded:
            editing.add_uid(document, "excluded", uid)
        skip = present | set(issue.offered) | set(issue.excluded)
        skip |= set(pool.current_uids(skip).values())  # an item merged since: the one it joined
        found, _ = select_for_issue(pool, newsletter, issue.start, issue.end, issue.topics)
        selected = {item.uid for item in found}
        siblings, unread = sibling_items(pool, config, issue)
        found += [item for item in siblings if item.uid not in selected]
        choices = untouched(edition_choices(pool, newsletter, found, issue.language), skip)
        added = []
        for choice in sorted(choices, key=lambda choice: choice.item.date):  # oldest first
            new = snapshot(choice.item, config, newsletter.thumbnails, choice.marked)
            new = IssueItem(**{**_fields(new), "new": True})
            section_title = section_for(choice.selected, choice.selected.topics, newsletter)
            editing.put(
                document, editing.item_table(new), section_title, _section_order(newsletter)
            )
            editing.add_uid(document, "offered", choice.item.uid)
            added.append((section_title, new))
        editions = tuple(edition_paths(config, issue).values())
    return RefreshReport(
        path, tuple(reversed(added)), tuple(newly_excluded), editions, tuple(unread)
    )


def _fields(item: IssueItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in IssueItem.__slots__}


def add_to_draft(
    pool: Pool,
    config: Config,
    path: Path,
    uid: str,
    section: str | None = None,
    *,
    made_on: str | None = None,
) -> tuple[str, IssueItem]:
    """Add one pool item by uid (prefix) to the draft (an item taken out comes back this
    way); returns (section title, item)."""
    with edited(path, config, made_on=made_on) as (issue, document):
        newsletter = _edition(config, issue)
        found = pool.item(uid)
        present = {item.uid for item in issue.items}
        if found.uid in present | set(pool.current_uids(present).values()):
            raise NewsletterError(f"{found.uid} ({found.title!r}) is already in the issue", path)
        own = found.language or newsletter.languages[0]
        item = snapshot(found, config, newsletter.thumbnails, "" if own == issue.language else own)
        section_title = section or section_for(found, found.topics, newsletter)
        editing.put(document, editing.item_table(item), section_title, _section_order(newsletter))
        editing.drop_uid(document, "excluded", found.uid)
        editing.add_uid(document, "offered", found.uid)
    return section_title, item


# Curating a draft: the lead, the order, taking items out, their words


def set_lead(
    config: Config, path: Path, uid: str, pool: Pool | None = None, *, made_on: str | None = None
) -> tuple[IssueItem, str | None]:
    """Make an item of the issue its lead; the old lead goes to the top of the section its
    type belongs to. A new lead without a picture gets its pool picture, as a draft's lead
    does (the alt text is the editor's to write). Returns the new lead and that section (None
    when there was no lead). `made_on`: see issue.writing.edited."""
    with edited(path, config, made_on=made_on) as (issue, document):
        newsletter = _edition(config, issue)
        place, table = editing.find(document, uid)
        if place.section is None:
            raise NewsletterError(f"{table['uid']} is the lead already", path)
        _, table = editing.take(document, uid)
        if pool is not None and not table.get("image") and not table.get("manual"):
            _give_pool_picture(pool, config, table)
        previous = editing.put_lead(document, table)
        section = None
        if previous is not None and issue.lead is not None:
            section = section_for(issue.lead, (), newsletter)
            editing.put(document, previous, section, _section_order(newsletter), position=0)
        lead = _item_of(issue, str(table["uid"]))
        if table.get("image") and not lead.image:
            lead = replace(lead, image=str(table["image"]),
                           image_credit=str(table.get("image_credit", "")))  # fmt: skip
        _forget_made_preheader(issue, document)
    return lead, section


def _give_pool_picture(pool: Pool, config: Config, table: Any) -> None:
    try:
        pictured = snapshot(pool.item(str(table["uid"])), config, picture=True)
    except NewsletterError:
        return  # no longer in the pool (a pool rebuilt since): the issue keeps what it has
    editing.set_field(table, "image", pictured.image)
    editing.set_field(table, "image_credit", pictured.image_credit)


def move_item(
    config: Config,
    path: Path,
    uid: str,
    section: str | None = None,
    position: int | None = None,
    *,
    made_on: str | None = None,
) -> tuple[IssueItem, str, int]:
    """Move an item to a position (1 = first) of a section (default: its own); the lead moves
    into a section this way too. Returns the item, its section and its position."""
    with edited(path, config, made_on=made_on) as (issue, document):
        newsletter = _edition(config, issue)
        place, table = editing.take(document, uid)
        item = _item_of(issue, str(table["uid"]))
        target = section or place.section or section_for(item, (), newsletter)
        index = None if position is None else position - 1
        if index is not None and index < 0:
            raise NewsletterError(f"--position {position}: expected 1 or more")
        size = next((len(s.items) for s in issue.sections if s.title == target), 0)
        size -= 1 if place.section == target else 0
        index = size if index is None else min(index, size)
        editing.put(document, table, target, _section_order(newsletter), position=index)
        _forget_made_preheader(issue, document)
    return item, target, index + 1


def remove_item(config: Config, path: Path, uid: str, *, made_on: str | None = None) -> IssueItem:
    """Take an item out of the issue; it is excluded, so refresh never brings it back (`draft
    add` does)."""
    with edited(path, config, made_on=made_on) as (issue, document):
        _, table = editing.take(document, uid)
        item = _item_of(issue, str(table["uid"]))
        editing.add_uid(document, "excluded", item.uid)
        _forget_made_preheader(issue, document)
    return item


def _forget_made_preheader(before: Issue, document: Any) -> None:
    """A preheader that was made from the items (by a draft of an earlier version, which wrote
    it into the file) is emptied when they change, to be made afresh at every render; the
    editor's own words stay."""
    written = before.preheader.strip()
    if written and written in (titles_preheader(before.items), made_preheader(before)):
        document["preheader"] = ""


def edit_item(
    config: Config, path: Path, uid: str, field: str, value: Any, *, made_on: str | None = None
) -> IssueItem:
    """Set one field of an item (title, summary, type, date, url...); the file checks it."""
    with edited(path, config, made_on=made_on) as (_, document):
        _, table = editing.find(document, uid)
        editing.set_field(table, field, value)
        found = str(table["uid"])
    return _item_of(read_issue(path, config), found)


ISSUE_FIELDS = ("title", "intro", "preheader")


def edit_issue(
    config: Config, path: Path, field: str, value: str, *, made_on: str | None = None
) -> Issue:
    """Set the issue's own title, intro or preheader (an empty preheader is made from the lead
    at each render); the file checks it."""
    if field not in ISSUE_FIELDS:
        raise NewsletterError(f"{field!r} is not an issue field; fields: {', '.join(ISSUE_FIELDS)}")
    with edited(path, config, made_on=made_on) as (_, document):
        text = value.replace("\r\n", "\n").strip()
        document[field] = tomlkit.string(text, multiline=True) if "\n" in text else text
    return read_issue(path, config)


def given_day(name: str, value: str) -> date:
    """A date as an editor types it (2020-11-27), for the command line and the studio alike."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise NewsletterError(f"{name}: {value!r} is not a date like 2020-11-27") from None


def add_manual_item(
    config: Config,
    path: Path,
    *,
    type: str,
    title: str,
    day: date,
    summary: str = "",
    url: str | None = None,
    end: date | None = None,
    place: str = "",
    section: str | None = None,
    made_on: str | None = None,
) -> tuple[str, IssueItem]:
    """Add an item that is in no source (an event, a call for papers, an announcement) to a
    draft: its uid is made from its words, so the same item is not added twice."""
    with edited(path, config, made_on=made_on) as (issue, document):
        newsletter = _edition(config, issue)
        said = "\x1f".join([type, title, day.isoformat(), place])
        uid = hashlib.sha256(said.encode()).hexdigest()[:16]
        if uid in {item.uid for item in issue.items}:
            raise NewsletterError(f"{title!r} is in the issue already ({uid})", path)
        item = IssueItem(uid, type, title, day, summary, url, None, False, end, place, True)
        section_title = section or section_for(item, (), newsletter)
        editing.put(document, editing.item_table(item), section_title, _section_order(newsletter))
    return section_title, item


def _item_of(issue: Issue, uid: str) -> IssueItem:
    return next(item for item in issue.items if item.uid == uid)
