"""The static web archive of published issues: what pages there are, and what each shows.

Every page is planned with a digest of everything it is made from (its data, the templates,
the labels); the build renders only the pages whose digest changed since the last build. What
each published issue contributes to the shared pages (topic lists, the search index) is kept
as plain data, so an unchanged issue need not be read again to plan them.
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
from newsletter.issue import IssueItem
from newsletter.issue.preheader import preheader_text
from newsletter.labels import Labels, labels_for
from newsletter.markup import summary_text
from newsletter.model import MERGE_TAGS, merge_tag
from newsletter.render import ItemView, format_day, inline_paragraphs, item_date_label, item_view
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


def settings_key(config: Config, newsletter: str) -> tuple[str, str | None]:
    """What the dates of an issue's data are written with."""
    found = config.newsletters.get(newsletter)
    return (found.language, found.date_format) if found else (config.archive.language, None)


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
    language, pattern = settings_key(config, issue.newsletter)
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
        self.issues = self._usable(issues)
        self.pages: list[Page] = []

    def _usable(self, issues: Sequence[IssueData]) -> dict[str, list[IssueData]]:
        """Published issues by newsletter, in publication order; unsafe names are left out."""
        found: dict[str, list[IssueData]] = defaultdict(list)
        for data in issues:
            if not (safe_name(data["newsletter"]) and safe_name(data["slug"])):
                self.skipped.append(f"{data['newsletter']}/{data['slug']}")
                continue
            found[data["newsletter"]].append(data)
        for listed in found.values():
            listed.sort(key=lambda d: (d["published"], d["number"], d["slug"]))
        return dict(sorted(found.items()))

    # Names and labels

    def name_of(self, slug: str) -> str:
        newsletter = self.config.newsletters.get(slug)
        return newsletter.name if newsletter else slug

    def language_of(self, slug: str) -> str:
        return settings_key(self.config, slug)[0]

    def topic_name(self, slug: str) -> str:
        topic = self.config.topics.get(slug)
        return topic.name if topic else slug

    def link(self, data: IssueData) -> IssueLink:
        language, pattern = settings_key(self.config, data["newsletter"])
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
            self._newsletter(slug, issues)
            for index, data in enumerate(issues):
                previous = issues[index - 1] if index > 0 else None
                following = issues[index + 1] if index + 1 < len(issues) else None
                self._issue(data, previous, following)
        self._topics()
        self._search()
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
        **info: str,
    ) -> None:
        """A templated page: its digest from `data` (what it shows), its context made later."""
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

    def _newsletter(self, slug: str, issues: list[IssueData]) -> None:
        by_year: dict[int, list[IssueLink]] = defaultdict(list)
        for data in reversed(issues):
            by_year[int(data["published"][:4])].append(self.link(data))
        feed = f"{slug}/feed.xml" if self.site.base_url else ""
        context = {
            "newsletter": {"slug": slug, "name": self.name_of(slug), "feed": feed},
            "years": sorted(by_year.items(), reverse=True),
            "subscribe": self.subscribe_url(slug),
        }
        path = f"{slug}/index.html"
        self._add(
            path,
            "archive/newsletter.html.j2",
            self.language_of(slug),
            self.name_of(slug),
            context,
            lambda: context,
            canonical=self.absolute(path),
            feed=feed,
            feed_title=self.name_of(slug),
        )
        if feed:
            self._feed(slug, issues)

    def _issue(
        self, data: IssueData, previous: IssueData | None, following: IssueData | None
    ) -> None:
        slug, newsletter = data["slug"], data["newsletter"]
        language = self.language_of(newsletter)
        before = self.link(previous) if previous else None
        after = self.link(following) if following else None
        topics = sorted(data["topics"])
        shown = (
            data["digest"],
            before,
            after,
            self.name_of(newsletter),
            settings_key(self.config, newsletter),
            repr(self.item_labels(newsletter, language)),
            [self.topic_name(t) for t in topics],
            self.subscribe_url(newsletter),
        )

        def make() -> dict[str, Any]:
            return {"issue": self._issue_page(self.load(data["folder"]), before, after),
                    "subscribe": self.subscribe_url(newsletter)}  # fmt: skip

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
        language, pattern = settings_key(self.config, issue.newsletter)
        labels = self.item_labels(issue.newsletter, language)

        def item(entry: IssueItem) -> ArchiveItem:
            view = item_view(entry, labels, pattern)
            topics = frozen.topics.get(entry.uid, issue.topics)
            return ArchiveItem(
                **{field.name: getattr(view, field.name) for field in fields(ItemView)},
                topics=tuple(TopicLink(t, self.topic_name(t)) for t in topics if safe_name(t)),
            )

        return IssuePage(
            newsletter_slug=issue.newsletter,
            newsletter_name=self.name_of(issue.newsletter),
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
        )

    def _feed(self, slug: str, issues: list[IssueData]) -> None:
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
                "name": self.name_of(slug),
                "url": f"{base}{slug}/",
                "language": self.language_of(slug),
            },
            "entries": entries,
            "updated": issues[-1]["published"],
        }
        path = f"{slug}/feed.xml"
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

    def _search(self) -> None:
        titles = [
            f"{self.name_of(slug)}: {data['title']}"
            for slug, issues in self.issues.items()
            for data in issues
        ]
        entries = ",".join(data["search"] for issues in self.issues.values() for data in issues)
        # {"issues": [...], "entries": [[issue 0's rows], [issue 1's rows], ...]}
        index = f'{{"issues":{_json(titles)},"entries":[{entries}]}}'.encode()
        self.pages.append(
            Page("search-index.json", hashlib.sha256(index).hexdigest(), content=lambda: index)
        )
        self._add(
            "search.html",
            "archive/search.html.j2",
            self.language,
            self.theme.labels_for(self.language).search,
            (),
            dict,
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
