"""A 50 MB listing: stored whole, with memory that does not grow with the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import NewsletterError
from newsletter.ingest import ingest_file
from newsletter.ingest.preparing import SECOND_PROCESS_FROM
from newsletter.pool import Pool
from newsletter.pool.database import SQLITE_CACHE_MIB

PEAK_RSS = (
    "import resource, runpy, sys\n"
    "sys.argv = ['newsletter', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('newsletter', run_name='__main__')\n"
    "finally:\n"
    "    print('peak-rss-kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
    " file=sys.stderr)\n"
)
SUMMARY = "Cooperatives and the social and solidarity economy in a changing world of work. " * 9


def write_listing(path: Path, megabytes: int) -> int:
    """A listing of about `megabytes` MB with distinct entries; returns the entry count."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("A very long listing\n\n")
        while out.tell() < megabytes * 1_000_000:
            count += 1
            day = 1 + count % 28
            out.write(
                f"  {count}. News\n\n    Item number {count} of a long listing\n\n"
                f"    {day:02d} November 2020\n\n    {SUMMARY}\n\n"
            )
    return count


def ingest_measured(workspace: Path, listing: Path) -> tuple[int, str]:
    """Ingest in a child process; returns its peak resident memory in KiB, and its output."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, "ingest", str(listing)],
        cwd=workspace,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    peak = next(line for line in result.stderr.splitlines() if line.startswith("peak-rss-kib"))
    return int(peak.split()[1]), result.stdout


@pytest.mark.slow
def test_a_50_mb_listing_is_stored_with_bounded_memory(workspace: Path, tmp_path: Path) -> None:
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    write_listing(small, 1)
    entries = write_listing(large, 50)
    assert large.stat().st_size >= 50_000_000

    small_peak, _ = ingest_measured(workspace, small)
    large_peak, output = ingest_measured(workspace, large)

    assert f"{entries} entries: {entries - write_listing(small, 1)} new" in output
    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        assert pool.count_items() == entries
    # Streaming: 50 times the input costs a few MB of bookkeeping, not the file's size; SQLite's
    # page cache grows with the database up to its fixed cap (PostgreSQL keeps it server-side).
    growth_mib = (large_peak - small_peak) / 1024
    cache_mib = SQLITE_CACHE_MIB if config.database_url.startswith("sqlite") else 0
    assert growth_mib < cache_mib + 24, f"peak memory grew by {growth_mib:.0f} MiB"


@pytest.mark.slow
def test_a_big_file_that_fails_late_stores_nothing(workspace: Path, tmp_path: Path) -> None:
    """Big files are read in a second process: its errors keep their file:line."""
    listing = tmp_path / "late-error.txt"
    entries = write_listing(listing, SECOND_PROCESS_FROM // 1_000_000 + 2)
    assert listing.stat().st_size > SECOND_PROCESS_FROM
    lines = len(listing.read_text("utf-8").splitlines())
    with listing.open("a", encoding="utf-8") as out:
        out.write(f"  {entries + 1}. News\n\n    Late\n\n    31 February 2020\n")
    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        with pytest.raises(NewsletterError) as caught:
            ingest_file(pool, config, listing, strict=True)
        assert (caught.value.path, caught.value.line) == (listing, lines + 5)
        assert "impossible date '31 February 2020'" in caught.value.message
        assert pool.count_items() == 0
        with listing.open("ab") as out:  # a damaged byte: not UTF-8, whatever the options
            out.write(b"\n  9999. News\n\n    \xff\n")
        with pytest.raises(NewsletterError) as caught:
            ingest_file(pool, config, listing)
        assert (caught.value.path, caught.value.line) == (listing, lines + 9)
        assert caught.value.message.startswith("not UTF-8 text")
        assert pool.count_items() == 0
