"""Summaries as the pool keeps them: text that may carry a few inline HTML tags.

Feeds and web pages give summaries in HTML; listing pages and spreadsheets give plain text. The
pool keeps one form for both, as Markdown does: text, in which <a>, <em>, <strong>, <b>, <i>,
<code>, <sub>, <sup> and <br> are markup, and paragraphs are separated by a blank line. Anything
else a source sends (scripts, styles, images, attributes, block tags) is removed by nh3 before
it is stored, and again whenever a summary is rendered, since drafts are edited by hand.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urljoin

import nh3

INLINE_TAGS = frozenset({"a", "b", "br", "code", "em", "i", "strong", "sub", "sup"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "iframe", "object", "noscript"})

# Where one block of the source's HTML ends and the next begins: a paragraph break for us.
_BLOCK_END = re.compile(
    r"</(?:p|div|li|ul|ol|blockquote|h[1-6]|section|article|table|tr)\s*>|<br\s*/?>\s*<br\s*/?>",
    re.IGNORECASE,
)
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# What nh3 escapes, removes or rewrites in text with no tag (tests/render/test_fast_paths.py
# checks all of Unicode): a byte order mark at the start goes, CR becomes LF, NUL goes.
_CHANGED_BY_CLEANING = re.compile("[<>&\u00a0\x00\r\ufeff]")


def _absolute_link(base_url: str | None) -> Callable[[str], str | None]:
    def resolve(url: str) -> str | None:
        return urljoin(base_url, url) if base_url else None

    return resolve


def clean_inline(fragment: str, base_url: str | None = None) -> str:
    """Inline markup only, links absolute (resolved against `base_url`, else dropped)."""
    if not _CHANGED_BY_CLEANING.search(fragment):
        return fragment  # plain words, as nh3 would give them back: a tenth of a render
    return nh3_clean_inline(fragment, base_url)


def nh3_clean_inline(fragment: str, base_url: str | None = None) -> str:
    return nh3.clean(
        fragment,
        tags=set(INLINE_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={"a": {"href"}},
        url_schemes=set(LINK_SCHEMES),
        url_relative=_absolute_link(base_url),
        link_rel=None,
    )


def summary_from_html(fragment: str, base_url: str | None = None) -> str:
    """A source's HTML summary in the pool's form: paragraphs of inline markup."""
    text = _BLOCK_END.sub("\n\n", fragment)
    cleaned = clean_inline(text, base_url)
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(cleaned))
    return "\n\n".join(part for part in paragraphs if part)


def summary_from_text(text: str) -> str:
    """Plain text in the pool's form: a '<' that could open a tag is written as '&lt;'."""
    return _TAG_START.sub("&lt;", text) if "<" in text else text


def text_from_html(fragment: str) -> str:
    """What a reader sees of some HTML, as plain text on one line (titles, search, matching)."""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    spaced = _LINE_BREAK.sub(" ", fragment)
    stripped = nh3.clean(spaced, tags=set(), clean_content_tags=set(_DROPPED_WITH_CONTENT))
    return " ".join(html.unescape(stripped).split())


def summary_text(summary: str) -> str:
    """A pool summary as plain text, its paragraphs kept apart by blank lines."""
    if "<" not in summary and "&" not in summary:
        return summary
    return "\n\n".join(text_from_html(part) for part in _PARAGRAPH_BREAK.split(summary))
