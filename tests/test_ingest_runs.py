"""ingest_sources: the run the `ingest` command hands over, one result record per source."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.ingest import IngestOptions, IngestResult, ingest_jobs, ingest_sources
from newsletter.pool import Pool


def test_a_failing_source_among_several_stores_nothing_and_stops_no_other(
    config: Config, pool: Pool, workspace: Path
) -> None:
    good = next(source for source in config.sources.values() if source.path)
    (workspace / "broken.json").write_text("{ not json")
    jobs = ingest_jobs(config, [str(good.path), "broken.json"], None, every_source=False)
    seen: list[IngestResult] = []
    with pytest.raises(NewsletterError, match="1 of 2 sources failed; the others were stored"):
        ingest_sources(pool, config, jobs, IngestOptions(), on_result=seen.append)
    assert [result.report is not None for result in seen] == [True, False]
    assert seen[1].error is not None
    assert "broken.json" in seen[1].error
    assert pool.count_items() > 0


def test_a_single_failing_source_is_the_commands_error(config: Config, pool: Pool) -> None:
    jobs = ingest_jobs(config, ["missing.txt"], None, every_source=False)
    with pytest.raises(NewsletterError, match=r"\(nothing stored\)$"):
        ingest_sources(pool, config, jobs, IngestOptions())


def test_every_source_follows_the_files_given(config: Config) -> None:
    jobs = ingest_jobs(config, ["a.txt", "https://example.org/news"], None, every_source=True)
    assert [job.path for job in jobs[:2]] == [Path("a.txt"), None]
    assert jobs[1].url == "https://example.org/news"
    assert len(jobs) == 2 + len(config.sources)
