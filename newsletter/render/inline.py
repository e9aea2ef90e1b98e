"""CSS inlining with premailer, asked once per kind of element rather than once per render.

Premailer re-reads the style sheet and re-matches every selector against every element on each
call: three quarters of a render. But what it writes on an element depends only on the sheet
and on the element's kind: its tag, classes, style and the attributes the selectors name, and
the same of its ancestors. So each new kind is shown to premailer once per process, on a small
probe document, and its answer is written on every element of that kind, in this issue and in
the next. A sheet whose selectors look at siblings (`+`, `~`, `:first-child`...) would make the
kind depend on more than ancestors: such a sheet goes through premailer whole, as it used to.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

# Marks the theme's own style sheet: only its rules are inlined; MJML's own sheets (resets,
# column widths) stay in <head>, or `p { margin: 13px 0 }` would be repeated on every element.
INLINE_MARK = "/* inline */"
PROBE = "data-newsletter-probe"
MAX_KINDS = 20_000  # a bound on the memory of a long-running process (the studio)
_COMMENT_OR_STYLE = re.compile(r"(<!--.*?-->)|<style\b([^>]*)>(.*?)</style>", re.DOTALL)
_DOCTYPE = re.compile(r"\s*<!doctype", re.IGNORECASE)
_MEDIA = re.compile(r'\bmedia="([^"]*)"')
_ATTRIBUTE_SELECTOR = re.compile(r"\[\s*([-\w]+)[^\]]*\]")
_SIBLING_OR_STRUCTURAL = re.compile(r"[+~:]")

Kind = tuple[int, str | None]  # the element's chain of ancestors (numbered), its own style
Answer = tuple[tuple[str, str], ...]  # the attributes premailer sets, in the order it sets them


def inline_css(html: str) -> str:
    """Inline the theme's style sheet; media queries, dark-mode and client-attribute rules, and
    the MSO conditional comments stay in <head> as they were. The result is what premailer
    makes of the whole document (tests/render/test_fast_paths.py holds it to that)."""
    from lxml import etree

    stripped = html.strip()
    tree = etree.fromstring(stripped, etree.HTMLParser()).getroottree()
    page = tree.getroot()
    sheets = tuple(
        style.text
        for style in page.iter("style")
        if INLINE_MARK in (style.text or "") and style.get("media") in (None, "all", "screen")
    )
    inliner = inliner_for(sheets)
    if inliner is None:
        return whole_document_inline_css(html)
    inliner.inline(page)
    root = tree if stripped.startswith(tree.docinfo.doctype) else page
    return _with_doctype(etree.tostring(root, method="html", encoding="unicode"))


def whole_document_inline_css(html: str) -> str:
    """Premailer on the whole document: for sheets the probes cannot serve, and the reference
    the probes are tested against."""
    inlined = _premailer().transform(_ignore_other_style_sheets(html), pretty_print=False)
    return _with_doctype(str(inlined))


class KindInliner:
    """Premailer's answers for one set of style sheets, by kind of element."""

    def __init__(self, sheets: tuple[str, ...], attributes: tuple[str, ...]) -> None:
        self.sheets = sheets
        self.attributes = attributes  # those the selectors name: they make kinds differ
        self.chains: dict[tuple[Any, ...], int] = {}  # (parent chain, tag, class, attrs) -> id
        self.links: list[tuple[Any, ...]] = []  # id -> its link, to rebuild the chain
        self.answers: dict[Kind, Answer] = {}
        self.probes = 0  # how many times premailer was asked (the tests read it)
        self.lock = threading.Lock()  # one process may render in threads (a web app)

    def inline(self, page: Any) -> None:
        with self.lock:
            self._inline(page)

    def _inline(self, page: Any) -> None:
        if len(self.answers) > MAX_KINDS or len(self.chains) > MAX_KINDS:
            self.chains.clear()
            self.links.clear()
            self.answers.clear()
        found = self._kinds(page)
        unknown = {kind for _, kind in found if kind not in self.answers}
        if unknown:
            self._probe(unknown)
        for element, kind in found:
            for name, value in self.answers[kind]:
                element.set(name, value)

    def _kinds(self, page: Any) -> list[tuple[Any, Kind]]:
        """Every element (not comments, which premailer leaves alone) with its kind."""
        from lxml import etree

        found: list[tuple[Any, Kind]] = []
        chain_of: dict[Any, int] = {}
        attributes = self.attributes
        for element in page.iter(etree.Element):
            parent = element.getparent()
            link: tuple[Any, ...] = (chain_of[parent] if parent is not None else -1,
                                     element.tag, element.get("class"))  # fmt: skip
            if attributes:
                link += tuple(map(element.get, attributes))
            chain = self.chains.get(link)
            if chain is None:
                chain = self.chains[link] = len(self.links)
                self.links.append(link)
            chain_of[element] = chain
            found.append((element, (chain, element.get("style"))))
        return found

    def _probe(self, kinds: set[Kind]) -> None:
        """One small document with an element of each new kind under its ancestors, through
        premailer; what it changed on each is the answer for that kind."""
        from lxml import etree

        root: Any = None
        targets: list[tuple[Kind, Any, dict[str, str]]] = []
        for kind in kinds:
            chain, style = kind
            links = self._chain(chain)
            if root is None:
                root = self._element(None, links[0])
            element = root
            for link in links[1:]:
                element = self._element(element, link)
            if style is not None:
                element.set("style", style)
            before = dict(element.attrib)
            element.set(PROBE, "")
            targets.append((kind, element, before))
        for sheet in self.sheets:
            etree.SubElement(root, "style").text = sheet
        _premailer().transform(root)
        self.probes += 1
        for kind, element, before in targets:
            self.answers[kind] = tuple(
                (name, value)
                for name, value in element.items()
                if name != PROBE and before.get(name) != value
            )

    def _chain(self, chain: int) -> list[tuple[Any, ...]]:
        links = []
        while chain != -1:
            links.append(self.links[chain])
            chain = self.links[chain][0]
        return links[::-1]

    def _element(self, parent: Any, link: tuple[Any, ...]) -> Any:
        from lxml import etree

        _, tag, classes, *values = link
        element = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
        for name, value in zip(("class", *self.attributes), (classes, *values), strict=True):
            if value is not None:
                element.set(name, value)
        return element


@lru_cache(maxsize=8)
def inliner_for(sheets: tuple[str, ...]) -> KindInliner | None:
    """The inliner for these sheets, or None when a selector looks beyond an element's
    ancestors. Parsed once per process for each set of sheets."""
    import cssutils  # type: ignore[import-untyped]

    cssutils.log.setLevel(logging.CRITICAL)
    selectors = [
        selector.strip()
        for sheet in sheets
        for rule in cssutils.parseString(sheet, validate=False)
        if rule.type == rule.STYLE_RULE
        for selector in rule.selectorText.split(",")
    ]
    without_attributes = [_ATTRIBUTE_SELECTOR.sub("", selector) for selector in selectors]
    if any(_SIBLING_OR_STRUCTURAL.search(selector) for selector in without_attributes):
        return None
    named = {name for selector in selectors for name in _ATTRIBUTE_SELECTOR.findall(selector)}
    if any("#" in selector for selector in without_attributes):
        named.add("id")
    return KindInliner(sheets, tuple(sorted(named - {"class", "style"})))


def _premailer() -> Any:
    from premailer import Premailer  # type: ignore[import-untyped]

    return Premailer(
        allow_network=False,  # never fetch a style sheet while rendering
        keep_style_tags=True,  # dark-mode and [data-ogsc] rules only work from <head>
        disable_leftover_css=True,
        remove_classes=False,  # the kept rules need the classes
        strip_important=False,
        exclude_pseudoclasses=True,
        disable_validation=True,
        # The templates write width/height attributes in pixels, which Outlook needs; CSS such as
        # `width: 100%` (fluid on phones) must not overwrite them.
        disable_basic_attributes=["width", "height"],
        cssutils_logging_level=logging.CRITICAL,
    )


def _ignore_other_style_sheets(html: str) -> str:
    """Tell premailer to leave every sheet but the theme's (and conditional comments) alone."""

    def mark(match: re.Match[str]) -> str:
        media = _MEDIA.search(match.group(2) or "")
        if match.group(1) or INLINE_MARK in match.group(3):
            return match.group(0)
        if media and media.group(1) not in ("all", "screen"):
            return match.group(0)  # premailer skips it already, and would leave the mark on
        return f'<style data-premailer="ignore"{match.group(2)}>{match.group(3)}</style>'

    return _COMMENT_OR_STYLE.sub(mark, html)


def _with_doctype(html: str) -> str:
    if not _DOCTYPE.match(html):
        return "<!doctype html>" + html  # lxml drops MJML's doctype
    return html
