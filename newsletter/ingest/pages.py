"""Read HTML listing pages with the CSS selectors configured for their source.

    [sources.ilo-news-page.selectors]
    item = "div.views-row"          # one element per item
    title = "h3"                    # the others are looked up inside each item
    link = "h3 a"                   # its href; default: the title's own link
    date = "time"                   # a <time datetime> first, else the text
    type = ".type"
    summary = ".summary"            # kept as inline HTML
    image = "img"                   # src, data-src or the first srcset candidate

A page whose item selector matches nothing is an error (its layout has likely changed), so an
ingest never quietly reads zero items from it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from html import escape
from typing import Any

from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.ingest.fields import FieldReader, RawEntry, ReadingSettings
from newsletter.model import Entry

REQUIRED_SELECTORS = ("item", "title")
_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.IGNORECASE)


def compile_selector(selector: str) -> Any:
    """An lxml CSSSelector; cssselect's SelectorError if the selector is not valid CSS."""
    from lxml.cssselect import CSSSelector

    return CSSSelector(selector, translator="html")


class PageReader(FieldReader):
    """Yields the entries of an HTML listing page; `heading` and `notices` fill in."""

    def __init__(
        self,
        document: Document,
        dates: DateReader,
        selectors: Mapping[str, str],
        settings: ReadingSettings,
    ):
        missing = [name for name in REQUIRED_SELECTORS if not selectors.get(name)]
        if missing:
            raise NewsletterError(
                "an HTML listing page is read with CSS selectors; configure "
                f"{' and '.join(missing)} in the source's [selectors] table",
                document.name,
            )
        super().__init__(document, dates, settings)
        self.selectors = {name: compile_selector(css) for name, css in selectors.items()}

    def __iter__(self) -> Iterator[Entry]:
        from lxml import etree, html

        data = self.document.read()
        self.bytes_read = len(data)
        charset = _known_charset(self.document.charset)
        if charset is None and not _META_CHARSET.search(data[:4096]) and _is_utf8(data):
            charset = "utf-8"  # a page saved without its server's charset: UTF-8, not Latin-1
        parser = html.HTMLParser(encoding=charset) if charset else None
        try:
            root = html.document_fromstring(data, parser=parser)
        except (etree.ParserError, ValueError, LookupError) as error:
            message = f"not a readable HTML page: {error}"
            raise NewsletterError(message, self.document.name) from None
        if self.builder.language is None:
            self.builder.language = root.get("lang") or None
        title = root.find(".//title")
        self.heading = " ".join((title.text_content() if title is not None else "").split()) or None
        items = self.selectors["item"](root)
        if not items:
            raise NewsletterError(
                f"the item selector {self.selectors['item'].css!r} matches nothing on this page",
                self.document.name,
            )
        for number, element in enumerate(items, start=1):
            entry = self.builder.build(self.raw(element, number))
            if entry is not None:
                yield entry

    def first(self, name: str, element: Any) -> Any | None:
        selector = self.selectors.get(name)
        if selector is None:
            return None
        found = selector(element)
        return found[0] if found else None

    def raw(self, element: Any, number: int) -> RawEntry:
        from lxml import html

        title = self.first("title", element)
        link = self.first("link", element)
        if link is None and title is not None:
            link = title if title.tag == "a" else title.find(".//a")
        date = self.first("date", element)
        summary = self.first("summary", element)
        kind = self.first("type", element)
        return RawEntry(
            where=f"item {number}",
            line=element.sourceline,
            title=_text(title),
            date=(date.get("datetime") or _text(date)) if date is not None else None,
            type=_text(kind),
            summary=_inner_html(summary, html) if summary is not None else None,
            summary_is_html=True,
            url=link.get("href") if link is not None else None,
            image=_image_source(self.first("image", element)),
            language=element.get("lang"),
        )


def _known_charset(name: str | None) -> str | None:
    """A charset Python knows (a server may send 'utf8mb4'); None for the page to tell."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(element: Any | None) -> str | None:
    return None if element is None else " ".join(element.text_content().split()) or None


def _inner_html(element: Any, html: Any) -> str:
    parts = [escape(element.text or "", quote=False)]  # lxml gives text unescaped
    parts += [html.tostring(child, encoding="unicode", with_tail=True) for child in element]
    return "".join(parts)


def _image_source(element: Any | None) -> str | None:
    if element is None:
        return None
    if element.tag != "img":
        element = element.find(".//img")
        if element is None:
            return None
    srcset = element.get("srcset", "").strip()
    candidates = [element.get("data-src"), element.get("src"), element.get("data-original")]
    candidates.append(srcset.split(",")[0].split()[0] if srcset else None)
    # Lazy-loading pages put a placeholder (often a data: URI) in src and the picture elsewhere.
    return next((str(c) for c in candidates if c and not c.startswith("data:")), None)
