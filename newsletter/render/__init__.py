"""Render an issue: Jinja -> MJML -> HTML (MRML) -> inlined CSS (premailer), and a text part.

The only stage that touches Jinja, mjml-python and premailer. It reads the issue and the
config, never the database.
"""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from newsletter.config import BrandConfig, Config, NewsletterConfig
from newsletter.errors import NewsletterError
from newsletter.files import is_workspace_path
from newsletter.issue import Issue, IssueItem, edition_paths, newsletter_of
from newsletter.issue.preheader import preheader_text
from newsletter.labels import language_name
from newsletter.markup import clean_inline, text_from_html
from newsletter.model import RenderedEmail, merge_tag
from newsletter.render.inline import inline_css
from newsletter.render.mjml import compile_mjml
from newsletter.render.pictures import LEAD_WIDTH, THUMBNAIL_WIDTH, prepare
from newsletter.render.theme import Labels, Theme, load_theme, theme_folders

# Invisible characters after the preheader (combining grapheme joiner, zero-width non-joiner,
# no-break space), so that inboxes show nothing of the body after it.
PREHEADER_PADDING = "\u034f\u200c\u00a0" * 40
_LINK = re.compile(r"^https?://[^\s/]+\S*$")
_ANCHOR = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)  # as clean_inline writes them


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item as the templates show it, in the email and in the archive."""

    uid: str
    type: str
    date: str  # ISO, for machines (the archive's <time>)
    date_label: str
    title: str
    summary: tuple[str, ...]  # paragraphs
    link: str | None  # the item's page, else its listing page, else none (an unlinked title)
    new: bool
    image: str | None = None  # http(s) only: a workspace picture's hosted address
    image_alt: str = ""
    image_credit: str = ""
    image_width: int = 0  # CSS pixels, in the email (0: the theme's own)
    image_height: int | None = None  # known for workspace pictures, which are measured
    language: str = ""  # the item's own, where it is not the issue's (a story not translated)
    language_name: str = ""  # that language as it names itself: "English", "Français"


def item_view(item: IssueItem, labels: Labels, date_pattern: str | None) -> ItemView:
    """What the templates show of an item: its words made safe, its type and date in the
    labels' language."""
    return ItemView(
        uid=item.uid,
        type=labels.type_label(item.type),
        date=item.date.isoformat(),
        date_label=item_date_label(item, labels.language, date_pattern),
        title=item.title,
        summary=inline_paragraphs(item.summary),
        link=link_of(item),  # http(s) only: anything else is dropped
        new=item.new,
        image=item.image if item.image and _LINK.match(item.image) else None,
        image_alt=item.image_alt or "",
        image_credit=item.image_credit,
        language=item.language if item.language != labels.language else "",
        language_name=language_name(item.language) if item.language != labels.language else "",
    )


@dataclass(frozen=True, slots=True)
class SectionView:
    title: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True, slots=True)
class IssueView:
    title: str
    preheader: str
    language: str
    direction: str
    date_label: str
    intro: tuple[str, ...]
    lead: ItemView | None
    sections: tuple[SectionView, ...]


@dataclass(frozen=True, slots=True)
class EditionLink:
    language: str
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Links:
    web_version: str | None
    unsubscribe: str
    editions: tuple[EditionLink, ...]


class References:
    """Numbered link references for the text part: each address gets one number."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def number(self, url: str) -> str:
        return f"[{self.numbers.setdefault(url, len(self.numbers) + 1)}]"

    def all(self) -> list[tuple[str, str]]:
        return [(f"[{number}]", url) for url, number in self.numbers.items()]

    def text(self, paragraph: str) -> str:
        """A paragraph of inline markup as plain text, its links as numbered references."""

        def reference(anchor: re.Match[str]) -> str:
            url = html.unescape(anchor[1])
            return f"{anchor[2]} {self.number(url)}" if _LINK.match(url) else anchor[2]

        return text_from_html(_ANCHOR.sub(reference, paragraph))


def paragraphs(text: str) -> tuple[str, ...]:
    return tuple(" ".join(part.split()) for part in re.split(r"\n\s*\n", text) if part.strip())


def inline_paragraphs(text: str) -> tuple[Markup, ...]:
    """Paragraphs of a summary or intro as safe markup: its inline tags kept (links absolute
    http(s) or mailto only), anything else removed, text escaped. Drafts are edited by hand,
    so this is done at every render, not trusted from the pool."""
    return tuple(Markup(clean_inline(paragraph)) for paragraph in paragraphs(text))


def link_of(item: IssueItem) -> str | None:
    """Never an empty or relative href: the item's page, its listing page, or nothing."""
    for candidate in (item.url, item.listing_url):
        if candidate and _LINK.match(candidate):
            return candidate
    return None


@lru_cache(maxsize=64)
def _locale(language: str) -> Any:
    from babel import Locale

    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, LookupError):
        return Locale.parse("en")


@lru_cache(maxsize=65536)  # an archive labels tens of thousands of dates, most of them alike
def format_day(day: date, language: str, pattern: str | None) -> str:
    from babel.dates import format_date

    return str(format_date(day, pattern or "long", locale=_locale(language)))


def item_date_label(item: IssueItem, language: str, pattern: str | None) -> str:
    """An item's date; an event's first and last days, each as the newsletter writes dates
    (CLDR has no interval with full month names in most languages), and its place."""
    label = format_day(item.date, language, pattern)
    if item.end and item.end != item.date:
        label += f" \u2013 {format_day(item.end, language, pattern)}"
    return f"{label} · {item.place}" if item.place else label


def period_label(start: date, end: date, language: str) -> str:
    """'November 2020' for a calendar month, else the interval ('November 1 - 12, 2020')."""
    from babel.dates import format_date, format_interval

    locale = _locale(language)
    if start.day == 1 and end == start.replace(day=calendar.monthrange(start.year, start.month)[1]):
        return str(format_date(start, "LLLL y", locale=locale))
    return str(format_interval(start, end, "yMMMMd", locale=locale))


class PictureHost:
    """Where the email's pictures are: an address as it is, a workspace picture prepared and
    linked under the archive's base_url (see pictures.py). Remembers what it prepared, for
    `publish` to keep with the frozen issue."""

    def __init__(self, config: Config):
        self.root = config.root
        self.base_url = config.archive.base_url
        self.prepared: dict[str, Path] = {}  # media/<digest>.<ext> -> the prepared file

    def picture(self, image: str, width: int) -> tuple[str, int, int | None]:
        """(address, width, height if known) of a picture shown `width` CSS pixels wide."""
        if not is_workspace_path(image):
            return image, width, None
        prepared = prepare(self.root, image, width)
        if not self.base_url:
            raise NewsletterError(f"picture {image!r} is a file of the workspace: set [archive] "
                                  "base_url, where the archive will serve it")  # fmt: skip
        self.prepared[prepared.name] = prepared.file
        return self.base_url + prepared.name, prepared.width, prepared.height


def _pictured(view: ItemView, item: IssueItem, width: int, host: PictureHost) -> ItemView:
    if not item.image or (view.image is None and not is_workspace_path(item.image)):
        return view
    image, shown, height = host.picture(item.image, width)
    return replace(view, image=image, image_width=shown, image_height=height)


def issue_view(
    issue: Issue, newsletter: NewsletterConfig, host: PictureHost, labels: Labels
) -> IssueView:
    def view(item: IssueItem, width: int = THUMBNAIL_WIDTH) -> ItemView:
        made = item_view(item, labels, newsletter.date_format)
        return _pictured(made, item, width, host)

    return IssueView(
        title=issue.title,
        preheader=preheader_text(issue),
        language=issue.language,
        direction="rtl" if _locale(issue.language).character_order == "right-to-left" else "ltr",
        date_label=period_label(issue.start, issue.end, issue.language),
        intro=inline_paragraphs(issue.intro),
        lead=view(issue.lead, LEAD_WIDTH) if issue.lead else None,
        sections=tuple(
            SectionView(section.title, tuple(view(item) for item in section.items))
            for section in issue.sections
        ),
    )


def links_for(issue: Issue, config: Config, newsletter: NewsletterConfig) -> Links:
    """The email's own links: its web page, the unsubscribe merge tag, and the issue's other
    language editions (those with a file), each at its web page."""
    editions = []
    for language, path in edition_paths(config, issue).items():
        url = newsletter.issue_url(path.stem)
        if url and language != issue.language:
            editions.append(EditionLink(language, language_name(language), url))
    return Links(
        web_version=newsletter.issue_url(issue.slug),
        unsubscribe=merge_tag("unsubscribe_url"),
        editions=tuple(editions),
    )


def template_context(
    issue: Issue, config: Config, theme: Theme, host: PictureHost | None = None
) -> tuple[dict[str, Any], NewsletterConfig]:
    newsletter = newsletter_of(config, issue)
    if newsletter is None:
        raise NewsletterError(f"unknown newsletter {issue.newsletter!r}", issue.path)
    host = host or PictureHost(config)
    try:
        labels = theme.labels_for(issue.language)
        view = issue_view(issue, newsletter, host, labels)
        brand, logo_height = _hosted_logo(newsletter.brand, host)
    except NewsletterError as error:
        raise NewsletterError(error.message, error.path or issue.path, error.line) from None
    context = {
        "issue": view,
        "newsletter": newsletter,
        "brand": brand,
        "logo_height": logo_height,
        "picture_width": {"lead": LEAD_WIDTH, "thumbnail": THUMBNAIL_WIDTH},
        "links": links_for(issue, config, newsletter),
        "labels": labels,
        "preheader_padding": PREHEADER_PADDING,
    }
    return context, newsletter


def _hosted_logo(brand: BrandConfig, host: PictureHost) -> tuple[BrandConfig, int | None]:
    """The brand with its logo's address (a workspace logo hosted), and the logo's height."""
    if not brand.logo:
        return brand, None
    url, _, height = host.picture(brand.logo, brand.logo_width)
    return replace(brand, logo_url=url), height


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row but two before a heading."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidied: list[str] = []
    for line in lines:
        if not line and len(tidied) >= 2 and not tidied[-1] and not tidied[-2]:
            continue
        tidied.append(line)
    return "\n".join(tidied).strip("\n") + "\n"


def render_issue(issue: Issue, config: Config, theme: Theme | None = None) -> RenderedEmail:
    """The issue as an email: HTML with inlined CSS, and its plain-text part."""
    newsletter = config.newsletters.get(issue.newsletter)
    folders = theme_folders(newsletter.templates if newsletter else None)
    theme = theme or load_theme(folders)
    host = PictureHost(config)
    context, newsletter = template_context(issue, config, theme, host)
    source = theme.render("email.mjml.j2", context)
    html = inline_css(compile_mjml(source, theme))
    text = tidy_text(theme.render("email.txt.j2", {**context, "refs": References()}))
    return RenderedEmail(
        subject=issue.title,
        preheader=preheader_text(issue),
        html=html,
        text=text,
        mjml=source,
        language=issue.language,
        web_version_url=newsletter.issue_url(issue.slug),
        media=tuple(sorted(host.prepared.items())),
    )


def render_to_folder(
    issue: Issue, config: Config, folder: Path | None = None, keep_mjml: bool = False
) -> list[Path]:
    """Render an issue and write it to `folder` [default: build/<newsletter>/<slug>]."""
    email = render_issue(issue, config)
    folder = folder or config.root / "build" / issue.newsletter / issue.slug
    return write_rendered(email, folder, keep_mjml)


def write_rendered(email: RenderedEmail, folder: Path, keep_mjml: bool = False) -> list[Path]:
    """email.html, email.txt (and email.mjml), each written whole or not at all."""
    from newsletter.files import write_atomically

    files = [(folder / "email.html", email.html), (folder / "email.txt", email.text)]
    if keep_mjml:
        files.append((folder / "email.mjml", email.mjml))
    for path, content in files:
        write_atomically(path, content)
    return [path for path, _ in files]
