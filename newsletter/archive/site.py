"""The static web archive of published issues: what pages there are, and their data.

Every page is planned with a digest of everything it is made from (its data, the templates,
the labels); `archive.build` renders only the pages whose digest changed since the last build.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from newsletter.archive.publish import FrozenIssue
from newsletter.config import Config, NewsletterConfig
from newsletter.issue import IssueItem
from newsletter.render import format_day, link_of, paragraphs
from newsletter.render.theme import Theme

FEED_ENTRIES = 50
SEARCH_SUMMARY = 200  # characters of each summary in the search index
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def safe_name(name: str) -> bool:
    """A slug that is one plain path segment: no way out of the site's folder."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name


@dataclass(frozen=True, slots=True)
class Page:
    """One file of the site: a template and its context, or bytes to copy."""

    path: str  # relative to the site's root, always below it
    digest: str
    template: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    content: bytes | None = None


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
class ArchiveItem:
    uid: str
    type: str
    title: str
    date: str
    date_label: str
    summary: tuple[str, ...]
    link: str | None
    topics: tuple[TopicLink, ...]


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


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def issue_url(newsletter: str, slug: str) -> str:
    return f"{newsletter}/{slug}/index.html"


class SitePlan:
    """Every page of the archive for a set of published issues."""

    def __init__(self, config: Config, theme: Theme, issues: Sequence[FrozenIssue]):
        self.config = config
        self.theme = theme
        self.site = SiteInfo(config.archive.title, config.archive.address, config.archive.base_url)
        self.language = config.archive.language
        self.templates = theme.digest()
        self.skipped: list[str] = []
        self.issues = self._usable(issues)
        self.pages: list[Page] = []

    def _usable(self, issues: Sequence[FrozenIssue]) -> dict[str, list[FrozenIssue]]:
        """Published issues by newsletter, in publication order; unsafe names are left out."""
        found: dict[str, list[FrozenIssue]] = defaultdict(list)
        for frozen in issues:
            if not (safe_name(frozen.issue.newsletter) and safe_name(frozen.issue.slug)):
                self.skipped.append(frozen.key)
                continue
            found[frozen.issue.newsletter].append(frozen)
        for listed in found.values():
            listed.sort(key=lambda f: (f.published, f.number, f.issue.slug))
        return dict(sorted(found.items()))

    def newsletter(self, slug: str) -> NewsletterConfig | None:
        return self.config.newsletters.get(slug)

    def name_of(self, slug: str) -> str:
        newsletter = self.newsletter(slug)
        return newsletter.name if newsletter else slug

    def language_of(self, slug: str) -> str:
        newsletter = self.newsletter(slug)
        return newsletter.language if newsletter else self.language

    def date_label(self, day: date, language: str, newsletter: str | None = None) -> str:
        found = self.newsletter(newsletter) if newsletter else None
        return format_day(day, language, found.date_format if found else None)

    def topic_name(self, slug: str) -> str:
        topic = self.config.topics.get(slug)
        return topic.name if topic else slug

    def link(self, frozen: FrozenIssue) -> IssueLink:
        language = self.language_of(frozen.issue.newsletter)
        return IssueLink(
            title=frozen.issue.title,
            url=issue_url(frozen.issue.newsletter, frozen.issue.slug),
            number=frozen.number,
            date=frozen.published.isoformat(),
            date_label=self.date_label(frozen.published, language, frozen.issue.newsletter),
            items=len(frozen.issue.items),
        )

    def absolute(self, path: str) -> str:
        base = self.site.base_url or ""
        return base + path.removesuffix("index.html")

    # Planning

    def plan(self) -> list[Page]:
        self.pages = []
        self._home()
        for slug, issues in self.issues.items():
            self._newsletter(slug, issues)
            for index, frozen in enumerate(issues):
                previous = issues[index - 1] if index > 0 else None
                following = issues[index + 1] if index + 1 < len(issues) else None
                self._issue(frozen, previous, following)
        self._topics()
        self._search()
        self._static()
        self._add("404.html", "archive/404.html.j2", self.language, "", {})
        if self.site.base_url:
            self._sitemap()
        return self.pages

    def _add(
        self,
        path: str,
        template: str,
        language: str,
        title: str,
        context: dict[str, Any],
        **info: str,
    ) -> None:
        depth = path.count("/")
        page = PageInfo(title=title or self.site.title, language=language, **info)
        full = {
            "site": self.site,
            "page": page,
            "root": "../" * depth,
            "labels": self.theme.labels_for(language),
            **context,
        }
        self.pages.append(Page(path, _digest(self.templates, path, template, full), template, full))

    def _home(self) -> None:
        entries = []
        for slug, issues in self.issues.items():
            latest = self.link(issues[-1]) if issues else None
            entries.append(
                {"slug": slug, "name": self.name_of(slug), "count": len(issues), "latest": latest}
            )
        self._add(
            "index.html",
            "archive/home.html.j2",
            self.language,
            self.site.title,
            {"newsletters": entries},
            canonical=self.absolute("index.html"),
        )

    def _newsletter(self, slug: str, issues: list[FrozenIssue]) -> None:
        by_year: dict[int, list[IssueLink]] = defaultdict(list)
        for frozen in reversed(issues):
            by_year[frozen.published.year].append(self.link(frozen))
        feed = f"{slug}/feed.xml" if self.site.base_url else ""
        context = {
            "newsletter": {"slug": slug, "name": self.name_of(slug), "feed": feed},
            "years": sorted(by_year.items(), reverse=True),
        }
        path = f"{slug}/index.html"
        self._add(
            path,
            "archive/newsletter.html.j2",
            self.language_of(slug),
            self.name_of(slug),
            context,
            canonical=self.absolute(path),
            feed=feed,
            feed_title=self.name_of(slug),
        )
        if feed:
            self._feed(slug, issues)

    def _archive_item(self, frozen: FrozenIssue, item: IssueItem, language: str) -> ArchiveItem:
        topics = frozen.topics.get(item.uid, frozen.issue.topics)
        return ArchiveItem(
            uid=item.uid,
            type=item.type,
            title=item.title,
            date=item.date.isoformat(),
            date_label=self.date_label(item.date, language, frozen.issue.newsletter),
            summary=paragraphs(item.summary),
            link=link_of(item),  # http(s) only: anything else is dropped
            topics=tuple(TopicLink(t, self.topic_name(t)) for t in topics if safe_name(t)),
        )

    def _issue(
        self, frozen: FrozenIssue, previous: FrozenIssue | None, following: FrozenIssue | None
    ) -> None:
        issue = frozen.issue
        language = self.language_of(issue.newsletter)
        page = IssuePage(
            newsletter_slug=issue.newsletter,
            newsletter_name=self.name_of(issue.newsletter),
            title=issue.title,
            number=frozen.number,
            published=frozen.published.isoformat(),
            published_label=self.date_label(frozen.published, language, issue.newsletter),
            intro=paragraphs(issue.intro),
            lead=self._archive_item(frozen, issue.lead, language) if issue.lead else None,
            sections=tuple(
                ArchiveSection(
                    s.title, tuple(self._archive_item(frozen, i, language) for i in s.items)
                )
                for s in issue.sections
            ),
            previous=self.link(previous) if previous else None,
            next=self.link(following) if following else None,
        )
        path = issue_url(issue.newsletter, issue.slug)
        self._add(
            path,
            "archive/issue.html.j2",
            language,
            issue.title,
            {"issue": page},
            description=issue.preheader,
            canonical=self.absolute(path),
        )
        email = frozen.folder / "email.html"
        self.pages.append(
            Page(
                f"{issue.newsletter}/{issue.slug}/email.html",
                frozen.digest,
                content=email.read_bytes(),
            )
        )

    def _feed(self, slug: str, issues: list[FrozenIssue]) -> None:
        base = self.absolute("")
        entries = [
            {
                "title": f.issue.title,
                "url": f"{base}{slug}/{f.issue.slug}/",
                "date": f.published.isoformat(),
                "summary": f.issue.preheader,
            }
            for f in reversed(issues[-FEED_ENTRIES:])
        ]
        context = {
            "newsletter": {
                "name": self.name_of(slug),
                "url": f"{base}{slug}/",
                "language": self.language_of(slug),
            },
            "entries": entries,
            "updated": issues[-1].published.isoformat(),
        }
        path = f"{slug}/feed.xml"
        self.pages.append(
            Page(path, _digest(self.templates, path, context), "archive/feed.xml.j2", context)
        )

    def _found(self) -> dict[str, list[FoundItem]]:
        """Every item of every issue under each of its topics, newest first."""
        found: dict[str, list[FoundItem]] = defaultdict(list)
        for slug, issues in self.issues.items():
            language = self.language_of(slug)
            for frozen in issues:
                url = issue_url(slug, frozen.issue.slug)
                for item in frozen.issue.items:
                    entry = FoundItem(
                        title=item.title,
                        url=f"{url}#item-{item.uid}",
                        type=item.type,
                        date=item.date.isoformat(),
                        date_label=self.date_label(item.date, language, slug),
                        issue_title=frozen.issue.title,
                        issue_url=url,
                    )
                    for topic in frozen.topics.get(item.uid, frozen.issue.topics):
                        if safe_name(topic):
                            found[topic].append(entry)
        for entries in found.values():
            entries.sort(key=lambda e: (e.date, e.url), reverse=True)
        return dict(sorted(found.items()))

    def _topics(self) -> None:
        found = self._found()
        topics = [
            TopicLink(slug, self.topic_name(slug), len(entries)) for slug, entries in found.items()
        ]
        self._add(
            "topics/index.html",
            "archive/topics.html.j2",
            self.language,
            self.theme.labels_for(self.language).topics,
            {"topics": topics},
        )
        for topic in topics:
            entries = found[topic.slug]
            by_year: dict[str, list[FoundItem]] = defaultdict(list)
            for entry in entries:
                by_year[entry.date[:4]].append(entry)
            years = sorted(((y, len(e)) for y, e in by_year.items()), reverse=True)
            latest = years[0][0]
            base = {"topic": topic, "years": years}
            self._add(
                f"topics/{topic.slug}/index.html",
                "archive/topic.html.j2",
                self.language,
                topic.name,
                {**base, "year": None, "shown_year": latest, "items": by_year[latest]},
            )
            for year, _ in years:
                self._add(
                    f"topics/{topic.slug}/{year}/index.html",
                    "archive/topic.html.j2",
                    self.language,
                    f"{topic.name} · {year}",
                    {**base, "year": year, "shown_year": year, "items": by_year[year]},
                )

    def _search(self) -> None:
        titles: list[str] = []
        entries: list[list[Any]] = []
        for slug, issues in self.issues.items():
            for frozen in issues:
                url = issue_url(slug, frozen.issue.slug)
                label = f"{self.name_of(slug)}: {frozen.issue.title}"
                titles.append(label)
                number = len(titles) - 1
                entries.append(
                    [
                        url,
                        frozen.published.isoformat(),
                        frozen.issue.title,
                        frozen.issue.preheader,
                        number,
                    ]
                )
                for item in frozen.issue.items:
                    entries.append(
                        [
                            f"{url}#item-{item.uid}",
                            item.date.isoformat(),
                            item.title,
                            item.summary[:SEARCH_SUMMARY],
                            number,
                        ]
                    )
        index = json.dumps(
            {"issues": titles, "entries": entries},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        self.pages.append(Page("search-index.json", _digest(index), content=index))
        self._add(
            "search.html",
            "archive/search.html.j2",
            self.language,
            self.theme.labels_for(self.language).search,
            {},
        )

    def _static(self) -> None:
        for name, data in self.theme.archive_assets().items():
            self.pages.append(Page(f"assets/{name}", _digest(data), content=data))

    def _sitemap(self) -> None:
        urls = [self.absolute(page.path) for page in self.pages if page.path.endswith("index.html")]
        context = {"urls": sorted(urls)}
        self.pages.append(
            Page("sitemap.xml", _digest(self.templates, context), "archive/sitemap.xml.j2", context)
        )


def plan_site(config: Config, theme: Theme, issues: Iterable[FrozenIssue]) -> SitePlan:
    plan = SitePlan(config, theme, list(issues))
    plan.plan()
    return plan
