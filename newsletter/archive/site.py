"""The static web archive of published issues: what pages there are, and what each shows.

Every page is planned with a digest of everything it is made from (its data, the templates,
the labels); the build renders only the pages whose digest changed since the last build. What
each published issue contributes to the shared pages (topic lists, the search index) is kept
as plain data, so an unchanged issue need not be read again to plan them.

A newsletter in several languages has a page per published edition, `<newsletter>/<slug>/`
(`ilo-coop-enews/2020-11.fr/`), in its language, with `hreflang` alternates (x-default: the
main edition) and a switcher to the sibling editions published; the list of its issues and its
feed per language (`<newsletter>/` for the main language, `<newsletter>/fr/` and
`<newsletter>/fr/feed.xml` for the others: `publish` refuses an issue named after a language,
and the plan leaves out one published before); a search per language (`search.html` over the
main editions and those in the site's language, `search.fr.html` over everything published in
French). The site's home lists each newsletter once, with links to its other languages; the
topic pages, in the site's language, list the main editions' items.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsletter.archive.publish import MEDIA, FrozenIssue
from newsletter.config import BrandConfig, Config
from newsletter.issue import IssueItem, edition_language
from newsletter.issue.preheader import preheader_text
from newsletter.labels import Labels, labels_for, language_name
from newsletter.markup import summary_text
from newsletter.model import MERGE_TAGS, merge_tag
from newsletter.render import (
    ItemView,
    format_day,
    inline_paragraphs,
    item_date_label,
    item_view,
)
from newsletter.render.pictures import prepare
from newsletter.render.theme import Theme

FEED_ENTRIES = 50
SEARCH_SUMMARY = 200  # characters of each summary in the search index
TOPIC_LATEST = 20  # items on a topic's page; its year pages have them all
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

_MEDIA_NAME = re.compile(r"^media/[0-9a-f]{32}\.(?:jpg|png)$")
IssueData = dict[str, Any]  # what a published issue gives the shared pages: plain, cacheable


def safe_name(name: str) -> bool:
    """A slug that is one plain path segment: no way out of the site's folder."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name


@dataclass(frozen=True, slots=True)
class Page:
    """One file of the site: a template and (built when needed) its context, or bytes."""

    path: str  # relative to the site's root, always below it
    digest: str
    template: str | None = None
    make: Callable[[], dict[str, Any]] | None = None
    content: Callable[[], bytes] | None = None


@dataclass(frozen=True, slots=True)
class IssueLink:
    title: str
    url: str  # relative to the site's root
    number: int
    date: str
    date_label: str
    items: int


@dataclass(frozen=True, slots=True)
class Alternate:
    """A page's version in another language (or its own): for hreflang and the switcher."""

    language: str
    name: str  # the language as it names itself: "Français"
    url: str  # relative to the site's root
    absolute: str  # with the site's base_url; "" without one
    current: bool = False


@dataclass(frozen=True, slots=True)
class TopicLink:
    slug: str
    name: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class ArchiveItem(ItemView):
    """An item as the email shows it, with links to its topics' pages."""

    topics: tuple[TopicLink, ...] = ()


@dataclass(frozen=True, slots=True)
class ArchiveSection:
    title: str
    items: tuple[ArchiveItem, ...]


@dataclass(frozen=True, slots=True)
class IssuePage:
    newsletter_slug: str
    newsletter_name: str
    title: str
    number: int
    published: str
    published_label: str
    intro: tuple[str, ...]
    lead: ArchiveItem | None
    sections: tuple[ArchiveSection, ...]
    previous: IssueLink | None
    next: IssueLink | None
    language: str = ""


@dataclass(frozen=True, slots=True)
class FoundItem:
    title: str
    url: str
    type: str
    date: str
    date_label: str
    issue_title: str
    issue_url: str


@dataclass(frozen=True, slots=True)
class PageInfo:
    title: str
    language: str
    direction: str = "ltr"
    description: str = ""
    canonical: str = ""
    feed: str = ""
    feed_title: str = ""
    search: str = "search.html"  # where the header's search form goes: the page's language's
    alternates: tuple[Alternate, ...] = ()  # its versions in each language, its own among them
    default: str = ""  # x-default: the main edition's address


@dataclass(frozen=True, slots=True)
class SiteInfo:
    title: str
    address: str
    base_url: str | None
    logo_url: str | None = None
    logo_alt: str = ""
    logo_width: int = 160
    form_origin: str = ""  # where the subscribe forms post (`newsletter serve`), if anywhere


def brand_css(brand: BrandConfig) -> bytes:
    """The archive's colours and fonts from [brand], over the theme's style sheet (a file of
    its own: the Content-Security-Policy allows no inline style)."""
    colors = brand.colors
    return (
        "/* From [brand] in newsletter.toml, written by `newsletter archive`. */\n"
        f":root {{ --primary: {colors.primary}; }}\n"
        f"body {{ font-family: {brand.body_font}; }}\n"
        f"h1, h2, h3, .home {{ font-family: {brand.heading_font}; }}\n"
        f"@media (prefers-color-scheme: dark) {{ :root {{ --primary: {colors.dark_primary}; }} }}\n"
    ).encode()


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def public_copy(html_text: str, values: dict[str, str]) -> bytes:
    """The sent email's HTML with its merge tags filled for anyone to read (a tag left in
    would be a link to `%%unsubscribe_url%%`, which leads nowhere)."""
    for name in MERGE_TAGS:
        html_text = html_text.replace(merge_tag(name), html.escape(values.get(name, "")))
    return html_text.encode("utf-8")


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def issue_url(newsletter: str, slug: str) -> str:
    return f"{newsletter}/{slug}/index.html"


def settings_key(config: Config, newsletter: str, slug: str = "") -> tuple[str, str | None]:
    """What the dates of an issue's data are written with: its edition's language (named by
    `slug`, "2020-11.fr") and date format."""
    found = config.newsletters.get(newsletter)
    if not found:
        return (config.archive.language, None)
    language = edition_language(config, newsletter, slug) if slug else None
    edition = found.edition(language) if language else found
    return (edition.language, edition.date_format)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _labels_text(folder: Path) -> str:
    path = folder / "labels.toml"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def issue_data(frozen: FrozenIssue, config: Config, source_digest: str) -> IssueData:
    """What one published issue gives the site's shared pages.

    Its rows for topic pages and the search index are kept serialised (JSON text): a build
    that finds the issue unchanged joins the text into those pages without parsing it.
    """
    issue = frozen.issue
    language, pattern = settings_key(config, issue.newsletter, issue.slug)
    url = issue_url(issue.newsletter, issue.slug)
    found: dict[str, dict[str, list[list[str]]]] = defaultdict(lambda: defaultdict(list))
    search = [[url, frozen.published.isoformat(), issue.title, preheader_text(issue)]]
    for item in issue.items:
        day, anchor = item.date.isoformat(), f"{url}#item-{item.uid}"
        label = item_date_label(item, language, pattern)
        for topic in frozen.topics.get(item.uid, issue.topics):
            if safe_name(topic):
                found[topic][day[:4]].append([day, anchor, item.title, item.type, label])
        search.append([anchor, day, item.title, summary_text(item.summary)[:SEARCH_SUMMARY]])
    return {
        "folder": str(frozen.folder),
        "digest": source_digest,
        "newsletter": issue.newsletter,
        "slug": issue.slug,
        "language": language,
        "main": frozen.edition_of or issue.slug,  # the slug every edition of it shares
        "edition": bool(frozen.edition_of),
        "title": issue.title,
        "number": frozen.number,
        "published": frozen.published.isoformat(),
        "preheader": preheader_text(issue),
        "items": len(issue.items),
        # topic -> year -> (how many, the rows as JSON)
        "topics": {
            topic: {year: (len(rows), _json(rows)) for year, rows in sorted(years.items())}
            for topic, years in sorted(found.items())
        },
        "search": _json(search),
        "media": sorted(f"{MEDIA}/{path.name}" for path in (frozen.folder / MEDIA).glob("*.*")),
    }


def _in_order(data: IssueData) -> tuple[str, int, str]:
    """Publication order."""
    return (data["published"], data["number"], data["slug"])


class SitePlan:
    """Every page of the archive, from the published issues' data."""

    def __init__(
        self,
        config: Config,
        theme: Theme,
        issues: Sequence[IssueData],
        load: Callable[[str], FrozenIssue],
    ):
        self.config = config
        self.theme = theme
        self.load = load
        brand = config.archive.brand
        logo_url = brand.logo_url
        self.logo: tuple[str, Path] | None = None  # a workspace logo, served from media/
        self.media: set[str] = set()
        if brand.logo and config.archive.base_url:
            prepared = prepare(config.root, brand.logo, brand.logo_width)
            self.logo = (prepared.name, prepared.file)
            logo_url = config.archive.base_url + prepared.name
        self.site = SiteInfo(
            config.archive.title,
            config.archive.address,
            config.archive.base_url,
            logo_url,
            brand.logo_alt or brand.name or config.archive.title,
            brand.logo_width,
            _origin(config.subscriptions.url),
        )
        self.language = config.archive.language
        self.templates = theme.digest()
        # Newsletters' own themes name type labels on the topic pages too.
        own = sorted({n.templates for n in config.newsletters.values() if n.templates})
        self.own_labels = _digest(*(_labels_text(folder) for folder in own))
        self.skipped: list[str] = []
        # newsletter -> its language editions' issues by language
        self.editions: dict[str, dict[str, list[IssueData]]] = {}
        self.issues = self._usable(issues)
        # The languages with a search of their own: the editions' but the site's.
        self.search_languages = sorted(
            {language for found in self.editions.values() for language in found} - {self.language}
        )
        self.pages: list[Page] = []

    def _usable(self, issues: Sequence[IssueData]) -> dict[str, list[IssueData]]:
        """Published main issues by newsletter, in publication order (the editions go to
        `self.editions`); unsafe names, and names that are the newsletter's languages' pages,
        are left out."""
        found: dict[str, list[IssueData]] = defaultdict(list)
        editions: dict[str, dict[str, list[IssueData]]] = defaultdict(lambda: defaultdict(list))
        for data in issues:
            newsletter = self.config.newsletters.get(data["newsletter"])
            languages = newsletter.languages if newsletter else ()
            reason = ""
            if not (safe_name(data["newsletter"]) and safe_name(data["slug"])):
                reason = "not a safe file name"
            elif data["slug"] in languages[1:]:
                reason = f"named as the newsletter's {data['slug']!r} issues' page"
            elif data.get("edition") and data["language"] not in languages[1:]:
                # an edition in a language the newsletter no longer has: no page to be on
                named = data["slug"].rpartition(".")[2]  # the language its name ends in
                reason = (f"an edition in {named!r}, which is not among the newsletter's "
                          "languages now")  # fmt: skip
            if reason:
                self.skipped.append(f"{data['newsletter']}/{data['slug']}: {reason}")
                continue
            if data.get("edition"):
                editions[data["newsletter"]][data["language"]].append(data)
            else:
                found[data["newsletter"]].append(data)
        for listed in found.values():
            listed.sort(key=_in_order)
        self.editions = {}  # in the order of the newsletter's languages
        for slug, by in sorted(editions.items()):
            languages = self.config.newsletters[slug].languages
            self.editions[slug] = {
                lang: sorted(by[lang], key=_in_order) for lang in languages if lang in by
            }
        return dict(sorted(found.items()))

    # Names and labels

    def name_of(self, slug: str, language: str = "") -> str:
        """The newsletter's name (as its edition in `language` gives it)."""
        newsletter = self.config.newsletters.get(slug)
        if newsletter and language in newsletter.languages:
            newsletter = newsletter.edition(language)
        return newsletter.name if newsletter else slug

    def language_of(self, slug: str) -> str:
        return settings_key(self.config, slug)[0]

    def search_page(self, language: str) -> str:
        """The search of a page in `language`."""
        return f"search.{language}.html" if language in self.search_languages else "search.html"

    def alternate(self, language: str, url: str, current: str) -> Alternate:
        absolute = self.absolute(url) if self.site.base_url else ""
        return Alternate(language, language_name(language), url, absolute, language == current)

    def home_alternates(self, slug: str, current: str) -> tuple[Alternate, ...]:
        """The lists of the newsletter's issues, one per language it has published in (none
        when it has one)."""
        languages = self.editions.get(slug, {})
        if not languages:
            return ()
        main = self.alternate(self.language_of(slug), f"{slug}/index.html", current)
        others = (self.alternate(lang, f"{slug}/{lang}/index.html", current) for lang in languages)
        return (main, *others)

    def issue_alternates(self, data: IssueData) -> tuple[Alternate, ...]:
        """The issue's published editions, its own among them (none when it has no other)."""
        newsletter, main = data["newsletter"], data["main"]
        found = [d for d in self.issues.get(newsletter, ()) if d["slug"] == main]
        for listed in self.editions.get(newsletter, {}).values():
            found += [d for d in listed if d["main"] == main]
        if len(found) < 2:
            return ()
        return tuple(
            self.alternate(d["language"], issue_url(newsletter, d["slug"]), data["language"])
            for d in found
        )

    def topic_name(self, slug: str, language: str | None = None) -> str:
        topic = self.config.topics.get(slug)
        return topic.name_in(language or self.language) if topic else slug

    def link(self, data: IssueData) -> IssueLink:
        language, pattern = settings_key(self.config, data["newsletter"], data["slug"])
        return IssueLink(
            title=data["title"],
            url=issue_url(data["newsletter"], data["slug"]),
            number=data["number"],
            date=data["published"],
            date_label=format_day(date.fromisoformat(data["published"]), language, pattern),
            items=data["items"],
        )

    def item_labels(self, slug: str, language: str) -> Labels:
        """The labels items are shown with: the newsletter's own theme names its sources'
        type labels, as in its emails."""
        newsletter = self.config.newsletters.get(slug)
        own = (newsletter.templates,) if newsletter and newsletter.templates else ()
        return labels_for((*own, *self.theme.folders), language)

    def subscribe_url(self, newsletter: str) -> str:
        """Where the newsletter's subscribe form posts ("": no form)."""
        return self.config.subscriptions.page_url(newsletter, "subscribe") or ""

    def absolute(self, path: str) -> str:
        return (self.site.base_url or "") + path.removesuffix("index.html")

    # Planning

    def plan(self) -> list[Page]:
        self.pages = []
        self.media = set()
        self._home()
        for slug, issues in self.issues.items():
            by_language = {self.language_of(slug): issues, **self.editions.get(slug, {})}
            for language, listed in by_language.items():
                self._newsletter(slug, listed, language)
                for index, data in enumerate(listed):
                    previous = listed[index - 1] if index > 0 else None
                    following = listed[index + 1] if index + 1 < len(listed) else None
                    self._issue(data, previous, following)
        self._topics()
        self._search()
        for language in self.search_languages:
            self._search(language)
        self._static()
        self._add("404.html", "archive/404.html.j2", self.language, "", (), dict)
        if self.site.base_url:
            self._sitemap()
        return self.pages

    def _add(
        self,
        path: str,
        template: str,
        language: str,
        title: str,
        data: Any,
        make: Callable[[], dict[str, Any]],
        **info: Any,
    ) -> None:
        """A templated page: its digest from `data` (what it shows), its context made later."""
        info.setdefault("search", self.search_page(language))
        page = PageInfo(title=title or self.site.title, language=language, **info)
        labels = self.theme.labels_for(language)

        def context() -> dict[str, Any]:
            return {
                "site": self.site,
                "page": page,
                "root": "../" * path.count("/"),
                "labels": labels,
                **make(),
            }

        digest = _digest(self.templates, path, template, self.site, page, repr(labels), data)
        self.pages.append(Page(path, digest, template, context))

    def _home(self) -> None:
        entries = [
            {
                "slug": slug,
                "name": self.name_of(slug),
                "count": len(issues),
                "latest": self.link(issues[-1]),
                "editions": self.home_alternates(slug, self.language_of(slug))[1:],
            }
            for slug, issues in self.issues.items()
        ]
        self._add(
            "index.html",
            "archive/home.html.j2",
            self.language,
            self.site.title,
            entries,
            lambda: {"newsletters": entries},
            canonical=self.absolute("index.html"),
        )

    def _newsletter(self, slug: str, issues: list[IssueData], language: str) -> None:
        """The list of a newsletter's issues in one language: the main one's at <slug>/,
        another's at <slug>/<language>/."""
        folder = slug if language == self.language_of(slug) else f"{slug}/{language}"
        by_year: dict[int, list[IssueLink]] = defaultdict(list)
        for data in reversed(issues):
            by_year[int(data["published"][:4])].append(self.link(data))
        feed = f"{folder}/feed.xml" if self.site.base_url else ""
        name = self.name_of(slug, language)
        alternates = self.home_alternates(slug, language)
        context = {
            "newsletter": {"slug": slug, "name": name, "feed": feed},
            "years": sorted(by_year.items(), reverse=True),
            "subscribe": self.subscribe_url(slug),
            "alternates": alternates,
        }
        path = f"{folder}/index.html"
        self._add(
            path,
            "archive/newsletter.html.j2",
            language,
            name,
            context,
            lambda: context,
            canonical=self.absolute(path),
            feed=feed,
            feed_title=name,
            alternates=alternates,
            default=alternates[0].absolute or alternates[0].url if alternates else "",
        )
        if feed:
            self._feed(slug, issues, folder, language)

    def _issue(
        self, data: IssueData, previous: IssueData | None, following: IssueData | None
    ) -> None:
        slug, newsletter = data["slug"], data["newsletter"]
        language = data["language"]
        before = self.link(previous) if previous else None
        after = self.link(following) if following else None
        topics = sorted(data["topics"])
        alternates = self.issue_alternates(data)
        default = next((a for a in alternates if a.language == self.language_of(newsletter)), None)
        shown = (
            data["digest"],
            before,
            after,
            self.name_of(newsletter, language),
            settings_key(self.config, newsletter, slug),
            repr(self.item_labels(newsletter, language)),
            [self.topic_name(t) for t in topics],
            self.subscribe_url(newsletter),
        )

        def make() -> dict[str, Any]:
            return {"issue": self._issue_page(self.load(data["folder"]), before, after),
                    "subscribe": self.subscribe_url(newsletter),
                    "alternates": alternates}  # fmt: skip

        path = issue_url(newsletter, slug)
        self._add(
            path,
            "archive/issue.html.j2",
            language,
            data["title"],
            shown,
            make,
            description=data["preheader"],
            canonical=self.absolute(path),
            alternates=alternates,
            default=(default.absolute or default.url) if default else "",
        )
        email = data["folder"] + "/email.html"
        values = self.public_values(newsletter, slug)
        self.pages.append(
            Page(
                f"{newsletter}/{slug}/email.html",
                _digest(data["digest"], values),
                content=lambda: public_copy(Path(email).read_text(encoding="utf-8"), values),
            )
        )
        for name in data.get("media", ()):
            if _MEDIA_NAME.match(name):
                self._media(name, f"{data['folder']}/{name}")

    def public_values(self, newsletter: str, slug: str) -> dict[str, str]:
        """What the archive's copy of the email shows where each subscriber's own values
        went: the list's unsubscribe page (no one's signed link), the issue's web page, and
        no name."""
        config = self.config.newsletters.get(newsletter)
        web = (config.issue_url(slug) if config else None) or ""
        unsubscribe = (config.unsubscribe_url if config else None) or web
        return {"unsubscribe_url": unsubscribe, "web_version_url": web, "subscriber_name": ""}

    def _issue_page(
        self, frozen: FrozenIssue, before: IssueLink | None, after: IssueLink | None
    ) -> IssuePage:
        issue = frozen.issue
        language, pattern = settings_key(self.config, issue.newsletter, issue.slug)
        labels = self.item_labels(issue.newsletter, language)

        def item(entry: IssueItem) -> ArchiveItem:
            view = item_view(entry, labels, pattern)
            topics = frozen.topics.get(entry.uid, issue.topics)
            return ArchiveItem(
                **{field.name: getattr(view, field.name) for field in fields(ItemView)},
                topics=tuple(
                    TopicLink(t, self.topic_name(t, language)) for t in topics if safe_name(t)
                ),
            )

        return IssuePage(
            newsletter_slug=issue.newsletter,
            newsletter_name=self.name_of(issue.newsletter, language),
            title=issue.title,
            number=frozen.number,
            published=frozen.published.isoformat(),
            published_label=format_day(frozen.published, language, pattern),
            intro=inline_paragraphs(issue.intro),
            lead=item(issue.lead) if issue.lead else None,
            sections=tuple(
                ArchiveSection(s.title, tuple(item(i) for i in s.items)) for s in issue.sections
            ),
            previous=before,
            next=after,
            language=language,
        )

    def _feed(self, slug: str, issues: list[IssueData], folder: str, language: str) -> None:
        base = self.absolute("")
        entries = [
            {
                "title": d["title"],
                "url": f"{base}{slug}/{d['slug']}/",
                "date": d["published"],
                "summary": d["preheader"],
            }
            for d in reversed(issues[-FEED_ENTRIES:])
        ]
        context = {
            "newsletter": {
                "name": self.name_of(slug, language),
                "url": f"{base}{folder}/",
                "language": language,
            },
            "entries": entries,
            "updated": issues[-1]["published"],
        }
        path = f"{folder}/feed.xml"
        self.pages.append(
            Page(
                path, _digest(self.templates, path, context), "archive/feed.xml.j2", lambda: context
            )
        )

    def _topics(self) -> None:
        # topic -> year -> [(issue title, issue url, rows as JSON)], in publication order
        found: dict[str, dict[str, list[tuple[str, str, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for issues in self.issues.values():
            for data in issues:
                url = issue_url(data["newsletter"], data["slug"])
                for topic, years in data["topics"].items():
                    for year, (count, rows) in years.items():
                        found[topic][year].append((data["title"], url, rows))
                        counts[topic][year] += count
        topics = [
            TopicLink(slug, self.topic_name(slug), sum(counts[slug].values()))
            for slug in sorted(found)
        ]
        self._add(
            "topics/index.html",
            "archive/topics.html.j2",
            self.language,
            self.theme.labels_for(self.language).topics,
            topics,
            lambda: {"topics": topics},
        )
        for topic in topics:
            counted = sorted(counts[topic.slug].items(), reverse=True)
            latest = counted[0][0]
            years = found[topic.slug]
            self._topic_page(
                f"topics/{topic.slug}/index.html",
                topic,
                topic.name,
                counted,
                None,
                latest,
                years[latest],
                limit=TOPIC_LATEST,
            )
            # A year's page links to the topic's page for the other years: one more item, or
            # one more year, rewrites that year's page and the topic's page only.
            plain = TopicLink(topic.slug, topic.name)
            for year, _ in counted:
                self._topic_page(
                    f"topics/{topic.slug}/{year}/index.html",
                    plain,
                    f"{topic.name} · {year}",
                    [],
                    year,
                    year,
                    years[year],
                )

    def _topic_page(
        self,
        path: str,
        topic: TopicLink,
        title: str,
        years: list[tuple[str, int]],
        year: str | None,
        shown: str,
        parts: list[tuple[str, str, str]],
        limit: int | None = None,
    ) -> None:
        def make() -> dict[str, Any]:
            # Type labels in the page's language, as each row's newsletter names them.
            labels = {u: self.item_labels(u.split("/")[0], self.language) for _, u, _ in parts}
            items = [
                FoundItem(
                    title=row[2],
                    url=row[1],
                    type=labels[url].type_label(row[3]),
                    date=row[0],
                    date_label=row[4],
                    issue_title=issue_title,
                    issue_url=url,
                )
                for issue_title, url, rows in parts
                for row in json.loads(rows)
            ]
            items.sort(key=lambda item: (item.date, item.url), reverse=True)
            return {
                "topic": topic,
                "years": years,
                "year": year,
                "shown_year": shown,
                "items": items[:limit],
                "more": len(items) > (limit or len(items)),
            }

        shown_data = hashlib.sha256(
            "\x00".join(f"{t}\x00{u}\x00{r}" for t, u, r in parts).encode()
        ).hexdigest()
        self._add(
            path,
            "archive/topic.html.j2",
            self.language,
            title,
            (topic, years, year, shown_data, self.own_labels),
            make,
        )

    def _search(self, language: str = "") -> None:
        """The search over the main editions and those in the site's language; with
        `language`, over everything published in that language."""
        found: list[IssueData] = []
        for slug, issues in self.issues.items():
            editions = self.editions.get(slug, {})
            if language:
                found += [d for d in issues if d["language"] == language]
                found += editions.get(language, [])
            else:
                found += issues + editions.get(self.language, [])
        titles = [f"{self.name_of(d['newsletter'], d['language'])}: {d['title']}" for d in found]
        entries = ",".join(data["search"] for data in found)
        # {"issues": [...], "entries": [[issue 0's rows], [issue 1's rows], ...]}
        index = f'{{"issues":{_json(titles)},"entries":[{entries}]}}'.encode()
        suffix = f".{language}" if language else ""
        index_path = f"search-index{suffix}.json"
        self.pages.append(
            Page(index_path, hashlib.sha256(index).hexdigest(), content=lambda: index)
        )
        shown = language or self.language
        self._add(
            f"search{suffix}.html",
            "archive/search.html.j2",
            shown,
            self.theme.labels_for(shown).search,
            index_path,
            lambda: {"index": index_path},
        )

    def _media(self, name: str, file: str) -> None:
        """A picture, once however many issues link it: named by its content, the name is
        its digest."""
        if name not in self.media:
            self.media.add(name)
            self.pages.append(Page(name, name, content=partial(_read_bytes, file)))

    def _static(self) -> None:
        if self.logo:
            self._media(self.logo[0], str(self.logo[1]))
        assets = {**self.theme.archive_assets(), "brand.css": brand_css(self.config.archive.brand)}
        for name, data in assets.items():
            digest = hashlib.sha256(data).hexdigest()
            self.pages.append(Page(f"assets/{name}", digest, content=partial(bytes, data)))

    def _sitemap(self) -> None:
        urls = sorted(self.absolute(p.path) for p in self.pages if p.path.endswith("index.html"))
        context = {"urls": urls}
        self.pages.append(
            Page(
                "sitemap.xml",
                _digest(self.templates, context),
                "archive/sitemap.xml.j2",
                lambda: context,
            )
        )
