"""Ingest: read a source file, give each entry its identity and topics, store it in the pool.

Readers only read; identity, deduplication and topic tagging happen here, once, for every format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TypeVar

from newsletter.config import Config, SourceConfig
from newsletter.errors import NewsletterError, Notice
from newsletter.ingest.dates import DEFAULT_LANGUAGES, DateReader
from newsletter.ingest.identity import fingerprint, item_uid
from newsletter.ingest.listing import ListingReader
from newsletter.ingest.tagging import TopicRules
from newsletter.model import IncomingItem, Source, TopicOrigin, WriteCounts
from newsletter.pool import Pool

BATCH_SIZE = 2000
T = TypeVar("T")


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


def _batched(iterable: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def source_for(config: Config, path: Path, name: str | None) -> SourceConfig:
    """The configured source a file belongs to: named, matched by path, or one made up for it."""
    if name is not None:
        if name not in config.sources:
            known = ", ".join(sorted(config.sources)) or "none configured"
            raise NewsletterError(f"unknown source {name!r} (sources: {known})")
        return config.sources[name]
    return config.source_for_path(path) or SourceConfig(name=path.stem, format="listing", path=path)


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
    source = source_for(config, path, source_name)
    reader = ListingReader(path, DateReader(date_languages(config)), language or source.language)
    rules = TopicRules(config.topics.values())
    record = Source(
        name=source.name,
        format=source.format,
        location=str(path),
        title=source.title,
        listing_url=source.listing_url,
        language=source.language,
    )
    seen: set[int] = set()
    entries = duplicates = 0
    counts = WriteCounts()
    with pool.writer(
        record, source_topics=source.topics, manual_topics=topics, tagger=rules.match, now=now
    ) as writer:
        for batch in _batched(reader, BATCH_SIZE):
            incoming = []
            for entry in batch:
                uid = item_uid(entry)
                if int(uid, 16) in seen:
                    duplicates += 1
                    continue
                seen.add(int(uid, 16))
                incoming.append(IncomingItem(uid, fingerprint(entry), entry))
            entries += len(batch)
            counts += writer.write(incoming)
            if on_progress:
                on_progress(reader.bytes_read)
    return IngestReport(
        path=path,
        source=source.name,
        heading=reader.heading,
        entries=entries,
        counts=counts,
        duplicates=duplicates,
        notices=tuple(reader.notices),
    )


def retag(pool: Pool, config: Config) -> tuple[int, int]:
    """Re-apply the taxonomy's rules and the sources' default topics; manual tags stay."""
    rules = TopicRules(config.topics.values())
    source_topics = {name: source.topics for name, source in config.sources.items()}

    def derived(title: str, summary: str, sources: Sequence[str]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = {
            (slug, TopicOrigin.RULE) for slug in rules.match(title, summary)
        }
        for name in sources:
            found |= {(slug, TopicOrigin.SOURCE) for slug in source_topics.get(name, ())}
        return found

    return pool.retag(derived)
