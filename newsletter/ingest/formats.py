"""Which format a document is in, told from its content; and the reader for each format."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from newsletter.errors import Finding, NewsletterError
from newsletter.formats import FORMATS
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.model import Entry

if TYPE_CHECKING:
    from newsletter.ingest.fields import ReadingSettings

_SNIFF_BYTES = 16384
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]", re.IGNORECASE)
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)
_LISTING_ENTRY = re.compile(rb"^[ \t]*\d{1,7}\.[ \t]+\S", re.MULTILINE)
_BY_MEDIA_TYPE = {
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/rdf+xml": "feed",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/csv": "csv",
    "application/json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
}
_BY_SUFFIX = {
    ".txt": "listing",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}


class EntryReader(Protocol):
    """What every format's reader is: entries, then what it noticed on the way."""

    heading: str | None

    @property
    def notices(self) -> Sequence[Finding]: ...

    @property
    def bytes_read(self) -> int: ...

    @property
    def skipped(self) -> int: ...  # records left out (each named in a notice)

    def __iter__(self) -> Iterator[Entry]: ...


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """How a source is read, from its configuration."""

    format: str | None = None  # None: told from the content
    base_url: str | None = None  # where a saved file's relative links point (its listing page)
    default_type: str | None = None
    date_format: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    language: str | None = None  # the editor's --lang: over what the entries themselves say
    strict: bool = False  # an entry that cannot be read refuses the whole document
    undated: str = "skip"  # or "first-seen": an entry without a date is dated when first seen


def detect_format(document: Document) -> str:
    """The document's format, from its first bytes; its media type and name break ties."""
    with document.open() as file:
        head = file.read(_SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, as some XML feeds are
        head = head.decode("utf-16", errors="ignore").encode()
    elif b"\x00" in head:
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        raise NewsletterError(
            "binary data, not a listing, feed, page or table", document.name, line
        )
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith((b"{", b"[")):
        return "json"
    if start.startswith(b"<"):
        html, feed = _HTML_ROOT.search(head), _FEED_ROOT.search(head)
        if feed and (not html or feed.start() < html.start()):
            return "feed"
        if html:
            return "html"
        if start.startswith(b"<?xml"):
            return "feed"
    hinted = _BY_MEDIA_TYPE.get(document.media_type or "") or _BY_SUFFIX.get(_suffix(document))
    if hinted in ("csv", "listing"):
        return hinted
    if _LISTING_ENTRY.search(head):
        return "listing"
    if _looks_like_csv(head):
        return "csv"
    if hinted:
        return hinted
    raise NewsletterError(
        "cannot tell what format this is; give --format "
        f"({', '.join(FORMATS)}) or set the source's format",
        document.name,
    )


def _suffix(document: Document) -> str:
    name = urlsplit(document.url).path if document.url else str(document.name)
    return PurePosixPath(name).suffix.lower()


def _looks_like_csv(head: bytes) -> bool:
    """At least two whole rows with the same number (two or more) of fields, quotes minded."""
    import csv
    import io

    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        return False
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    if len(head) == _SNIFF_BYTES:
        rows = rows[:-1]  # the last row may be cut short
    rows = [row for row in rows if any(cell.strip() for cell in row)][:5]
    return len(rows) >= 2 and len({len(row) for row in rows}) == 1 and len(rows[0]) >= 2


def open_reader(
    document: Document,
    options: ReaderOptions,
    dates: DateReader,
    language: str | None,
) -> tuple[str, EntryReader]:
    """(the format, a reader of the document in it)."""
    kind = options.format or detect_format(document)
    if kind not in FORMATS:
        raise NewsletterError(f"unknown format {kind!r}; known: {', '.join(FORMATS)}")
    if kind == "listing":  # a text format of its own: no fields to build entries from
        from newsletter.ingest.listing import ListingReader

        reader: EntryReader = ListingReader(
            document, dates, language, override=options.language, strict=options.strict,
            undated=options.undated,
        )  # fmt: skip
        return kind, reader
    from newsletter.ingest.fields import ReadingSettings

    settings = ReadingSettings(
        default_type=options.default_type,
        language=options.language or language,
        date_format=options.date_format,
        base_url=document.url or options.base_url,
        strict=options.strict,
    )
    return kind, _FIELD_READERS[kind](document, dates, options, settings)


def _feed(
    document: Document, dates: DateReader, _: ReaderOptions, settings: ReadingSettings
) -> EntryReader:
    from newsletter.ingest.feeds import FeedReader

    return FeedReader(document, dates, settings)


def _page(
    document: Document, dates: DateReader, options: ReaderOptions, settings: ReadingSettings
) -> EntryReader:
    from newsletter.ingest.pages import PageReader

    return PageReader(document, dates, options.selectors, settings)


def _csv(
    document: Document, dates: DateReader, options: ReaderOptions, settings: ReadingSettings
) -> EntryReader:
    from newsletter.ingest.tabular import CsvReader

    return CsvReader(document, dates, options.columns, settings)


def _json(
    document: Document, dates: DateReader, options: ReaderOptions, settings: ReadingSettings
) -> EntryReader:
    from newsletter.ingest.tabular import JsonReader

    return JsonReader(document, dates, options.columns, settings)


# The formats whose readers build entries from fields, each reader's module loaded on use
# (lxml, feedparser and csv are not imported for a listing).
_FIELD_READERS = {"feed": _feed, "html": _page, "csv": _csv, "json": _json}
