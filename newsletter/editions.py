"""Which version of each story an issue's language edition shows.

The pool links the items that tell one story in several languages (pool/versions.py). An
edition shows each story once: in its own language when the pool has that version, else as it
was written (the issue marks its language), or not at all, as the newsletter's `untranslated`
says. Sections are chosen by the story as it was selected, so that every edition files a story
under the same section (named in its own language).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from newsletter.config import Config, NewsletterConfig
from newsletter.errors import NewsletterError
from newsletter.issue import Issue, edition_paths, read_issue
from newsletter.model import Item, ItemQuery
from newsletter.pool import Pool


@dataclass(frozen=True, slots=True)
class Choice:
    """A story as an edition shows it."""

    item: Item  # the version shown
    selected: Item  # the main language's version, else the one found: it chooses the section
    story: frozenset[str]  # the uids of every version of the story
    marked: str  # the shown version's language when it is not the edition's, else ""


def edition_choices(
    pool: Pool, newsletter: NewsletterConfig, found: Sequence[Item], language: str
) -> list[Choice]:
    """The stories of `found` (in its order) as the edition in `language` shows them."""
    if not found:
        return []
    main = newsletter.languages[0]
    stories = pool.stories_of([item.uid for item in found])
    picked: list[tuple[str, str, frozenset[str]]] = []  # (shown uid, selected uid, story)
    seen: set[frozenset[str]] = set()
    for item in found:
        versions = stories.get(item.uid) or []
        story = frozenset(version.uid for version in versions) or frozenset({item.uid})
        if story in seen:
            continue
        seen.add(story)
        by_language = {version.language or main: version.uid for version in versions}
        original = by_language.get(main, item.uid)  # the main language's, else as found
        if language in by_language:
            picked.append((by_language[language], original, story))
        elif newsletter.untranslated == "keep":
            picked.append((original, original, story))
    known = {item.uid: item for item in found}
    missing = tuple({uid for pair in picked for uid in pair[:2] if uid not in known})
    if missing:
        known.update(
            (i.uid, i) for i in pool.select_items(ItemQuery(uids=missing, provenance=True))
        )
    choices = []
    for shown_uid, selected_uid, story in picked:
        shown = known.get(shown_uid)
        if shown is None:  # merged into another since it was found
            continue
        own = shown.language or main
        choices.append(
            Choice(shown, known.get(selected_uid, shown), story, "" if own == language else own)
        )
    return choices


def sibling_items(pool: Pool, config: Config, issue: Issue) -> tuple[list[Item], list[str]]:
    """The pool items the issue's other language editions show (a story an editor added to one
    edition is offered to the others), newest first; and why an edition file that cannot be
    read was passed over (its stories are offered once it is mended)."""
    uids: list[str] = []
    unread: list[str] = []
    for language, path in edition_paths(config, issue).items():
        if language == issue.language:
            continue
        try:
            uids += [item.uid for item in read_issue(path, config).items if not item.manual]
        except NewsletterError as error:
            unread.append(str(error))
    if not uids:
        return [], unread
    found = pool.select_items(ItemQuery(uids=tuple(dict.fromkeys(uids)), provenance=True))
    return found, unread


def untouched(choices: Iterable[Choice], taken: set[str]) -> list[Choice]:
    """The choices none of whose versions is among `taken` (an issue's items, offered and
    excluded uids): a story is in an edition once, whichever version of it."""
    return [choice for choice in choices if not choice.story & taken]
