"""Read RSS and Atom feeds with feedparser.

A feed that is not well-formed (feedparser's "bozo") still gives its readable entries, with a
warning; one that gives nothing readable is an error. Each entry keeps the date its publisher
wrote (not converted to UTC), its link and image made absolute, its HTML summary cleaned.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.ingest.fields import FieldReader, RawEntry, ReadingSettings
from newsletter.model import Entry

_ENTRY_TAG = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?(?:item|entry)[\s>/]")
_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_DATE_KEYS = ("published", "updated", "created", "dc_date")


class FeedReader(FieldReader):
    """Yields the entries of an RSS or Atom document; `heading` and `notices` fill in."""

    def __init__(
        self,
        document: Document,
        dates: DateReader,
        settings: ReadingSettings,
    ):
        super().__init__(document, dates, settings)

    def __iter__(self) -> Iterator[Entry]:
        import feedparser

        data = self.document.read()
        self.bytes_read = len(data)
        headers = {"content-location": self.document.url or ""}
        if self.document.media_type:
            charset = f"; charset={self.document.charset}" if self.document.charset else ""
            headers["content-type"] = self.document.media_type + charset
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
        feed, entries = parsed.get("feed", {}), parsed.get("entries", [])
        bozo = parsed.get("bozo") and not _harmless(parsed["bozo_exception"])
        if not entries and not feed.get("title") and bozo:
            raise NewsletterError(
                f"not a readable feed: {_problem(parsed['bozo_exception'])}",
                self.document.name,
                _line_of(parsed["bozo_exception"]),
            )
        if parsed.get("version", "") == "" and not entries:
            raise NewsletterError("not an RSS or Atom feed", self.document.name)
        if bozo:
            self.notices.add(
                f"the feed is not well-formed ({_problem(parsed['bozo_exception'])}); "
                "its readable entries are kept",
                _line_of(parsed["bozo_exception"]),
            )
        self.heading = feed.get("title") or None
        if self.builder.base_url is None and feed.get("link"):
            self.builder.base_url = str(feed["link"])  # a saved feed: its site's address
        if self.builder.language is None and feed.get("language"):
            self.builder.language = str(feed["language"]).strip() or None
        lines = [data.count(b"\n", 0, m.start()) + 1 for m in _ENTRY_TAG.finditer(data)]
        for index, item in enumerate(entries):
            line = lines[index] if len(lines) == len(entries) else None
            entry = self.builder.build(self.raw(item, index + 1, line))
            if entry is not None:
                yield entry

    def raw(self, item: Any, number: int, line: int | None) -> RawEntry:
        summary, is_html = _summary(item)
        title_type = (item.get("title_detail") or {}).get("type", "text/plain")
        return RawEntry(
            where=f"entry {number}",
            line=line,
            title=item.get("title"),
            title_is_html=title_type in ("text/html", "application/xhtml+xml"),
            date=_date(item),
            fallback_date=_parsed_date(item),
            summary=summary,
            summary_is_html=is_html,
            url=item.get("link"),
            image=_image(item, summary if is_html else ""),
            language=item.get("language"),
        )


def _date(item: Any) -> str | date | None:
    """The date as the feed wrote it; feedparser's parsed UTC date when only that is there."""
    for key in _DATE_KEYS:
        if item.get(key):
            return str(item[key])
    return _parsed_date(item)


def _parsed_date(item: Any) -> date | None:
    """feedparser's reading of the date (in UTC), for forms our reading does not know."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        if item.get(key):
            return date(*item[key][:3])
    return None


def _summary(item: Any) -> tuple[str, bool]:
    """The entry's summary (or, failing one, its content), and whether it is HTML."""
    detail = item.get("summary_detail") or {}
    text = item.get("summary") or ""
    if not text and item.get("content"):
        detail = item["content"][0]
        text = detail.get("value", "")
    return text, detail.get("type", "text/html") in ("text/html", "application/xhtml+xml")


def _image(item: Any, summary_html: str) -> str | None:
    """A picture of the entry: media:content or media:thumbnail, an image enclosure, or the
    first <img> of its summary."""
    for media in item.get("media_content", []):
        is_image = media.get("medium", "image") == "image"
        if media.get("url") and is_image and media.get("type", "image/").startswith("image/"):
            return str(media["url"])
    for media in item.get("media_thumbnail", []):
        if media.get("url"):
            return str(media["url"])
    for link in item.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link.get("href"))
    found = _IMG_SRC.search(summary_html)
    return found.group(1) if found else None


def _harmless(error: Exception) -> bool:
    """A server's odd Content-Type (or none, for a file) says nothing about the feed itself."""
    import feedparser

    return isinstance(error, feedparser.NonXMLContentType | feedparser.CharacterEncodingOverride)


def _problem(error: Exception) -> str:
    message = getattr(error, "getMessage", lambda: str(error))()
    return " ".join(str(message).split()) or type(error).__name__


def _line_of(error: Exception) -> int | None:
    get_line = getattr(error, "getLineNumber", None)
    return int(get_line()) if get_line else None
