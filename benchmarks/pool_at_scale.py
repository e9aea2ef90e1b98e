"""Measure the item pool at scale: ingest a generated listing of N items, then select from it.

    .venv/bin/python benchmarks/pool_at_scale.py               # 1,000,000 items
    .venv/bin/python benchmarks/pool_at_scale.py --items 20000 # a quick check
    .venv/bin/python benchmarks/pool_at_scale.py --keep        # keep the work folder

Steps, each timed:
  1. write a listing-text file of N items (fixed seed, so runs are comparable);
  2. `newsletter --config <tmp>/newsletter.toml ingest --all` in a child process
     (wall-clock time and the child's peak RSS);
  3. `Pool.select_items` for a topic over random months, in this process;
  4. `newsletter --help`, the console script's start-up time.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT_CONFIG = REPO / "newsletter.toml"
BIN = Path(sys.executable).parent  # the venv's bin/, holding the `newsletter` console script
SEED = 20201109

# Targets
INGEST_SECONDS = 60.0
INGEST_RSS_MIB = 1024.0
SELECT_MEDIAN_MS = 10.0
HELP_MEDIAN_SECONDS = 0.3

FIRST_DAY = date(1990, 1, 1)
LAST_DAY = date(2026, 12, 31)
MONTHS = tuple(calendar.month_name)[1:]  # English whatever the locale: "January".."December"
TYPES = ("News", "Article", "Brief", "Press release", "Publication", "ILO COOP 100 Interview")
TYPE_WEIGHTS = (40, 20, 10, 12, 12, 6)
SUMMARY_SHARE = 0.70

# Topic phrases, each matched by a keyword of the project's newsletter.toml, and the share of
# items carrying each (drawn independently, so some items carry several).
TOPIC_PHRASES: dict[str, tuple[float, tuple[str, ...]]] = {
    "cooperatives": (
        0.30,
        ("cooperative", "cooperatives", "co-operative", "Cooperative", "coops", "Coopérative"),
    ),
    "social-solidarity-economy": (
        0.12,
        ("social and solidarity economy", "solidarity economy", "social economy"),
    ),
    "supply-chains": (0.10, ("supply chains", "supply chain", "suppliers")),
    "informality": (0.08, ("informal economy", "informal sector", "informal workers")),
}

# Filler: none of these words, alone or side by side, matches a topic keyword.
_FILLER = """
    ILO workers employment decent work policy report youth women rural development training
    protection labour standards conference dialogue green jobs transition skills migration wages
    safety health enterprises digital platform recovery pandemic crisis future agriculture finance
    housing energy community members network partners Africa Asia Pacific Latin America Europe
    regional national global forum symposium launch study survey data statistics guide toolkit
    webinar event centenary anniversary project programme capacity building fair trade
    unions employers governments ministers inclusive growth resilience climate water fisheries
    tourism care domestic refugees indigenous peoples children equality gender pay productivity
    innovation research evidence review assessment strategy framework action plan partnership
    mission visit meeting workshop seminar course academy Geneva Turin Jordan Kenya Brazil India
    Philippines Tanzania Bolivia Uganda Rwanda Nepal Myanmar Egypt Ethiopia members' experience
    lessons practices guidance knowledge learning records archive history centennial heritage
"""
WORDS = tuple(_FILLER.split())
VERBS = ("celebrates", "launches", "supports", "reviews", "discusses", "presents", "marks")


@dataclass(frozen=True)
class Listing:
    path: Path
    items: int
    size: int
    seconds: float
    expected: dict[str, int]  # topic slug -> items generated with one of its phrases
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Ingest:
    seconds: float
    peak_rss_kib: int
    output: str


@dataclass(frozen=True)
class Selection:
    queries: int
    median_ms: float
    p95_ms: float
    max_ms: float
    median_rows: float
    provenance_median_ms: float  # the same queries with sources and dates, as `items` asks


# 1. The listing file


def _words(rng: random.Random, count: int) -> list[str]:
    return rng.choices(WORDS, k=count)


def _insert(rng: random.Random, words: list[str], phrase: str) -> None:
    words.insert(rng.randint(1, len(words)), phrase)


def _summary(rng: random.Random, phrases: list[str]) -> str:
    target = rng.randint(100, 300)
    words = [rng.choice(VERBS).capitalize(), *_words(rng, 3)]
    for phrase in phrases:
        _insert(rng, words, phrase)
    length = sum(len(w) + 1 for w in words)
    while length < target - 1:
        word = rng.choice(WORDS)
        if length + len(word) + 1 > 299:
            break
        words.append(word)
        length += len(word) + 1
    text = " ".join(words) + "."
    if rng.random() < 0.05:  # some non-ASCII, as real listings have (a curly apostrophe)
        text = text.replace(" ILO ", " ILO\u2019s ", 1)
    return text


def _title(rng: random.Random, number: int, phrases: list[str]) -> str:
    words = [w.capitalize() if i == 0 else w for i, w in enumerate(_words(rng, rng.randint(4, 9)))]
    for phrase in phrases:
        _insert(rng, words, phrase)
    return f"{' '.join(words)} ({number})"  # the number keeps every title distinct


def _date_line(day: date) -> str:
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def generate_listing(path: Path, items: int, seed: int) -> Listing:
    """Write `items` entries, newest first like a real listing page, with a fixed seed."""
    started = time.perf_counter()
    rng = random.Random(seed)
    span = LAST_DAY.toordinal() - FIRST_DAY.toordinal() + 1
    days = sorted((rng.randrange(span) for _ in range(items)), reverse=True)
    expected = dict.fromkeys(TOPIC_PHRASES, 0)
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.write("Benchmark listing: news, articles and publications\n\n")
        chunk: list[str] = []
        for number, offset in enumerate(days, start=1):
            kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
            has_summary = rng.random() < SUMMARY_SHARE
            in_title: list[str] = []
            in_summary: list[str] = []
            for slug, (share, phrases) in TOPIC_PHRASES.items():
                if rng.random() < share:
                    expected[slug] += 1
                    place = in_summary if has_summary and rng.random() < 0.6 else in_title
                    place.append(rng.choice(phrases))
            chunk.append(f"  {number}. {kind}\n\n    {_title(rng, number, in_title)}\n\n")
            chunk.append(f"    {_date_line(date.fromordinal(FIRST_DAY.toordinal() + offset))}\n\n")
            if has_summary:
                chunk.append(f"    {_summary(rng, in_summary)}\n\n")
            if len(chunk) >= 30_000:
                file.write("".join(chunk))
                chunk.clear()
        file.write("".join(chunk))
    return Listing(
        path=path,
        items=items,
        size=path.stat().st_size,
        seconds=time.perf_counter() - started,
        expected=expected,
        first_day=date.fromordinal(FIRST_DAY.toordinal() + days[-1]),
        last_day=date.fromordinal(FIRST_DAY.toordinal() + days[0]),
    )


# 2. The config and the ingest


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON strings and arrays are valid TOML


def write_config(folder: Path, listing: Path) -> Path:
    """A newsletter.toml with the project's topics and one source: the generated listing."""
    topics = tomllib.loads(PROJECT_CONFIG.read_text(encoding="utf-8")).get("topics", {})
    lines = ["[database]", 'url = "sqlite:///pool.db"', ""]
    for slug, table in topics.items():
        lines.append(f"[topics.{slug}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in table.items())
        lines.append("")
    lines += [
        "[sources.bench]",
        'title = "Benchmark listing"',
        'format = "listing"',
        f"path = {_toml(str(listing))}",
        'language = "en"',
    ]
    path = folder / "newsletter.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def clean_environment() -> dict[str, str]:
    """This environment without the variables that would point the CLI at another pool."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}


def run_ingest(config: Path, folder: Path) -> Ingest:
    """`newsletter ingest --all` in a child; its own rusage, through wait4, gives its peak RSS."""
    command = [sys.executable, "-m", "newsletter", "--config", str(config), "ingest", "--all"]
    log = folder / "ingest.log"
    with log.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=folder, env=clean_environment()
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(encoding="utf-8", errors="replace")
    if child.returncode != 0:
        sys.exit(f"ingest failed (exit {child.returncode}):\n{output}")
    return Ingest(seconds=seconds, peak_rss_kib=usage.ru_maxrss, output=output.strip())


# 3. Selection


def random_months(first: date, last: date, count: int, seed: int) -> list[tuple[date, date]]:
    rng = random.Random(seed)
    lo, hi = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    months = []
    for _ in range(count):
        year, month = divmod(rng.randint(lo, hi), 12)
        month += 1
        months.append(
            (date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
        )
    return months


def time_selection(
    config_path: Path, listing: Listing, queries: int
) -> tuple[Selection, dict[str, int]]:
    from newsletter.config import load_config
    from newsletter.model import ItemQuery
    from newsletter.pool import Pool

    config = load_config(config_path, environ=clean_environment())
    names = {slug: topic.name for slug, topic in config.topics.items()}
    months = random_months(listing.first_day, listing.last_day, queries + 5, SEED)
    times: list[float] = []
    rows: list[int] = []
    provenance_times: list[float] = []
    with Pool.open(config.database_url, names) as pool:
        stored = {"items": pool.count_items()}
        stored |= {summary.slug: summary.items for summary in pool.topic_summaries()}
        for index, (start, end) in enumerate(months):
            query = ItemQuery(start=start, end=end, topics=("cooperatives",))
            started = time.perf_counter()
            found = pool.select_items(query)
            elapsed = time.perf_counter() - started
            if index >= 5:  # the first five warm up caches and SQLAlchemy's compiled SQL
                times.append(elapsed * 1000)
                rows.append(len(found))
        for index, (start, end) in enumerate(months):
            query = ItemQuery(start=start, end=end, topics=("cooperatives",), provenance=True)
            started = time.perf_counter()
            pool.select_items(query)
            if index >= 5:
                provenance_times.append((time.perf_counter() - started) * 1000)
    selection = Selection(
        queries=len(times),
        median_ms=statistics.median(times),
        p95_ms=percentile(times, 95),
        max_ms=max(times),
        median_rows=statistics.median(rows),
        provenance_median_ms=statistics.median(provenance_times),
    )
    return selection, stored


def percentile(values: Sequence[float], percent: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * percent / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# 4. Start-up


def time_help(runs: int) -> float:
    script = BIN / "newsletter"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "newsletter"]
    command.append("--help")

    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=clean_environment())

    run()  # untimed: compiles .pyc files and warms the page cache
    return statistics.median(_timed(run) for _ in range(runs))


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# Report


def _verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def print_summary(
    listing: Listing,
    ingest: Ingest,
    database: int,
    selection: Selection,
    stored: dict[str, int],
    help_seconds: float,
    help_runs: int,
) -> None:
    mib = 1024 * 1024
    rss_mib = ingest.peak_rss_kib / 1024
    rows = [
        ("items generated", f"{listing.items:,}", "", ""),
        ("listing file size", f"{listing.size / mib:,.1f} MiB ({listing.size:,} B)", "", ""),
        ("generation time", f"{listing.seconds:.1f} s", "", ""),
        (
            "ingest wall-clock",
            f"{ingest.seconds:.1f} s",
            f"<= {INGEST_SECONDS:.0f} s",
            _verdict(ingest.seconds, INGEST_SECONDS),
        ),
        (
            "ingest peak RSS",
            f"{rss_mib:,.0f} MiB",
            f"<= {INGEST_RSS_MIB:.0f} MiB",
            _verdict(rss_mib, INGEST_RSS_MIB),
        ),
        ("ingest throughput", f"{listing.items / ingest.seconds:,.0f} items/s", "", ""),
        ("database size", f"{database / mib:,.1f} MiB", "", ""),
        (
            "items in pool",
            f"{stored.get('items', 0):,}",
            f"{listing.items:,}",
            "ok" if stored.get("items") == listing.items else "MISMATCH",
        ),
        *(
            (
                f"  tagged {slug}",
                f"{stored.get(slug, 0):,}",
                f"{expected:,}",
                "ok" if stored.get(slug) == expected else "MISMATCH",
            )
            for slug, expected in listing.expected.items()
        ),
        (
            f"select median ({selection.queries} q)",
            f"{selection.median_ms:.2f} ms",
            f"<= {SELECT_MEDIAN_MS:.0f} ms",
            _verdict(selection.median_ms, SELECT_MEDIAN_MS),
        ),
        ("select p95", f"{selection.p95_ms:.2f} ms", "", ""),
        ("select max", f"{selection.max_ms:.2f} ms", "", ""),
        ("select median rows", f"{selection.median_rows:,.0f}", "", ""),
        ("  with provenance, median", f"{selection.provenance_median_ms:.2f} ms", "", ""),
        (
            f"`newsletter --help` median ({help_runs})",
            f"{help_seconds:.3f} s",
            f"< {HELP_MEDIAN_SECONDS} s",
            _verdict(help_seconds, HELP_MEDIAN_SECONDS),
        ),
    ]
    headers = ("measure", "value", "target", "")
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print(line)
    for row in rows:
        print(
            "  ".join(
                cell.rjust(w) if i in (1, 2) else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items to generate")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--workdir", type=Path, help="work in this folder (kept) instead of a temporary one"
    )
    parser.add_argument("--queries", type=int, default=200, help="timed selection queries")
    parser.add_argument("--help-runs", type=int, default=20, help="timed `newsletter --help` runs")
    args = parser.parse_args(argv)
    if args.items < 1:
        parser.error("--items must be at least 1")

    if args.workdir:
        folder = args.workdir.resolve()
        if folder.exists():
            shutil.rmtree(folder)  # the pool must start empty
        folder.mkdir(parents=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="pool-at-scale-"))
    keep = args.keep or args.workdir is not None
    try:
        print(f"work folder: {folder}")
        print(f"generating {args.items:,} items ...", flush=True)
        listing = generate_listing(folder / "listing.txt", args.items, SEED)
        print(f"  {listing.size:,} bytes in {listing.seconds:.1f} s")
        config = write_config(folder, listing.path)
        print("ingesting ...", flush=True)
        ingest = run_ingest(config, folder)
        print(f"  {ingest.output.splitlines()[-1] if ingest.output else '(no output)'}")
        database = sum(p.stat().st_size for p in folder.glob("pool.db*"))
        print(f"selecting ({args.queries} queries) ...", flush=True)
        selection, stored = time_selection(config, listing, args.queries)
        print(f"timing `newsletter --help` ({args.help_runs} runs) ...", flush=True)
        help_seconds = time_help(args.help_runs)
        print_summary(listing, ingest, database, selection, stored, help_seconds, args.help_runs)
    finally:
        if keep:
            print(f"\nkept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
