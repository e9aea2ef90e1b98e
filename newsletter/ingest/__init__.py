"""Ingest: read a source (a file, or a page or feed fetched from a URL), give each entry its
identity and topics, and store it in the pool.

Readers only read; identity, deduplication and topic tagging happen here, once, for every format.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsletter.config import Config, SourceConfig, is_language
from newsletter.errors import Finding, NewsletterError, database_failure
from newsletter.formats import FORMATS
from newsletter.ingest.dates import DEFAULT_LANGUAGES
from newsletter.ingest.documents import Document
from newsletter.ingest.formats import ReaderOptions
from newsletter.ingest.identity import normalise_url
from newsletter.ingest.preparing import ReadRequest, ReadSummary, prepare_anywhere
from newsletter.ingest.tagging import TopicRules
from newsletter.model import Source, SourceHealth, TopicOrigin, WriteCounts

if TYPE_CHECKING:  # only for types: ingest hands its rows to the pool it is given
    from newsletter.pool import Pool
    from newsletter.pool.reads import PoolReads

_URL = re.compile(r"^https?://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What ingesting one file or URL did."""

    location: Path | str  # the path, or the URL
    source: str
    format: str
    heading: str | None
    entries: int
    counts: WriteCounts
    duplicates: int  # entries repeated within the document itself
    notices: tuple[Finding, ...] = ()
    skipped: int = 0  # entries that could not be read (each named in a notice)
    not_modified: bool = False  # a fetch the server answered with 304: nothing read


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """What the editor asked for on the command line, over the source's configuration."""

    topics: tuple[str, ...] = ()  # given to every item, by hand
    language: str | None = None
    format: str | None = None  # None: the source's, else told from the content
    refetch: bool = False  # fetch whole, without asking "only if changed"
    strict: bool = False  # an entry that cannot be read refuses the whole file
    allow_private: bool = False  # URLs may lead to loopback, private and link-local addresses

    def check(self, config: Config) -> None:
        config.check_topics(self.topics)
        if self.language is not None and not is_language(self.language):
            raise NewsletterError(
                f"--lang {self.language!r}: expected a language code such as 'en'"
            )
        if self.format is not None and self.format not in FORMATS:
            known = ", ".join(FORMATS)
            raise NewsletterError(f"unknown format {self.format!r}; known: {known}")


@dataclass(frozen=True, slots=True)
class IngestResult:
    """One source of a run: what it stored, or (nothing stored) the one line saying why."""

    source: SourceConfig
    report: IngestReport | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A source as `newsletter sources` shows it: configured, read from, or both."""

    source: str
    format: str
    location: str | None
    last_read: datetime | None
    last_stored: datetime | None
    status: str  # ok | not modified | error | never read
    items: int
    skipped: int
    last_error: str | None
    in_config: bool


ByteProgress = Callable[[int], None]  # bytes of the file read so far
ProgressFor = Callable[[SourceConfig], AbstractContextManager[ByteProgress | None]]


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def source_for(config: Config, path: Path, name: str | None) -> SourceConfig:
    """The configured source a file belongs to: named, matched by path, or one made up for it."""
    if name is not None:
        return _named_source(config, name)
    configured = config.source_for_path(path)
    if configured:
        return configured
    if path.stem in config.sources:
        raise NewsletterError(
            f"{path.name} is not the file of source {path.stem!r} but has its name: give "
            f"--source {path.stem} if it is that source, or rename the file"
        )
    if len(path.stem) > 200:
        raise NewsletterError("the file name (which names its source) is too long: give --source")
    return SourceConfig(name=path.stem, path=path)


def source_for_url(config: Config, url: str, name: str | None) -> SourceConfig:
    """The configured source of a URL: named, matched by its URL, or one named after the URL."""
    if name is not None:
        return _named_source(config, name)
    wanted = normalise_url(url)
    for source in config.sources.values():
        if source.url and normalise_url(source.url) == wanted:
            return source
    parts = urlsplit(url)
    slug = re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname or ''}{parts.path}".lower()).strip("-")
    return SourceConfig(name=slug[:80].rstrip("-") or "web", url=url)


def ingest_jobs(
    config: Config, locations: Sequence[str], source_name: str | None, every_source: bool
) -> list[SourceConfig]:
    """The sources to read: each file or URL given, as its source, then every configured one."""
    jobs: list[SourceConfig] = []
    for location in locations:
        if is_url(location):
            source = source_for_url(config, location, source_name)
            jobs.append(replace(source, path=None, url=location))
        else:
            path = Path(location)
            jobs.append(replace(source_for(config, path, source_name), path=path, url=None))
    if every_source:
        jobs += config.sources.values()
    return jobs


def _named_source(config: Config, name: str) -> SourceConfig:
    if name not in config.sources:
        known = ", ".join(sorted(config.sources)) or "none configured"
        raise NewsletterError(f"unknown source {name!r} (sources: {known})")
    return config.sources[name]


def date_languages(config: Config) -> tuple[str, ...]:
    configured = [s.language for s in config.sources.values() if s.language]
    configured += [n.language for n in config.newsletters.values()]
    return tuple(dict.fromkeys([*DEFAULT_LANGUAGES, *(c.split("-")[0] for c in configured)]))


def ingest_file(
    pool: Pool,
    config: Config,
    path: Path,
    *,
    source_name: str | None = None,
    topics: Sequence[str] = (),
    language: str | None = None,
    format: str | None = None,
    strict: bool = False,
    now: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Store one file in one transaction: its readable entries, or (on an error, or with
    `strict` at an unreadable entry) none of it."""
    options = IngestOptions(tuple(topics), language, format, strict=strict)
    options.check(config)
    source = source_for(config, path, source_name)
    return _ingest(pool, config, source, Document.from_path(path), options, now, on_progress)


def ingest_url(
    pool: Pool,
    config: Config,
    url: str,
    *,
    source_name: str | None = None,
    options: IngestOptions | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Fetch a page or feed and store it like a file; a 304 (not changed) stores nothing."""
    source = replace(source_for_url(config, url, source_name), url=url, path=None)
    return ingest_source(pool, config, source, options or IngestOptions(), now)


def ingest_source(
    pool: Pool, config: Config, source: SourceConfig, options: IngestOptions,
    now: datetime | None = None, on_progress: Callable[[int], None] | None = None,
) -> IngestReport:  # fmt: skip
    """Read a source, from its file or its URL."""
    options.check(config)
    if source.url is None:
        assert source.path is not None
        document = Document.from_path(source.path)
        return _ingest(pool, config, source, document, options, now, on_progress)
    from newsletter.ingest.fetch import Validators, fetch
    from newsletter.ingest.netguard import without_credentials

    shown = without_credentials(source.url)  # what is printed and stored
    record = _record(config, source, shown, options)
    known = None if options.refetch else pool.fetch_validators(record)
    try:
        fetched = fetch(
            source.url,
            validators=Validators(*known) if known else None,
            settings=config.fetch,
            allow_private=source.allow_private or options.allow_private,
        )
    except NewsletterError as error:
        _failed(pool, config, record, _problem(error), now)
        raise
    if fetched.document is None:
        pool.record_source_status(record, "not modified", None, now, create=False)
        return IngestReport(shown, source.name, record.format, None, 0, WriteCounts(), 0,
                            not_modified=True)  # fmt: skip
    record = replace(
        record, etag=fetched.validators.etag, last_modified=fetched.validators.last_modified
    )
    return _ingest(pool, config, source, fetched.document, options, now, None, record)


def ingest_sources(
    pool: Pool,
    config: Config,
    sources: Sequence[SourceConfig],
    options: IngestOptions,
    *,
    progress: ProgressFor | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Read each source in turn: one that fails stores nothing, and stops none of the others."""
    results = []
    for source in sources:
        result = _ingest_one(pool, config, source, options, progress, alone=len(sources) == 1)
        results.append(result)
        if on_result:
            on_result(result)
    marks = sorted({mark for source in sources for mark in source.language_marks})
    if marks:  # one story's versions in several languages, linked by their addresses
        pool.link_by_marks(marks)
    pool.optimise()
    failed = sum(result.error is not None for result in results)
    if failed:
        raise NewsletterError(f"{failed} of {len(sources)} sources failed; the others were stored")
    return results


def _ingest_one(
    pool: Pool, config: Config, source: SourceConfig, options: IngestOptions,
    progress: ProgressFor | None, alone: bool,
) -> IngestResult:  # fmt: skip
    """One source of a run; an error that is not the only source's is its result's line."""
    try:
        with progress(source) if progress else nullcontext(None) as on_progress:
            report = ingest_source(pool, config, source, options, on_progress=on_progress)
    except NewsletterError as error:
        if alone:
            message = f"{error.message} (nothing stored)"
            raise NewsletterError(message, error.path, error.line) from None
        return IngestResult(source, error=str(error))
    except Exception as error:
        # One source the database refuses (or a bug in one reader) must not keep the
        # others from being read: say which, in one line, and go on.
        if alone:
            raise
        problem = database_failure(error) or f"{type(error).__name__}: {error}"
        where = source.url or str(source.path)
        return IngestResult(source, error=f"{where}: {problem.splitlines()[0]}")
    return IngestResult(source, report)


def source_statuses(pool: Pool, config: Config) -> list[SourceStatus]:
    """Every configured source, then every other the pool has read, each with its health."""
    health = {record.name: record for record in pool.source_health()}
    names = [*config.sources, *sorted(set(health) - set(config.sources))]
    return [_status(name, config.sources.get(name), health.get(name)) for name in names]


def failing_sources(statuses: Sequence[SourceStatus]) -> list[str]:
    """The sources whose last read failed (for `sources --check`)."""
    return [status.source for status in statuses if status.status == "error"]


@dataclass(frozen=True, slots=True)
class TopicStatus:
    """A topic of the pool with its items, and its keywords if the config still has it."""

    slug: str
    name: str
    items: int
    keywords: tuple[str, ...]
    in_config: bool


def topic_statuses(pool: PoolReads, config: Config) -> list[TopicStatus]:
    """The pool's topics, each with how many items carry it and its keywords in the config."""
    return [
        TopicStatus(
            topic.slug, topic.name, topic.items,
            tuple(config.topics[topic.slug].keywords) if topic.slug in config.topics else (),
            topic.slug in config.topics,
        )
        for topic in pool.topic_summaries()
    ]  # fmt: skip


def _status(
    name: str, configured: SourceConfig | None, record: SourceHealth | None
) -> SourceStatus:
    where = record.location if record else None
    if configured is not None:
        where = configured.url or str(configured.path)
    return SourceStatus(
        source=name,
        format=record.format if record else configured.format if configured else "",
        location=where,
        last_read=record.last_fetched if record else None,
        last_stored=record.last_ingested if record else None,
        status=(record.status or "ok") if record else "never read",
        items=record.items if record else 0,
        skipped=record.skipped if record else 0,
        last_error=record.error if record else None,
        in_config=configured is not None,
    )


def _problem(error: NewsletterError) -> str:
    """An error as a source's health shows it: the source says where; the line, what."""
    return error.message if error.line is None else f"line {error.line}: {error.message}"


def _reading(config: Config, source: SourceConfig, options: IngestOptions) -> ReadRequest:
    """How to read the source (without the document, which comes later)."""
    return ReadRequest(
        document=Document(name=""),
        options=ReaderOptions(
            format=options.format or (None if source.format == "auto" else source.format),
            base_url=source.listing_url,
            default_type=source.default_type,
            date_format=source.date_format,
            selectors=dict(source.selectors),
            columns=dict(source.columns),
            language=options.language,
            strict=options.strict,
            undated=source.undated,
        ),
        date_languages=date_languages(config),
        language=source.language,
        topics=tuple(config.topics.values()),
        max_file_bytes=config.ingest.max_file_bytes,
    )


def _record(config: Config, source: SourceConfig, location: str, options: IngestOptions) -> Source:
    reading = _reading(config, source, options)
    said = repr((reading.options, reading.language, reading.date_languages, reading.topics))
    return Source(
        name=source.name,
        format=options.format or source.format,
        location=location,
        title=source.title,
        listing_url=source.listing_url,
        language=source.language,
        read_options=hashlib.sha256(said.encode()).hexdigest()[:16],
    )


def _failed(pool: Pool, config: Config, record: Source, problem: str, now: datetime | None) -> None:
    """Record a failed read, for `newsletter sources`: of a configured source, or of one the
    pool has items from; a mistyped file name or URL makes no source."""
    create = record.name in config.sources
    pool.record_source_status(record, "error", problem, now, create=create)


def _ingest(
    pool: Pool,
    config: Config,
    source: SourceConfig,
    document: Document,
    options: IngestOptions,
    now: datetime | None,
    on_progress: Callable[[int], None] | None,
    record: Source | None = None,
) -> IngestReport:
    request = replace(_reading(config, source, options), document=document)
    record = record or _record(config, source, str(document.name), options)
    rules = TopicRules(config.topics.values())
    pool.ensure_topics({slug: topic.name for slug, topic in config.topics.items()})
    counts = WriteCounts()
    try:
        with pool.writer(
            record,
            source_topics=source.topics,
            manual_topics=options.topics,
            tagger=rules.match,
            dedupe=config.dedupe,
            now=now,
        ) as writer:
            for element in prepare_anywhere(request):
                if isinstance(element, ReadSummary):
                    summary = element
                    break
                counts += writer.write(element.items)
                if on_progress:
                    on_progress(element.bytes_read)
            writer.set_format(summary.format, summary.skipped)
    except NewsletterError as error:
        _failed(pool, config, record, _problem(error), now)
        raise
    except Exception as error:  # a database's refusal, or a bug: health shows it too
        _failed(pool, config, record, f"{type(error).__name__}: {error}".splitlines()[0], now)
        raise
    return IngestReport(
        location=document.name,
        source=source.name,
        format=summary.format,
        heading=summary.heading,
        entries=summary.entries,
        counts=counts,
        duplicates=summary.duplicates,
        notices=summary.notices,
        skipped=summary.skipped,
    )


def retag(pool: Pool, config: Config) -> tuple[int, int]:
    """Re-apply the taxonomy's rules and the sources' default topics; manual tags stay."""
    rules = TopicRules(config.topics.values())
    pool.ensure_topics({slug: topic.name for slug, topic in config.topics.items()})
    source_topics = {name: source.topics for name, source in config.sources.items()}

    def derived(title: str, summary: str, sources: Sequence[str]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = {
            (slug, TopicOrigin.RULE) for slug in rules.match(title, summary)
        }
        for name in sources:
            found |= {(slug, TopicOrigin.SOURCE) for slug in source_topics.get(name, ())}
        return found

    return pool.retag(derived)
