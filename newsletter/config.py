"""Load `newsletter.toml` into frozen dataclasses; the only module that knows the file's shape."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from newsletter.errors import NewsletterError
from newsletter.files import is_workspace_path
from newsletter.formats import FORMATS
from newsletter.headers import HeaderKind, header_problem
from newsletter.tomltext import KeyPath, locate_key, parse_toml, read_toml_text

CONFIG_NAME = "newsletter.toml"
DATABASE_URL_ENV = "NEWSLETTER_DATABASE_URL"
CONFIG_ENV = "NEWSLETTER_CONFIG"
SOURCE_FORMATS = ("auto", *FORMATS)
UNDATED = ("skip", "first-seen")  # what becomes of a listing's entry without a date
SELECTOR_FIELDS = ("item", "title", "link", "date", "type", "summary", "image")
COLUMN_FIELDS = ("title", "date", "type", "summary", "url", "image", "language")
TITLE_FIELDS = ("name", "month", "year")
UNTRANSLATED = ("keep", "leave-out")
# Control characters text of several lines (an intro, a summary) may not hold: all but tab and
# line ends. Issue files are checked with the same.
NOT_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
RESERVED_NEWSLETTER_NAMES = ("new", "add", "refresh")  # `newsletter draft` subcommands
MAX_FILE_BYTES = 256 * 1024 * 1024  # [ingest] max_file_bytes, by default

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_MAILBOX = re.compile(r"^(?P<name>.*?)\s*<(?P<address>[^<>]*)>$", re.DOTALL)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """Where items come from: a file or a URL, in one of SOURCE_FORMATS ("auto": told from the
    content), with what its format needs to be read (CSS selectors, a column mapping)."""

    name: str
    format: str = "auto"
    path: Path | None = None
    url: str | None = None
    title: str | None = None
    listing_url: str | None = None
    language: str | None = None
    topics: tuple[str, ...] = ()
    default_type: str | None = None  # the type label of items whose source gives none
    date_format: str | None = None  # a strptime format, for dates no usual form fits
    undated: str = "skip"  # or "first-seen": a listing's entry without a date, dated when seen
    allow_private: bool = False  # fetch from loopback, private and link-local addresses too
    selectors: Mapping[str, str] = field(default_factory=dict)  # HTML pages: field -> CSS
    columns: Mapping[str, str] = field(default_factory=dict)  # CSV/JSON: field -> column
    # What marks an item's address as one language's ("lang--en", "lang--fr"): items whose
    # addresses differ only by them are one story in several languages.
    language_marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubscriptionsConfig:
    """`newsletter serve`: the public pages where people subscribe, confirm and leave."""

    url: str | None = None  # where it is served: <url><newsletter>/subscribe, /unsubscribe, ...
    confirm_hours: float = 72.0  # how long a confirmation link works
    requests_per_hour: int = 20  # form posts one client address may make
    # Other sites whose pages may carry the subscribe form (the archive's, by default).
    allowed_origins: tuple[str, ...] = ()

    def page_url(self, newsletter: str, page: str) -> str | None:
        """One of the pages `newsletter serve` answers for a newsletter (None: not served)."""
        return f"{self.url}{quote(newsletter)}/{page}" if self.url else None


@dataclass(frozen=True, slots=True)
class BouncesConfig:
    """`newsletter bounces read`: when a bounce suppresses, and the mailbox bounces reach."""

    soft_limit: int = 3  # soft bounces of this many issues in a row suppress the address
    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password_env: str = "NEWSLETTER_IMAP_PASSWORD"
    imap_folder: str = "INBOX"
    imap_security: str = "ssl"  # or "starttls", or "none" (a local server)


@dataclass(frozen=True, slots=True)
class FetchConfig:
    """How sources are fetched over HTTP(S): the [fetch] table."""

    timeout: float = 20.0  # seconds for a whole answer (connect, headers, body), per attempt
    max_bytes: int = 10 * 1024 * 1024
    retries: int = 2  # after the first attempt, for temporary failures only
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one
    max_redirects: int = 5
    user_agent: str | None = None  # default: newsletter/<version> (...)
    # Pictures fetched by `render --localise-images` from loopback, private and link-local
    # addresses too (an intranet's); sources have their own allow_private.
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Limits on what ingest reads from local files: the [ingest] table."""

    max_file_bytes: int = MAX_FILE_BYTES  # a bigger local file is refused before it is read


@dataclass(frozen=True, slots=True)
class DedupeConfig:
    """Near-duplicate thresholds, the [dedupe] table: title scores 0-100 (see neardupes.py)."""

    merge: bool = True  # false: nothing is merged on ingest, alike items are all listed
    merge_at: float = 85.0  # merged on ingest at or above this
    review_at: float = 70.0  # listed by `newsletter dupes` at or above this
    max_days_apart: int = 1


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """A topic of the taxonomy and the words and phrases that tag an item with it."""

    slug: str
    name: str
    keywords: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # its name in other languages

    def name_in(self, language: str) -> str:
        """Its name as a page in `language` shows it: `names`' entry, else `name`."""
        return self.names.get(language, self.name)


@dataclass(frozen=True, slots=True)
class SectionConfig:
    """A section of an issue and which items it gathers: by type label (patterns, `*` for any
    characters, case and accents ignored), or by topic."""

    title: str
    types: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    def takes_type(self, label: str) -> bool:
        folded = _fold(label)
        return any(_type_pattern(pattern).fullmatch(folded) for pattern in self.types)


def _fold(text: str) -> str:
    """Text compared without case or accents: "Communiqué" is "communique"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=256)
def _type_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in _fold(pattern).split("*")))


@dataclass(frozen=True, slots=True)
class SocialLink:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Colors:
    """The theme's palette; the dark_* ones apply where the reader's client is in dark mode."""

    primary: str = "#1e2dbe"
    text: str = "#1f2933"
    muted: str = "#5f6b7a"
    background: str = "#f2f3f5"
    content: str = "#ffffff"
    dark_primary: str = "#9db4ff"
    dark_text: str = "#e8eaed"
    dark_muted: str = "#a9b1bb"
    dark_background: str = "#121417"
    dark_content: str = "#1d2025"


@dataclass(frozen=True, slots=True)
class BrandConfig:
    """How the emails and the archive look and sign off: data, not template edits."""

    name: str = ""
    logo: str | None = None  # a PNG or JPEG of the workspace, hosted with the archive
    logo_url: str | None = None
    logo_alt: str | None = None
    logo_width: int = 160
    colors: Colors = Colors()
    body_font: str = "Helvetica, Arial, sans-serif"
    heading_font: str = "Helvetica, Arial, sans-serif"
    address: str = ""  # the organisation's postal address, which bulk mail must show
    reason: str = ""  # why the reader gets this email
    footer: str = ""
    social: tuple[SocialLink, ...] = ()


@dataclass(frozen=True, slots=True)
class SenderConfig:
    """Who an issue comes from, and the list headers that go with it."""

    from_address: str
    from_name: str = ""
    reply_to: str | None = None
    list_id: str | None = None  # e.g. "coop-enews.ilo.org": List-Id: <name> <coop-enews.ilo.org>
    unsubscribe_mailto: str | None = None  # an address that unsubscribes whoever writes to it
    utm: bool = False  # add utm_source/medium/campaign to links
    utm_source: str | None = None  # default: the newsletter's slug
    # The To: of a copy for the whole list (an .eml export): the list's own address; default
    # the From. A message without a To: scores as spam (SpamAssassin's MISSING_HEADERS).
    to_name: str = ""
    to_address: str | None = None
    # The envelope sender (MAIL FROM), where bounces go: default the From address. With
    # `verp`, each message has its own, made from its Message-ID (newsletter/verp.py).
    return_path: str | None = None
    verp: bool = False

    @property
    def domain(self) -> str:
        return self.from_address.rsplit("@", 1)[1]

    @property
    def list_recipient(self) -> tuple[str, str]:
        """(name, address) for the To: of a copy addressed to nobody in particular."""
        if self.to_address:
            return self.to_name, self.to_address
        return self.from_name, self.from_address


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """The server bulk and proof sends go through; the password only ever from the environment."""

    host: str = "127.0.0.1"
    port: int = 587
    security: str = "starttls"  # or "ssl", or "none" (a local relay)
    user: str | None = None
    password_env: str = "NEWSLETTER_SMTP_PASSWORD"
    rate: float = 10.0  # messages per second, for the whole run
    timeout: float = 30.0
    connections: int = 1  # SMTP connections a list send uses at once


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    """The web archive of published issues."""

    title: str = "Newsletter archive"
    base_url: str | None = None  # the site's address, for feeds, the sitemap, canonical links
    language: str = "en"  # of the pages that belong to no one newsletter
    address: str = ""  # shown at the foot of every page (default: the brand's address)
    brand: BrandConfig = BrandConfig()  # the workspace's [brand]: colours, fonts, logo


SMTP_SECURITY = ("starttls", "ssl", "none")
MAX_SMTP_CONNECTIONS = 16
MAX_IMAGE_BYTES = 1_000_000  # one picture, as the email links it
SIGNING_KEY_ENV = "NEWSLETTER_SIGNING_KEY"  # signs each subscriber's unsubscribe link


@dataclass(frozen=True, slots=True)
class NewsletterConfig:
    """One newsletter: its name, the topics it covers, and how its issues are titled."""

    slug: str
    name: str
    topics: tuple[str, ...]
    title_pattern: str = "{name} - {month} issue"
    language: str = "en"
    sections: tuple[SectionConfig, ...] = ()
    brand: BrandConfig = BrandConfig()
    templates: Path | None = None  # a theme folder searched before templates/default
    date_format: str | None = None  # a CLDR pattern such as "d MMMM y"; default: the long date
    archive_url: str | None = None  # where published issues live: <archive_url><slug>/
    unsubscribe_url: str | None = None  # the list's unsubscribe page
    # Its language editions: every language it is written in, the first its main one (whose
    # issue files are `<slug>.toml`; the others' `<slug>.<language>.toml`).
    languages: tuple[str, ...] = ("en",)
    untranslated: str = "keep"  # a story not in an edition's language: "keep" it, or "leave-out"
    intro: str = ""  # the boilerplate a new draft's introduction starts with
    # What each edition says differently (language -> field -> value, every language's complete,
    # so that edition() can go from any edition to any other).
    edition_fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Regular expressions for the titles of this newsletter's own past issues, which sources
    # list among their items and drafts leave out (empty: the defaults in draft.py).
    earlier_issues: tuple[str, ...] = ()
    sender: SenderConfig | None = None
    thumbnails: bool = False  # [layout] thumbnails: drafts give items their pool picture too
    max_image_bytes: int = MAX_IMAGE_BYTES  # [layout] max_image_bytes: check's limit per picture
    approval: bool = False  # publish only a version of the issue a studio reviewer approved

    def issue_url(self, slug: str) -> str | None:
        """The web page of one issue, its "View in browser" address."""
        return f"{self.archive_url}{slug}/" if self.archive_url else None

    def edition(self, language: str) -> NewsletterConfig:
        """This newsletter as its edition in `language` shows it (its own title pattern, name,
        sender, section names... where they differ); an error for a language it lacks."""
        if language not in self.languages:
            raise NewsletterError(
                f"{self.slug} has no {language!r} edition (languages: {', '.join(self.languages)})"
            )
        if language == self.language:
            return self
        return replace(self, language=language, **self.edition_fields.get(language, {}))


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, with paths already resolved against the config's folder."""

    path: Path
    database_url: str
    sources: Mapping[str, SourceConfig]
    topics: Mapping[str, TopicConfig]
    newsletters: Mapping[str, NewsletterConfig]
    smtp: SmtpConfig = SmtpConfig()
    archive: ArchiveConfig = ArchiveConfig()
    fetch: FetchConfig = FetchConfig()
    dedupe: DedupeConfig = DedupeConfig()
    ingest: IngestConfig = IngestConfig()
    subscriptions: SubscriptionsConfig = SubscriptionsConfig()
    bounces: BouncesConfig = BouncesConfig()

    @property
    def root(self) -> Path:
        return self.path.parent

    def check_topics(self, slugs: Iterable[str]) -> tuple[str, ...]:
        """The slugs, if the taxonomy has them all; else the first one it lacks is an error."""
        slugs = tuple(slugs)
        for slug in slugs:
            if slug not in self.topics:
                known = ", ".join(sorted(self.topics)) or "none configured"
                raise NewsletterError(f"unknown topic {slug!r} (topics: {known})")
        return slugs

    def source_for_path(self, path: Path) -> SourceConfig | None:
        """The configured source that reads this file, if any."""
        resolved = path.resolve()
        for source in self.sources.values():
            if source.path is not None and source.path.resolve() == resolved:
                return source
        return None


def find_config(start: Path | None = None) -> Path:
    """The `newsletter.toml` in `start` (default: the working directory) or its nearest parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise NewsletterError(
        f"no {CONFIG_NAME} in {here} or any folder above it; "
        f"create one (see README.md) or pass --config"
    )


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; `path` defaults to $NEWSLETTER_CONFIG, then a search."""
    environ = os.environ if environ is None else environ
    if path is None:
        path = Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else find_config()
    path = path.resolve()
    try:
        text = read_toml_text(path)
    except FileNotFoundError:
        raise NewsletterError("config file not found", path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise NewsletterError(f"cannot read config: {error}", path) from None
    return _ConfigReader(path, text).read(parse_toml(text, path), environ)


class _ConfigReader:
    """Turns parsed TOML into a Config, naming the file, line and key of the first problem."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.toml_text = text

    def fail(self, key: KeyPath, message: str) -> NewsletterError:
        return NewsletterError(
            f"{_dotted(key)}: {message}", self.path, locate_key(self.toml_text, key)
        )

    def read(self, data: dict[str, Any], environ: Mapping[str, str]) -> Config:
        known = {"database", "brand", "smtp", "archive", "sources", "topics", "newsletters",
                 "fetch", "dedupe", "ingest", "subscriptions", "bounces"}  # fmt: skip
        self.check_keys((), data, known)
        topics = self.read_tables("topics", data, self.read_topic)
        sources = self.read_tables("sources", data, lambda k, t: self.read_source(k, t, topics))
        brand = self.table(("brand",), data.get("brand", {}))
        shared_brand = self.read_brand((), brand, {})  # checked even if no newsletter uses it
        newsletters = self.read_tables(
            "newsletters", data, lambda k, t: self.read_newsletter(k, t, topics, brand)
        )
        archive = self.read_archive(
            self.table(("archive",), data.get("archive", {})), brand, shared_brand
        )
        subscriptions = self.read_subscriptions(
            self.table(("subscriptions",), data.get("subscriptions", {})), archive.base_url
        )
        if subscriptions.url:  # the unsubscribe page `newsletter serve` answers at
            newsletters = {
                slug: n if n.unsubscribe_url else
                replace(n, unsubscribe_url=subscriptions.page_url(slug, "unsubscribe"))
                for slug, n in newsletters.items()
            }  # fmt: skip
        return Config(
            path=self.path,
            database_url=self.read_database_url(data, environ),
            sources=sources,
            topics=topics,
            newsletters=newsletters,
            smtp=self.read_smtp(self.table(("smtp",), data.get("smtp", {}))),
            archive=archive,
            subscriptions=subscriptions,
            bounces=self.read_bounces(self.table(("bounces",), data.get("bounces", {}))),
            fetch=self.read_fetch(self.table(("fetch",), data.get("fetch", {}))),
            dedupe=self.read_dedupe(self.table(("dedupe",), data.get("dedupe", {}))),
            ingest=self.read_ingest(self.table(("ingest",), data.get("ingest", {}))),
        )

    def read_database_url(self, data: dict[str, Any], environ: Mapping[str, str]) -> str:
        table = self.table(("database",), data.get("database", {}))
        self.check_keys(("database",), table, {"url"})
        url = self.text(("database", "url"), table.get("url", "sqlite:///newsletter.db"))
        if environ.get(DATABASE_URL_ENV):  # wins over the file, as in the environment it runs in
            return resolve_database_url(environ[DATABASE_URL_ENV], Path.cwd())
        return resolve_database_url(url, self.path.parent)

    def read_tables(
        self, name: str, data: dict[str, Any], read_one: Callable[[KeyPath, dict[str, Any]], T]
    ) -> dict[str, T]:
        key = (name,)
        tables = self.table(key, data.get(name, {}))
        result = {}
        for slug, table in tables.items():
            if not _SLUG.match(slug):
                raise self.fail((*key, slug), "use lower-case letters, digits and '-' in names")
            if name == "newsletters" and slug in RESERVED_NEWSLETTER_NAMES:
                raise self.fail(
                    (*key, slug), f"{slug!r} is a word of `newsletter draft`; choose another name"
                )
            result[slug] = read_one((*key, slug), self.table((*key, slug), table))
        return result

    def read_topic(self, key: KeyPath, table: dict[str, Any]) -> TopicConfig:
        self.check_keys(key, table, {"name", "keywords", "names"})
        names = self.table((*key, "names"), table.get("names", {}))
        for language in names:
            self.language((*key, "names", language), language)
        return TopicConfig(
            slug=str(key[-1]),
            name=self.text((*key, "name"), table.get("name", str(key[-1]))),
            keywords=self.texts((*key, "keywords"), table.get("keywords", [])),
            names={code: self.text((*key, "names", code), name) for code, name in names.items()},
        )

    def read_source(
        self, key: KeyPath, table: dict[str, Any], topics: Mapping[str, TopicConfig]
    ) -> SourceConfig:
        self.check_keys(
            key,
            table,
            {"format", "path", "url", "title", "listing_url", "language", "topics",
             "default_type", "date_format", "selectors", "columns", "undated", "allow_private",
             "language_marks"},
        )  # fmt: skip
        allow_private = self.flag_value((*key, "allow_private"), table.get("allow_private", False))
        undated = self.text((*key, "undated"), table.get("undated", "skip"))
        if undated not in UNDATED:
            raise self.fail((*key, "undated"), f"expected one of {', '.join(UNDATED)}")
        source_format = self.text((*key, "format"), table.get("format", "auto"))
        if source_format not in SOURCE_FORMATS:
            raise self.fail(
                (*key, "format"),
                f"unknown format {source_format!r}; known: {', '.join(SOURCE_FORMATS)}",
            )
        if ("path" in table) == ("url" in table):
            raise self.fail(key, "give exactly one of 'path' and 'url'")
        path = None
        if "path" in table:
            path = self.path.parent / self.text((*key, "path"), table["path"])
        return SourceConfig(
            name=str(key[-1]),
            format=source_format,
            path=path,
            url=self.http_url((*key, "url"), table.get("url")),
            title=self.optional_text((*key, "title"), table.get("title")),
            listing_url=self.http_url((*key, "listing_url"), table.get("listing_url")),
            language=self.language((*key, "language"), table.get("language")),
            topics=self.topic_slugs((*key, "topics"), table.get("topics", []), topics),
            default_type=self.optional_text((*key, "default_type"), table.get("default_type")),
            date_format=self.optional_text((*key, "date_format"), table.get("date_format")),
            undated=undated,
            allow_private=allow_private,
            selectors=self.read_selectors(key, table, source_format),
            columns=self.mapping((*key, "columns"), table.get("columns", {}), COLUMN_FIELDS),
            language_marks=self.language_marks(
                (*key, "language_marks"), table.get("language_marks", [])
            ),
        )

    def language_marks(self, key: KeyPath, value: Any) -> tuple[str, ...]:
        marks = self.texts(key, value)
        if len(marks) == 1 or any(len(mark) < 3 for mark in marks):
            raise self.fail(
                key,
                "expected two or more marks of three characters or more, "
                'such as ["lang--en", "lang--fr"]',
            )
        return marks

    def read_selectors(self, key: KeyPath, table: dict[str, Any], kind: str) -> dict[str, str]:
        selectors = self.mapping((*key, "selectors"), table.get("selectors", {}), SELECTOR_FIELDS)
        if kind == "html":
            for required in ("item", "title"):
                if required not in selectors:
                    raise self.fail((*key, "selectors"),
                                    f"an HTML source needs an {required!r} selector")  # fmt: skip
        # The translation lxml.cssselect makes when the page is read, without importing lxml.
        from cssselect import HTMLTranslator, SelectorError

        for name, css in selectors.items():
            try:
                HTMLTranslator().css_to_xpath(css)
            except SelectorError as error:
                raise self.fail((*key, "selectors", name), f"not a CSS selector: {error}") from None
        return selectors

    def mapping(self, key: KeyPath, value: Any, fields: Iterable[str]) -> dict[str, str]:
        """A table of field -> text, for the given fields only."""
        table = self.table(key, value)
        self.check_keys(key, table, set(fields))
        return {name: self.text((*key, name), text) for name, text in table.items()}

    def read_fetch(self, table: dict[str, Any]) -> FetchConfig:
        key: KeyPath = ("fetch",)
        self.check_keys(key, table, set(FetchConfig.__slots__))
        default = FetchConfig()
        numbers: dict[str, Any] = {}
        for name in ("timeout", "backoff"):
            numbers[name] = self.positive((*key, name), table.get(name, getattr(default, name)))
        for name in ("max_bytes", "retries", "max_redirects"):
            numbers[name] = self.count((*key, name), table.get(name, getattr(default, name)))
        agent = self.optional_text((*key, "user_agent"), table.get("user_agent"))
        if agent is not None and not (agent.isascii() and agent.isprintable()):
            raise self.fail((*key, "user_agent"), "expected printable ASCII (an HTTP header)")
        private = self.flag_value((*key, "allow_private"), table.get("allow_private", False))
        return FetchConfig(user_agent=agent, allow_private=private, **numbers)

    def read_subscriptions(
        self, table: dict[str, Any], archive_url: str | None
    ) -> SubscriptionsConfig:
        key: KeyPath = ("subscriptions",)
        self.check_keys(key, table, set(SubscriptionsConfig.__slots__))
        default = SubscriptionsConfig()
        given = self.array((*key, "allowed_origins"), table.get("allowed_origins", []))
        origins = [self.origin((*key, "allowed_origins", i), url) for i, url in enumerate(given)]
        if archive_url and not origins:
            origins = [self.origin(("archive", "base_url"), archive_url)]
        per_hour = table.get("requests_per_hour", default.requests_per_hour)
        requests = self.count((*key, "requests_per_hour"), per_hour)
        if requests == 0:
            raise self.fail((*key, "requests_per_hour"), "expected a number above 0")
        return SubscriptionsConfig(
            url=self.folder_url((*key, "url"), table.get("url")),
            confirm_hours=self.positive(
                (*key, "confirm_hours"), table.get("confirm_hours", default.confirm_hours)
            ),
            requests_per_hour=requests,
            allowed_origins=tuple(origins),
        )

    def origin(self, key: KeyPath, value: Any) -> str:
        """The origin (scheme://host[:port]) of an http(s) URL, as a browser's Origin header
        writes it: lower case, the host in ASCII (IDNA), no default port, no user."""
        url = self.http_url(key, value)
        assert url is not None
        return web_origin(url)

    def read_bounces(self, table: dict[str, Any]) -> BouncesConfig:
        key: KeyPath = ("bounces",)
        self.check_keys(key, table, set(BouncesConfig.__slots__))
        default = BouncesConfig()
        soft = self.count((*key, "soft_limit"), table.get("soft_limit", default.soft_limit))
        if soft == 0:
            raise self.fail((*key, "soft_limit"), "expected a number of issues above 0")
        security = table.get("imap_security", default.imap_security)
        if security not in SMTP_SECURITY:
            raise self.fail((*key, "imap_security"), f"expected one of {', '.join(SMTP_SECURITY)}")
        port = table.get("imap_port", default.imap_port)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise self.fail((*key, "imap_port"), "expected a port number")
        return BouncesConfig(
            soft_limit=soft,
            imap_host=self.optional_text((*key, "imap_host"), table.get("imap_host")),
            imap_port=port,
            imap_user=self.optional_text((*key, "imap_user"), table.get("imap_user")),
            imap_password_env=self.text(
                (*key, "imap_password_env"),
                table.get("imap_password_env", default.imap_password_env),
            ),
            imap_folder=self.text(
                (*key, "imap_folder"), table.get("imap_folder", default.imap_folder)
            ),
            imap_security=security,
        )

    def read_ingest(self, table: dict[str, Any]) -> IngestConfig:
        key: KeyPath = ("ingest",)
        self.check_keys(key, table, set(IngestConfig.__slots__))
        limit = self.count((*key, "max_file_bytes"),
                           table.get("max_file_bytes", MAX_FILE_BYTES))  # fmt: skip
        if limit == 0:
            raise self.fail((*key, "max_file_bytes"), "expected a number of bytes above 0")
        return IngestConfig(max_file_bytes=limit)

    def read_dedupe(self, table: dict[str, Any]) -> DedupeConfig:
        key: KeyPath = ("dedupe",)
        self.check_keys(key, table, set(DedupeConfig.__slots__))
        default = DedupeConfig()
        scores = {}
        for name in ("merge_at", "review_at"):
            score = self.positive((*key, name), table.get(name, getattr(default, name)))
            if score > 100:
                raise self.fail((*key, name), "expected a score from 0 to 100")
            scores[name] = score
        if scores["review_at"] > scores["merge_at"]:
            raise self.fail((*key, "review_at"), "must not be above merge_at")
        days = self.count((*key, "max_days_apart"), table.get("max_days_apart", 1))
        merge = table.get("merge", True)
        if not isinstance(merge, bool):
            raise self.fail((*key, "merge"), "expected true or false")
        return DedupeConfig(merge=merge, max_days_apart=days, **scores)

    def positive(self, key: KeyPath, value: Any) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise self.fail(key, "expected a positive number")
        return float(value)

    def count(self, key: KeyPath, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(key, "expected a whole number, 0 or more")
        return value

    def read_newsletter(
        self,
        key: KeyPath,
        table: dict[str, Any],
        topics: Mapping[str, TopicConfig],
        brand: dict[str, Any],
    ) -> NewsletterConfig:
        self.check_keys(
            key,
            table,
            {"name", "topics", "title_pattern", "language", "sections", "brand", "templates",
             "date_format", "archive_url", "unsubscribe_url", "sender", "earlier_issues",
             "layout", "approval", "languages", "untranslated", "intro",
             *self.edition_keys(key, table)},
        )  # fmt: skip
        if "name" not in table:
            raise self.fail(key, "missing 'name'")
        pattern = self.text(
            (*key, "title_pattern"), table.get("title_pattern", "{name} - {month} issue")
        )
        self.check_title_pattern((*key, "title_pattern"), pattern)
        sections = self.array((*key, "sections"), table.get("sections", []))
        languages = self.edition_languages(key, table)
        language = languages[0]
        untranslated = table.get("untranslated", "keep")
        if untranslated not in UNTRANSLATED:
            raise self.fail((*key, "untranslated"), 'expected "keep" or "leave-out"')
        main = NewsletterConfig(
            slug=str(key[-1]),
            name=self.header(
                (*key, "name"), self.text((*key, "name"), table["name"]), HeaderKind.NAME
            ),
            topics=self.topic_slugs((*key, "topics"), table.get("topics", []), topics),
            title_pattern=pattern,
            language=self.header((*key, "language"), language, HeaderKind.LANGUAGE),
            sections=tuple(
                self.read_section(
                    (*key, "sections", index),
                    self.table((*key, "sections", index), section),
                    topics,
                )
                for index, section in enumerate(sections)
            ),
            brand=self.read_brand(key, brand, self.table((*key, "brand"), table.get("brand", {}))),
            templates=self.folder((*key, "templates"), table.get("templates")),
            date_format=self.optional_text((*key, "date_format"), table.get("date_format")),
            archive_url=self.folder_url((*key, "archive_url"), table.get("archive_url")),
            unsubscribe_url=self.header_url(
                (*key, "unsubscribe_url"), table.get("unsubscribe_url")
            ),
            languages=languages,
            untranslated=untranslated,
            intro=self.lines_text((*key, "intro"), table.get("intro", "")),
            earlier_issues=self.patterns((*key, "earlier_issues"), table.get("earlier_issues", [])),
            sender=self.read_sender((*key, "sender"), table.get("sender")),
            **self.read_layout((*key, "layout"), table.get("layout", {})),
            approval=self.flag_value((*key, "approval"), table.get("approval", False)),
        )
        fields = {
            language: self.edition_overrides((*key, language), table, main, language, brand)
            for language in languages
        }
        return replace(main, edition_fields=fields)

    def edition_keys(self, key: KeyPath, table: dict[str, Any]) -> list[str]:
        """The tables of the newsletter's other editions, `[newsletters.<slug>.fr]`."""
        if isinstance(table.get("editions"), list):
            raise self.fail((*key, "editions"), "one newsletter in several languages lists them "
                                                "in `languages = [\"en\", \"fr\"]`")  # fmt: skip
        languages = self.edition_languages(key, table)
        for name, value in table.items():
            if isinstance(value, dict) and is_language(name) and name not in languages[1:]:
                said = "the main language" if name == languages[0] else "not in `languages`"
                known = ", ".join(languages)
                raise self.fail((*key, name), f"a table of the {name!r} edition, but {name!r} "
                                              f"is {said} (languages: {known})")  # fmt: skip
        return list(languages[1:])

    def edition_languages(self, key: KeyPath, table: dict[str, Any]) -> tuple[str, ...]:
        if "languages" not in table:
            language = self.language((*key, "language"), table.get("language", "en")) or "en"
            return (self.header((*key, "language"), language, HeaderKind.LANGUAGE),)
        codes = self.array((*key, "languages"), table["languages"])
        languages = tuple(
            self.header((*key, "languages", i), self.language((*key, "languages", i), code) or "",
                        HeaderKind.LANGUAGE)
            for i, code in enumerate(codes)
        )  # fmt: skip
        if not languages or len(set(languages)) != len(languages):
            raise self.fail((*key, "languages"), "expected each language once, the main first")
        if "language" in table and table["language"] != languages[0]:
            raise self.fail((*key, "language"), "the main language is the first of `languages`")
        return languages

    def edition_overrides(
        self,
        key: KeyPath,
        table: dict[str, Any],
        main: NewsletterConfig,
        language: str,
        brand: dict[str, Any],
    ) -> dict[str, Any]:
        """What the edition in `language` shows (`[newsletters.<slug>.<language>]` over the
        newsletter's own): its name, title pattern, date format, intro, sender and sections."""
        own = self.table(key, table.get(language, {})) if language != main.language else {}
        self.check_keys(
            key,
            own,
            {"name", "title_pattern", "date_format", "intro", "sender", "sections", "brand"},
        )
        pattern = self.text((*key, "title_pattern"), own.get("title_pattern", main.title_pattern))
        self.check_title_pattern((*key, "title_pattern"), pattern)
        sender = main.sender
        if "sender" in own:
            base = table.get("sender") or {}
            sender = self.read_sender((*key, "sender"), {**base, **self.table(
                (*key, "sender"), own["sender"])})  # fmt: skip
        renamed = self.table((*key, "sections"), own.get("sections", {}))
        titles = [section.title for section in main.sections]
        for title in renamed:
            if title not in titles:
                known = ", ".join(titles) or "none configured"
                raise self.fail((*key, "sections", title),
                                f"no section {title!r} to rename (sections: {known})")  # fmt: skip
        name = self.text((*key, "name"), own.get("name", main.name))
        date_format = own.get("date_format", main.date_format)
        return {
            "name": self.header((*key, "name"), name, HeaderKind.NAME),
            "title_pattern": pattern,
            "date_format": self.optional_text((*key, "date_format"), date_format),
            "intro": self.lines_text((*key, "intro"), own.get("intro", main.intro)),
            "sender": sender,
            "brand": self.read_brand(
                key,
                brand,
                {
                    **self.table((*key, "brand"), table.get("brand", {})),
                    **self.table((*key, "brand"), own.get("brand", {})),
                },
            )
            if "brand" in own
            else main.brand,
            "sections": tuple(
                replace(
                    section,
                    title=self.text(
                        (*key, "sections", section.title), renamed.get(section.title, section.title)
                    ),
                )
                for section in main.sections
            ),
        }

    def lines_text(self, key: KeyPath, value: Any) -> str:
        """Text of several lines (an intro): a string, empty or not, without control
        characters but tabs and line ends (it is written into issue files as it is)."""
        if not isinstance(value, str):
            raise self.fail(key, "expected a string")
        found = NOT_IN_LINES.search(value)
        if found:
            raise self.fail(key, f"U+{ord(found.group()):04X} is a control character: remove it")
        return value.strip()

    def read_layout(self, key: KeyPath, value: Any) -> dict[str, Any]:
        """`[layout] thumbnails = true`: the items' pictures beside them, not the lead's alone;
        `max_image_bytes`: what `check` lets one picture weigh, as the email links it."""
        table = self.table(key, value)
        self.check_keys(key, table, {"thumbnails", "max_image_bytes"})
        thumbnails = self.flag_value((*key, "thumbnails"), table.get("thumbnails", False))
        limit = table.get("max_image_bytes", MAX_IMAGE_BYTES)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 10_000 <= limit <= 10**8:
            raise self.fail((*key, "max_image_bytes"), "expected a number of bytes between "
                                                       "10,000 and 100,000,000")  # fmt: skip
        return {"thumbnails": thumbnails, "max_image_bytes": limit}

    def read_sender(self, key: KeyPath, value: Any) -> SenderConfig | None:
        if value is None:
            return None
        table = self.table(key, value)
        self.check_keys(key, table, {"from", "to", "reply_to", "list_id", "unsubscribe_mailto",
                                     "utm", "utm_source", "return_path", "verp"})  # fmt: skip
        if "from" not in table:
            raise self.fail(key, "missing 'from', e.g. \"ILO COOP eNews <enews@ilo.org>\"")
        name, address = self.mailbox((*key, "from"), table["from"])
        utm = table.get("utm", False)
        if not isinstance(utm, bool):
            raise self.fail((*key, "utm"), "expected true or false")
        reply_to = table.get("reply_to")
        mailto = table.get("unsubscribe_mailto")
        to_name, to_address = (
            self.mailbox((*key, "to"), table["to"]) if "to" in table else ("", None)
        )
        list_id = self.optional_text((*key, "list_id"), table.get("list_id"))
        if list_id is not None:
            self.header((*key, "list_id"), list_id, HeaderKind.LIST_ID)
        return_path = self.return_path((*key, "return_path"), table.get("return_path"))
        return SenderConfig(
            from_address=address,
            from_name=name,
            reply_to=self.mailbox((*key, "reply_to"), reply_to)[1] if reply_to else None,
            list_id=list_id,
            unsubscribe_mailto=self.mailbox((*key, "unsubscribe_mailto"), mailto)[1]
            if mailto
            else None,
            utm=utm,
            utm_source=self.optional_text((*key, "utm_source"), table.get("utm_source")),
            to_name=to_name,
            to_address=to_address,
            return_path=return_path,
            verp=self.flag_value((*key, "verp"), table.get("verp", False)),
        )

    def return_path(self, key: KeyPath, value: Any) -> str | None:
        """A bare ASCII address: every server must take it in MAIL FROM, with or without
        SMTPUTF8, and the bounces that come back to it."""
        if value is None:
            return None
        name, address = self.mailbox(key, value)
        if name or "<" in str(value):
            raise self.fail(key, f"expected a bare address such as bounces@example.org, got "
                                 f"{value!r}")  # fmt: skip
        if not address.isascii():
            raise self.fail(key, f"expected an ASCII address, got {value!r}")
        return address

    def mailbox(self, key: KeyPath, value: Any) -> tuple[str, str]:
        """(display name, address) of "Name <address>" or a bare address, each checked for
        the header it goes into; the address by email-validator."""
        from email_validator import EmailNotValidError, validate_email

        text = self.text(key, value)
        if "\r" in text or "\n" in text:
            raise self.fail(key, "an address may not span lines")
        self.header(key, text, HeaderKind.TEXT)  # nor other controls, nor encoded words
        found = _MAILBOX.match(text)
        name, address = (found["name"], found["address"]) if found else ("", text)
        if found and name.startswith('"') and name.endswith('"') and len(name) > 1:
            name = re.sub(r"\\(.)", r"\1", name[1:-1])  # a quoted name, unquoted
        example = "such as 'Name <name@example.org>'"
        if "<" in name or ">" in name:
            raise self.fail(key, f"expected one address {example}, got {text!r}")
        self.header(key, name, HeaderKind.NAME)
        try:
            checked = validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            raise self.fail(key, f"expected an address {example}, got {text!r}: {error}") from None
        return name, self.header(key, checked.normalized, HeaderKind.ADDRESS)

    def read_archive(
        self, table: dict[str, Any], brand: dict[str, Any], shared_brand: BrandConfig
    ) -> ArchiveConfig:
        key: KeyPath = ("archive",)
        self.check_keys(key, table, {"title", "base_url", "language", "address"})
        default = ArchiveConfig()
        address = table.get("address", brand.get("address", ""))
        return ArchiveConfig(
            title=self.text((*key, "title"), table.get("title", default.title)),
            base_url=self.folder_url((*key, "base_url"), table.get("base_url")),
            language=self.language((*key, "language"), table.get("language")) or "en",
            address=self.optional_text((*key, "address"), address or None) or "",
            brand=shared_brand,
        )

    def read_smtp(self, table: dict[str, Any]) -> SmtpConfig:
        key: KeyPath = ("smtp",)
        self.check_keys(key, table, set(SmtpConfig.__slots__))
        default = SmtpConfig()
        security = table.get("security", default.security)
        if security not in SMTP_SECURITY:
            raise self.fail((*key, "security"), f"expected one of {', '.join(SMTP_SECURITY)}")
        port = table.get("port", default.port)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise self.fail((*key, "port"), "expected a port number")
        numbers = {}
        for name in ("rate", "timeout"):
            number = table.get(name, getattr(default, name))
            if not isinstance(number, int | float) or isinstance(number, bool) or number <= 0:
                raise self.fail((*key, name), "expected a positive number")
            numbers[name] = float(number)
        connections = table.get("connections", default.connections)
        if (not isinstance(connections, int) or isinstance(connections, bool)
                or not 1 <= connections <= MAX_SMTP_CONNECTIONS):  # fmt: skip
            expected = f"expected a whole number from 1 to {MAX_SMTP_CONNECTIONS}"
            raise self.fail((*key, "connections"), expected)
        return SmtpConfig(
            host=self.text((*key, "host"), table.get("host", default.host)),
            port=port,
            security=security,
            user=self.optional_text((*key, "user"), table.get("user")),
            password_env=self.text(
                (*key, "password_env"), table.get("password_env", default.password_env)
            ),
            connections=connections,
            **numbers,
        )

    def read_brand(
        self, newsletter: KeyPath, shared: dict[str, Any], own: dict[str, Any]
    ) -> BrandConfig:
        """The top-level [brand], with the newsletter's own brand keys over it."""
        keys = {"name", "logo", "logo_url", "logo_alt", "logo_width", "colors", "fonts",
                "address", "reason", "footer", "social"}  # fmt: skip
        self.check_keys(("brand",), shared, keys)
        self.check_keys((*newsletter, "brand"), own, keys)

        def key_of(name: str) -> KeyPath:
            return (*newsletter, "brand", name) if name in own else ("brand", name)

        merged = {**shared, **own}
        if "logo" in own or "logo_url" in own:  # a newsletter's own logo, in either form, wins
            merged = {k: v for k, v in merged.items() if k not in ("logo", "logo_url") or k in own}
        if merged.get("logo") and merged.get("logo_url"):
            raise self.fail(key_of("logo"), "give the logo as a file of the workspace (logo) or "
                                            "as an address (logo_url), not both")  # fmt: skip
        for nested in ("colors", "fonts"):
            merged[nested] = {**self.table(("brand", nested), shared.get(nested, {})),
                              **self.table(key_of(nested), own.get(nested, {}))}  # fmt: skip
        colors = merged["colors"]
        self.check_keys(key_of("colors"), colors, set(Colors.__slots__))
        fonts = merged["fonts"]
        self.check_keys(key_of("fonts"), fonts, {"body", "headings"})
        default = BrandConfig()
        social = self.array(key_of("social"), merged.get("social", []))
        return BrandConfig(
            name=self.optional_text(key_of("name"), merged.get("name")) or "",
            logo=self.workspace_picture(key_of("logo"), merged.get("logo")),
            logo_url=self.http_url(key_of("logo_url"), merged.get("logo_url")),
            logo_alt=self.optional_text(key_of("logo_alt"), merged.get("logo_alt")),
            logo_width=self.pixels(key_of("logo_width"), merged.get("logo_width", 160)),
            colors=Colors(
                **{
                    name: self.color((*key_of("colors"), name), value)
                    for name, value in colors.items()
                }
            ),
            body_font=self.font((*key_of("fonts"), "body"), fonts.get("body", default.body_font)),
            heading_font=self.font(
                (*key_of("fonts"), "headings"), fonts.get("headings", default.heading_font)
            ),
            address=self.optional_text(key_of("address"), merged.get("address")) or "",
            reason=self.optional_text(key_of("reason"), merged.get("reason")) or "",
            footer=self.optional_text(key_of("footer"), merged.get("footer")) or "",
            social=tuple(
                self.social((*key_of("social"), i), link) for i, link in enumerate(social)
            ),
        )

    def social(self, key: KeyPath, value: Any) -> SocialLink:
        table = self.table(key, value)
        self.check_keys(key, table, {"name", "url"})
        url = self.http_url((*key, "url"), table.get("url"))
        if url is None:
            raise self.fail(key, "missing 'url'")
        return SocialLink(self.text((*key, "name"), table.get("name")), url)

    def color(self, key: KeyPath, value: Any) -> str:
        text = self.text(key, value)
        if not re.match(r"^#(?:[0-9a-fA-F]{3}){1,2}$", text):
            raise self.fail(key, f"expected a colour such as '#1e2dbe', got {text!r}")
        return text

    def font(self, key: KeyPath, value: Any) -> str:
        text = self.text(key, value)
        if not re.match(r"^[A-Za-z0-9 ,-]+$", text):  # no quotes: it goes into CSS as it is
            raise self.fail(key, f"expected font names separated by commas, got {text!r}")
        return text

    def pixels(self, key: KeyPath, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 16 <= value <= 600:
            raise self.fail(key, "expected a width in pixels between 16 and 600")
        return value

    def folder(self, key: KeyPath, value: Any) -> Path | None:
        if value is None:
            return None
        folder = self.path.parent / self.text(key, value)
        if not folder.is_dir():
            raise self.fail(key, f"no folder {folder}")
        return folder

    def folder_url(self, key: KeyPath, value: Any) -> str | None:
        url = self.http_url(key, value)
        return url if url is None or url.endswith("/") else url + "/"

    def read_section(
        self, key: KeyPath, table: dict[str, Any], topics: Mapping[str, TopicConfig]
    ) -> SectionConfig:
        self.check_keys(key, table, {"title", "types", "topics"})
        if "title" not in table:
            raise self.fail(key, "missing 'title'")
        return SectionConfig(
            title=self.text((*key, "title"), table["title"]),
            types=self.texts((*key, "types"), table.get("types", [])),
            topics=self.topic_slugs((*key, "topics"), table.get("topics", []), topics),
        )

    def patterns(self, key: KeyPath, value: Any) -> tuple[str, ...]:
        """Regular expressions, each checked to compile."""
        found = self.texts(key, value)
        for index, pattern in enumerate(found):
            try:
                re.compile(pattern)
            except re.error as error:
                raise self.fail((*key, index), f"not a regular expression: {error}") from None
        return found

    def check_title_pattern(self, key: KeyPath, pattern: str) -> None:
        known = ", ".join("{" + field + "}" for field in TITLE_FIELDS)
        try:  # filling it in is the one check that catches every way a pattern can fail
            title = pattern.format(name="ILO COOP eNews", month="November", year=2020)
        except KeyError as error:
            raise self.fail(
                key, f"unknown placeholder {{{error.args[0]}}}; known: {known}"
            ) from None
        except IndexError:
            raise self.fail(key, f"placeholders need a name; known: {known}") from None
        except (ValueError, AttributeError, TypeError) as error:
            raise self.fail(key, f"invalid pattern: {error}") from None
        problem = header_problem(title, HeaderKind.TEXT)  # the titles are the emails' subjects
        if problem is not None:
            raise self.fail(key, f"the titles it makes: {problem}")

    # Value checks: each returns the value in its final type or raises naming the key.

    def check_keys(self, key: KeyPath, table: dict[str, Any], allowed: set[str]) -> None:
        for name in table:
            if name not in allowed:
                close = difflib.get_close_matches(name, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail((*key, name), f"unknown key{hint}")

    def table(self, key: KeyPath, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "expected a table")
        return value

    def array(self, key: KeyPath, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, "expected a list")
        return value

    def text(self, key: KeyPath, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected a non-empty string")
        return value.strip()

    def optional_text(self, key: KeyPath, value: Any) -> str | None:
        return None if value is None else self.text(key, value)

    def texts(self, key: KeyPath, value: Any) -> tuple[str, ...]:
        items = self.array(key, value)
        return tuple(self.text((*key, index), item) for index, item in enumerate(items))

    def header(self, key: KeyPath, value: str, kind: HeaderKind) -> str:
        """`value`, if it can go into a mail header as `kind`."""
        problem = header_problem(value, kind)
        if problem is not None:
            raise self.fail(key, problem)
        return value

    def header_url(self, key: KeyPath, value: Any) -> str | None:
        """An http(s) URL that can go into a mail header inside <...> (List-Unsubscribe)."""
        url = self.http_url(key, value)
        return None if url is None else self.header(key, url, HeaderKind.URL)

    def flag_value(self, key: KeyPath, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def workspace_picture(self, key: KeyPath, value: Any) -> str | None:
        """A picture's path in the workspace (whether it can be read is the render's to say)."""
        if value is None:
            return None
        path = self.text(key, value)
        if not is_workspace_path(path) or Path(path).is_absolute() or ".." in Path(path).parts:
            raise self.fail(key, f"expected a path inside the workspace such as "
                                 f"pictures/logo.png, got {path!r}")  # fmt: skip
        return path

    def http_url(self, key: KeyPath, value: Any) -> str | None:
        if value is None:
            return None
        url = self.text(key, value)
        if not re.match(r"^https?://[^\s/]+\S*$", url):
            shown = re.sub(r"(?<=//)[^/@]*@", "", url)  # a password is never printed
            raise self.fail(key, f"expected an http(s) URL, got {shown!r}")
        return url

    def language(self, key: KeyPath, value: Any) -> str | None:
        if value is None:
            return None
        code = self.text(key, value)
        if not is_language(code):
            raise self.fail(key, f"expected a language code such as 'en' or 'fr', got {code!r}")
        return code

    def topic_slugs(
        self, key: KeyPath, value: Any, topics: Mapping[str, TopicConfig]
    ) -> tuple[str, ...]:
        slugs = self.texts(key, value)
        for index, slug in enumerate(slugs):
            if slug not in topics:
                known = ", ".join(sorted(topics)) or "none defined"
                raise self.fail((*key, index), f"unknown topic {slug!r} (topics: {known})")
        return slugs


def web_origin(url: str) -> str:
    """The origin of an http(s) URL as a browser's Origin header writes it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").encode("idna").decode("ascii")
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{host}{port}"


def is_language(code: str) -> bool:
    """A language code that Babel (CLDR) knows, such as 'en', 'fr' or 'pt-BR'."""
    if len(code) > 35 or not _LANGUAGE.match(code):
        return False
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return False
    return True


def resolve_database_url(url: str, base: Path) -> str:
    """Make a relative SQLite path absolute (against `base`) and pick psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    match = re.match(r"^(sqlite(?:\+\w+)?:///)([^?]*)(.*)$", url)
    if match and match.group(2) and match.group(2) != ":memory:":
        prefix, file, query = match.groups()
        if not Path(file).is_absolute():
            file = str((base / file).resolve())
        return f"{prefix}{file}{query}"
    return url


def _dotted(key: KeyPath) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"
