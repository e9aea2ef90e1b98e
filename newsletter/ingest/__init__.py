"""Ingest: read a source file, give each entry its identity and topics, store it in the pool.

Readers only read; identity, deduplication and topic tagging happen here, once, for every format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from newsletter.config import Config, SourceConfig, is_language
from newsletter.errors import NewsletterError, Notice
from newsletter.ingest.dates import DEFAULT_LANGUAGES
from newsletter.ingest.preparing import ReadRequest, ReadSummary, prepare_anywhere
from newsletter.ingest.tagging import TopicRules
from newsletter.model import Source, TopicOrigin, WriteCounts
from newsletter.pool import Pool


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What ingesting one file did."""

    path: Path
    source: str
    heading: str | None
    entries: int
    counts: WriteCounts
    duplicates: int  # entries repeated within the file itself
    notices: tuple[Notice, ...] = ()


def source_for(config: Config, path: Path, name: str | None) -> SourceConfig:
    """The configured source a file belongs to: named, matched by path, or one made up for it."""
    if name is not None:
        if name not in config.sources:
            known = ", ".join(sorted(config.sources)) or "none configured"
            raise NewsletterError(f"unknown source {name!r} (sources: {known})")
        return config.sources[name]
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
    return SourceConfig(name=path.stem, format="listing", path=path)


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
    now: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Store one listing file in one transaction: all of it, or (on an error) none of it."""
    config.check_topics(topics)
    if language is not None and not is_language(language):
        raise NewsletterError(f"--lang {language!r}: expected a language code such as 'en'")
    source = source_for(config, path, source_name)
    request = ReadRequest(
        path=path,
        date_languages=date_languages(config),
        language=language or source.language,
        topics=tuple(config.topics.values()),
    )
    record = Source(
        name=source.name,
        format=source.format,
        location=str(path),
        title=source.title,
        listing_url=source.listing_url,
        language=source.language,
    )
    rules = TopicRules(config.topics.values())
    pool.ensure_topics({slug: topic.name for slug, topic in config.topics.items()})
    counts = WriteCounts()
    with pool.writer(
        record, source_topics=source.topics, manual_topics=topics, tagger=rules.match, now=now
    ) as writer:
        for element in prepare_anywhere(request):
            if isinstance(element, ReadSummary):
                summary = element
                break
            counts += writer.write(element.items)
            if on_progress:
                on_progress(element.bytes_read)
    return IngestReport(
        path=path,
        source=source.name,
        heading=summary.heading,
        entries=summary.entries,
        counts=counts,
        duplicates=summary.duplicates,
        notices=summary.notices,
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
