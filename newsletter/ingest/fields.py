"""From what a feed, a page or a spreadsheet row says to an Entry: the part all of them share.

A record that cannot become an entry (no title, no date, an unreadable date, a "title" too long to
be one) is left out with a notice naming where it is; the rest of its document is kept. A summary
over MAX_SUMMARY is cut, with a notice: it is still the entry's summary, only too long to mail.
Links and images are made absolute against the document's URL, and only http(s) ones are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from newsletter.config import is_language
from newsletter.errors import Finding, NewsletterError
from newsletter.ingest.dates import DateError, DateReader
from newsletter.markup import (
    clean_inline,
    summary_from_html,
    summary_from_text,
    text_from_html,
)
from newsletter.model import Entry, date_problem

if TYPE_CHECKING:
    from newsletter.ingest.documents import Document

MAX_NOTICES = 50
DEFAULT_TYPE = "News"
MAX_TYPE = 80  # characters, as listing pages allow: a type label, not a sentence
MAX_TITLE = 1_000  # characters: longer is a paragraph or a whole page, not a title
MAX_SUMMARY = 20_000  # characters as stored, markup included: some pages of print already

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # NUL and friends: no text has them
_URL_SAFE = "%/:=&?~#+!$,;'@()*[]"


Day = date  # the field `date` below hides the type's name inside the class


class RawEntry(NamedTuple):
    """One record as its format gives it, before checking: texts as found, or None."""

    where: str  # how messages point at it when there is no line: 'entry 3', 'row 12'
    line: int | None = None
    title: str | None = None
    title_is_html: bool = False
    date: str | date | None = None
    fallback_date: Day | None = None  # when `date` cannot be read (feedparser's own reading)
    type: str | None = None
    summary: str | None = None
    summary_is_html: bool = False
    url: str | None = None
    image: str | None = None
    language: str | None = None


class Notices(list[Finding]):
    """A document's notices, capped so that a broken file of a million rows stays readable,
    with the count of records left out (`strict`: the first one is the document's error)."""

    def __init__(self, name: Path | str, strict: bool = False):
        super().__init__()
        self.name = name
        self.strict = strict
        self.skipped = 0

    def skip(self, message: str, line: int | None = None) -> None:
        """A record left out: counted and noted, or with `strict` the document refused."""
        if self.strict:
            raise NewsletterError(f"{message} (--strict refuses the file)", self.name, line)
        self.skipped += 1
        self.add(f"{message}; skipped", line)

    def add(self, message: str, line: int | None = None) -> None:
        if len(self) < MAX_NOTICES:
            self.append(Finding(message, self.name, line))
        elif len(self) == MAX_NOTICES:
            self.append(Finding("more notices left out", self.name, line))


def read_date(text: str, dates: DateReader, date_format: str | None = None) -> date:
    """A date as sources write it: the source's own strptime format, then the listing forms
    ('9 November 2020', '9 de noviembre de 2020'), ISO 8601 and RFC 2822 ('Mon, 09 Nov 2020
    10:00:00 +0100'). A time's own date is kept, not converted to UTC: it is the day the
    publisher meant. DateError if none fits."""
    text = " ".join(text.split())
    if date_format:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            raise DateError(f"date {text!r} does not match the format {date_format!r}") from None
    found = dates.read(text)
    if found is not None:
        return found.value
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    raise DateError(f"unrecognised date {text!r}")


def web_url(url: str | None, base: str | None) -> str | None:
    """An absolute http(s) URL, or None: relative ones resolve against `base`; spaces and
    other characters a URL may not hold are percent-encoded."""
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(_CONTROL.sub("", url.strip()))
        host = parts.netloc
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        if any(character.isspace() for character in host):
            return None
        if not host.isascii():  # an internationalised host name, in its xn-- form
            host = host.encode("idna").decode("ascii")
    except ValueError:  # a malformed address (a bad port, an impossible host name)
        return None
    url = urlunsplit((parts.scheme, host, *(quote(p, safe=_URL_SAFE) for p in parts[2:])))
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


class EntryBuilder:
    """Checks raw records and makes entries of them, with a document's defaults."""

    def __init__(
        self,
        notices: Notices,
        dates: DateReader,
        *,
        base_url: str | None = None,
        default_type: str | None = None,
        language: str | None = None,
        date_format: str | None = None,
    ):
        self.notices = notices
        self.dates = dates
        self.base_url = base_url
        self.default_type = default_type or DEFAULT_TYPE
        self.language = language
        self.date_format = date_format

    def skip(self, raw: RawEntry, reason: str) -> None:
        title = f" ({_quote(raw.title)})" if raw.title else ""
        self.notices.skip(f"{raw.where}{title}: {reason}", raw.line)

    def build(self, raw: RawEntry) -> Entry | None:
        """The entry, or None (with a notice) when the record cannot be one."""
        title = _CONTROL.sub("", raw.title or "")
        title = text_from_html(title) if raw.title_is_html else " ".join(title.split())
        if not title:
            self.skip(raw, "no title")
            return None
        raw = raw._replace(title=title)
        if len(title) > MAX_TITLE:
            self.skip(raw, title_too_long(title))
            return None
        if isinstance(raw.date, date):
            day = raw.date
        elif raw.date is None or not raw.date.strip():
            self.skip(raw, "no date")
            return None
        else:
            try:
                day = read_date(raw.date, self.dates, self.date_format)
            except DateError as error:
                if raw.fallback_date is None:
                    self.skip(raw, str(error))
                    return None
                day = raw.fallback_date
        problem = date_problem(day)
        if problem:
            self.skip(raw, problem)
            return None
        url = web_url(raw.url, self.base_url)
        if raw.url and url is None:
            self.notices.add(f"link {_quote(raw.url)} is not a web address; left out", raw.line)
        summary = _CONTROL.sub("", raw.summary or "")
        if raw.summary_is_html:
            summary = summary_from_html(summary, self.base_url)
        else:
            summary = summary_from_text(_paragraphs(summary))
        if len(summary) > MAX_SUMMARY:
            self.notices.add(f"{raw.where} ({_quote(title)}): {summary_too_long(len(summary))}",
                             raw.line)  # fmt: skip
            summary = shorten_summary(summary)
        kind = " ".join(_CONTROL.sub("", raw.type or "").split()) or self.default_type
        if len(kind) > MAX_TYPE:
            self.notices.add(f"type {_quote(kind)} is too long for a type label; cut", raw.line)
            kind = kind[: MAX_TYPE - 1].rstrip() + "…"
        language = (raw.language or "").strip() or None
        if language is not None and not is_language(language):
            self.notices.add(f"language {_quote(language)} is not a language code; left out",
                             raw.line)  # fmt: skip
            language = None
        return Entry(
            type=kind,
            title=title,
            date=day,
            summary=summary,
            url=url,
            language=language or self.language,
            line=raw.line,
            image=web_url(raw.image, self.base_url),
        )


def title_too_long(title: str) -> str:
    return f"the title is {len(title):,} characters long, over the {MAX_TITLE:,} a title may have"


def summary_too_long(length: int) -> str:
    return f"the summary is {length:,} characters long; cut to {MAX_SUMMARY:,}"


def shorten_summary(summary: str, limit: int = MAX_SUMMARY) -> str:
    """A summary in the pool's form cut to at most `limit` characters, at a word boundary,
    with "…"; markup cut in half (a tag, an open link) is mended by cleaning it again."""
    if len(summary) <= limit:
        return summary
    room = limit - 1  # for the "…"
    while True:
        cut = summary[:room]
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space > room // 2:  # else one "word" fills half of it: cut through that
            cut = cut[:space]
        cut = cut.rstrip()
        if "<" in cut:
            cut = clean_inline(cut).rstrip()  # closes an open <a>, drops a half-written tag
        if len(cut) < limit:
            return cut + "…"
        room -= len(cut) - limit + 1  # cleaning added closing tags: make room for them


def _paragraphs(text: str) -> str:
    """Plain text with its lines joined and its paragraphs kept apart by one blank line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join(" ".join(p) for p in paragraphs if p)


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


@dataclass(frozen=True, slots=True)
class ReadingSettings:
    """What a source says of how its entries read, for the readers that build entries from
    fields (feeds, pages, tables)."""

    default_type: str | None = None
    language: str | None = None
    date_format: str | None = None
    base_url: str | None = None
    strict: bool = False


class FieldReader:
    """What the feed, page and table readers share: the document, its notices, its heading,
    how much of it was read, and the builder that makes entries of raw fields."""

    def __init__(self, document: Document, dates: DateReader, settings: ReadingSettings):
        self.document = document
        self.notices = Notices(document.name, settings.strict)
        self.heading: str | None = None
        self.bytes_read = 0
        self.builder = EntryBuilder(
            self.notices,
            dates,
            base_url=settings.base_url,
            default_type=settings.default_type,
            language=settings.language,
            date_format=settings.date_format,
        )

    @property
    def skipped(self) -> int:
        return self.notices.skipped
