"""The preheader: the preview text inboxes show after the subject.

An issue file's `preheader` is the editor's own words; left empty, it is made when the issue
is rendered, from what the issue says then (its lead, its intro, its first items), so that
picking another lead or taking an item out never leaves a preview that describes the old one.
"""

from __future__ import annotations

from collections.abc import Sequence

from newsletter.issue import Issue, IssueItem
from newsletter.markup import text_from_html

PREHEADER_LENGTH = 110  # characters; inbox previews show about this many
SEPARATOR = " · "


def preheader_text(issue: Issue) -> str:
    """The issue's preheader: the editor's, else one made from the issue as it is now."""
    return issue.preheader.strip() or made_preheader(issue)


def made_preheader(issue: Issue) -> str:
    """The lead's title and the intro's first paragraph; without an intro, the lead's and the
    next items' titles; cut at a word."""
    intro = next((part for part in issue.intro.split("\n\n") if part.strip()), "")
    if issue.lead is not None and intro.strip():
        return _cut([issue.lead.title, text_from_html(intro)])
    return titles_preheader(issue.items)


def titles_preheader(items: Sequence[IssueItem]) -> str:
    return _cut([item.title for item in items[:3]])


def stale_names(issue: Issue) -> list[str]:
    """The parts of an editor's preheader made of titles (`A · B · C…`, as drafts used to write
    it) that no item of the issue bears any more."""
    preheader = issue.preheader.strip()
    if SEPARATOR not in preheader:
        return []  # the editor's own sentence: nothing to compare
    titles = [" ".join(item.title.split()) for item in issue.items]
    stale = []
    for part in preheader.split(SEPARATOR):
        name = part.strip().rstrip("…").strip()
        if len(name) >= 12 and not any(title.startswith(name) for title in titles):
            stale.append(name)
    return stale


def _cut(parts: list[str]) -> str:
    text = SEPARATOR.join(" ".join(part.split()) for part in parts if part.strip())
    if len(text) <= PREHEADER_LENGTH:
        return text
    return text[: PREHEADER_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ·,;:") + "…"
