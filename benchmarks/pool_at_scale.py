"""Measure the item pool at scale: ingest a generated listing of N items, then select from it.

    .venv/bin/python benchmarks/pool_at_scale.py                # 1,000,000 items, 2 rounds
    .venv/bin/python benchmarks/pool_at_scale.py --items 200000 # a quicker check
    .venv/bin/python benchmarks/pool_at_scale.py --rounds 3     # more rounds, steadier medians
    .venv/bin/python benchmarks/pool_at_scale.py --keep         # keep the work folder

Steps, each timed:
  1. write a listing-text file of N items (fixed seed, so runs are comparable);
  2. `--rounds` rounds, each running, in child processes and in alternating order, the two
     things compared:
     a. the ingest: `newsletter --config <tmp>/newsletter.toml ingest --all` into an empty pool,
        timed from the child's start to its exit (interpreter start, imports, migrations,
        reading, writing, commit: what an editor waits for);
     b. the bare insert of the same rows (see below);
     medians over the rounds, and the ratio ingest / bare insert;
  3. `Pool.select_items` for a topic over random months, in this process;
  4. `newsletter --help`, the console script's start-up time.

The bare insert. After the first ingest, every row it wrote to the three tables that grow with
the listing is read back from its pool, untimed, and pickled: `items` (uid, type, title, date,
summary, url, language, image, image_credit, first_seen, updated; 1 row per entry),
`item_sources` (item_id, source_id, fingerprint, first_seen; 1 per entry) and `item_topics`
(item_id, topic_id, origin; one per topic an item carries). A child process then makes a fresh
database with the project's migrations and the project's engine (`open_engine`: the same
pragmas as the pool), copies the `sources` and `topics` rows (a handful), loads the pickle and
turns the rows into dicts; only then does its timer start. Timed: one transaction (BEGIN
IMMEDIATE, as the pool's writers take it) holding three SQLAlchemy Core executemany calls,
`connection.execute(insert(table), rows)`, in id order so the ids come out the same, and the
commit. That is the least a program storing these rows through SQLAlchemy Core has to do: no
reading, parsing, hashing, tagging, look-ups or process start. For reference, the same child
also times the same rows through the sqlite3 driver's own executemany (values already
converted to what SQLite stores) into a second fresh database: the database's share alone.

CPU time is given too (user + system: the ingest's two processes together; the bare insert's
timed part): on a shared machine it moves less than wall-clock, and it shows what the ingest
would cost where the second core is busy.

Peak memory is given two ways: the largest resident size of any one process of the ingest
(getrusage through wait4: the child and the reader process it starts), and the largest sum
over the whole process tree, sampled every 100 ms from /proc (Linux only; sampling every
20 ms took a sixth of a core from the processes measured).
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import pickle
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PROJECT_CONFIG = REPO / "newsletter.toml"
BIN = Path(sys.executable).parent  # the venv's bin/, holding the `newsletter` console script
SEED = 20201109

# Targets
INGEST_SECONDS = 60.0
INGEST_RSS_MIB = 300e6 / 2**20  # the issue says 300 MB: 286 MiB
INGEST_RATIO = 1.5  # ingest wall-clock / bare Core insert of the same rows
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
    peak_rss_kib: int  # the largest single process
    tree_rss_kib: int  # the largest sampled sum over the child and its descendants
    cpu_seconds: float  # user + system, the reader process's included
    output: str


@dataclass(frozen=True)
class BareInsert:
    seconds: float  # the timed transaction of Core executemany calls
    cpu_seconds: float  # its user + system time
    driver_seconds: float  # the same rows through sqlite3's executemany alone
    child_seconds: float  # the whole child, loading the pickle included
    peak_rss_kib: int
    rows: dict[str, int]


@dataclass(frozen=True)
class Round:
    ingest: Ingest
    bare: BareInsert

    @property
    def ratio(self) -> float:
        return self.ingest.seconds / self.bare.seconds


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


@dataclass(frozen=True)
class Child:
    seconds: float
    peak_rss_kib: int  # getrusage of the child and the descendants it waited for: the largest
    tree_rss_kib: int
    cpu_seconds: float
    output: str


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            todo.extend(int(child) for child in children)
    return found


class TreeSampler(threading.Thread):
    """The largest sum of resident memory over a process and its descendants, every 100 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            total = sum(_rss_kib(pid) for pid in _descendants(self.pid))
            self.peak_kib = max(self.peak_kib, total)


def run_child(command: list[str], folder: Path, log: Path) -> Child:
    """A child process timed from its start to its exit; wait4 gives its rusage."""
    with log.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=folder, env=clean_environment()
        )
        sampler = TreeSampler(child.pid)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(encoding="utf-8", errors="replace")
    if child.returncode != 0:
        sys.exit(f"{command[2:]} failed (exit {child.returncode}):\n{output}")
    cpu = usage.ru_utime + usage.ru_stime
    return Child(seconds, usage.ru_maxrss, sampler.peak_kib, cpu, output.strip())


def run_ingest(config: Path, folder: Path) -> Ingest:
    """`newsletter ingest --all` into an empty pool, in a child."""
    for path in folder.glob("pool.db*"):
        path.unlink()
    command = [sys.executable, "-m", "newsletter", "--config", str(config), "ingest", "--all"]
    child = run_child(command, folder, folder / "ingest.log")
    return Ingest(
        child.seconds, child.peak_rss_kib, child.tree_rss_kib, child.cpu_seconds, child.output
    )


# 2b. The bare insert

BARE_TABLES = ("items", "item_sources", "item_topics")
_COPIED_TABLES = ("sources", "topics")  # a handful of rows, copied untimed


def export_rows(pool_db: Path, rows_file: Path) -> dict[str, int]:
    """Every row the ingest wrote, read back in the order of their keys, pickled."""
    from sqlalchemy import create_engine, select

    from newsletter.pool.store import item_sources, item_topics, items, sources, topics

    engine = create_engine(f"sqlite:///{pool_db}")
    wanted = {
        "sources": (sources, list(sources.c)),
        "topics": (topics, list(topics.c)),
        "items": (items, [c for c in items.c if c.name != "id"]),
        "item_sources": (item_sources, list(item_sources.c)),
        "item_topics": (item_topics, list(item_topics.c)),
    }
    exported: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    with engine.connect() as connection:
        for name, (table, columns) in wanted.items():
            order = list(table.primary_key.columns)
            found = connection.execute(select(*columns).order_by(*order))
            exported[name] = ([c.name for c in columns], [tuple(row) for row in found])
    engine.dispose()
    with rows_file.open("wb") as file:
        pickle.dump(exported, file, protocol=pickle.HIGHEST_PROTOCOL)
    return {name: len(rows) for name, (_, rows) in exported.items()}


def bare_insert_main(rows_file: Path, database: Path) -> None:
    """The child of run_bare_insert: see the module's docstring. Prints JSON."""
    from sqlalchemy import insert

    from newsletter.pool import database as pool_database
    from newsletter.pool import store

    with rows_file.open("rb") as file:
        exported: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = pickle.load(file)
    tables = {name: getattr(store, name) for name in (*_COPIED_TABLES, *BARE_TABLES)}
    parameters = {
        name: [dict(zip(columns, row, strict=True)) for row in rows]
        for name, (columns, rows) in exported.items()
    }
    seconds: dict[str, tuple[float, float]] = {}  # target -> (wall-clock, CPU)
    for target, timed in (("core", _core_insert), ("driver", _driver_insert)):
        path = database.with_name(f"{database.stem}-{target}.db")
        engine = pool_database.open_engine(f"sqlite:///{path}")
        pool_database.upgrade(engine)
        with pool_database.for_writing(engine).begin() as connection:
            for name in _COPIED_TABLES:
                connection.execute(insert(tables[name]), parameters[name])
        seconds[target] = timed(engine, tables, parameters, exported)
        engine.dispose()
    counts = {name: len(exported[name][1]) for name in BARE_TABLES}
    core, driver = seconds["core"], seconds["driver"]
    said = {"seconds": core[0], "cpu_seconds": core[1], "driver_seconds": driver[0]}
    print(json.dumps({**said, "rows": counts}))


def _core_insert(
    engine: Any, tables: dict[str, Any], parameters: dict[str, list[dict[str, Any]]], _: Any
) -> tuple[float, float]:
    from sqlalchemy import insert

    from newsletter.pool import database as pool_database

    started, cpu = time.perf_counter(), time.process_time()
    with pool_database.for_writing(engine).begin() as connection:
        for name in BARE_TABLES:
            connection.execute(insert(tables[name]), parameters[name])
    return time.perf_counter() - started, time.process_time() - cpu


def _driver_insert(
    engine: Any,
    tables: dict[str, Any],
    _: Any,
    exported: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
) -> tuple[float, float]:
    from sqlalchemy import insert

    from newsletter.pool import database as pool_database

    statements, converted = {}, {}
    dialect = engine.dialect
    for name in BARE_TABLES:  # values as SQLite stores them, converted before the timer
        columns, rows = exported[name]
        table = tables[name]
        processors = [
            table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
        ]
        converted[name] = [
            tuple(
                v if p is None or v is None else p(v) for p, v in zip(processors, row, strict=True)
            )
            for row in rows
        ]
        compiled = insert(table).compile(dialect=dialect, column_keys=columns)
        assert list(compiled.positiontup or ()) == columns
        statements[name] = str(compiled)
    started, cpu = time.perf_counter(), time.process_time()
    with pool_database.for_writing(engine).begin() as connection:
        for name in BARE_TABLES:
            connection.exec_driver_sql(statements[name], converted[name])
    return time.perf_counter() - started, time.process_time() - cpu


def run_bare_insert(rows_file: Path, folder: Path) -> BareInsert:
    for path in folder.glob("bare-*.db*"):
        path.unlink()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--bare-insert",
        str(rows_file),
        str(folder / "bare.db"),
    ]
    child = run_child(command, folder, folder / "bare.log")
    said = json.loads(child.output.splitlines()[-1])
    return BareInsert(
        seconds=said["seconds"],
        cpu_seconds=said["cpu_seconds"],
        driver_seconds=said["driver_seconds"],
        child_seconds=child.seconds,
        peak_rss_kib=child.peak_rss_kib,
        rows=said["rows"],
    )


def run_rounds(config: Path, folder: Path, count: int) -> list[Round]:
    """Ingest and bare insert in turn, the order alternating; the rows come from the first
    ingest, so round 1 begins with it."""
    rows_file = folder / "rows.pickle"
    rounds: list[Round] = []
    for number in range(1, count + 1):
        ingest_first = number % 2 == 1
        if ingest_first:
            ingest = _report_ingest(config, folder, number)
            if number == 1:  # in a child: this process stays small, its children's forks too
                command = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--export-rows",
                    str(folder / "pool.db"),
                    str(rows_file),
                ]
                exported = run_child(command, folder, folder / "export.log").output
                print(f"  rows read back: {exported.splitlines()[-1]}", flush=True)
            bare = _report_bare(rows_file, folder, number)
        else:
            bare = _report_bare(rows_file, folder, number)
            ingest = _report_ingest(config, folder, number)
        print(f"  round {number}: ratio {ingest.seconds / bare.seconds:.2f}", flush=True)
        rounds.append(Round(ingest, bare))
    return rounds


def _report_ingest(config: Path, folder: Path, number: int) -> Ingest:
    ingest = run_ingest(config, folder)
    last = ingest.output.splitlines()[-1] if ingest.output else "(no output)"
    print(
        f"  round {number} ingest: {ingest.seconds:.1f} s (CPU {ingest.cpu_seconds:.1f} s), "
        f"peak {ingest.peak_rss_kib / 1024:.0f} MiB (tree {ingest.tree_rss_kib / 1024:.0f} MiB)"
        f"; {last}",
        flush=True,
    )
    return ingest


def _report_bare(rows_file: Path, folder: Path, number: int) -> BareInsert:
    bare = run_bare_insert(rows_file, folder)
    print(
        f"  round {number} bare insert: {bare.seconds:.1f} s (CPU {bare.cpu_seconds:.1f} s; "
        f"driver alone {bare.driver_seconds:.1f} s; child {bare.child_seconds:.1f} s)",
        flush=True,
    )
    return bare


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


def _each(values: Iterable[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


def print_summary(
    listing: Listing,
    rounds: Sequence[Round],
    database: int,
    selection: Selection,
    stored: dict[str, int],
    help_seconds: float,
    help_runs: int,
) -> None:
    mib = 1024 * 1024
    ingest_seconds = statistics.median(r.ingest.seconds for r in rounds)
    bare_seconds = statistics.median(r.bare.seconds for r in rounds)
    driver_seconds = statistics.median(r.bare.driver_seconds for r in rounds)
    ratio = statistics.median(r.ratio for r in rounds)
    ingest_cpu = statistics.median(r.ingest.cpu_seconds for r in rounds)
    bare_cpu = statistics.median(r.bare.cpu_seconds for r in rounds)
    rss_mib = max(r.ingest.peak_rss_kib for r in rounds) / 1024
    tree_mib = max(r.ingest.tree_rss_kib for r in rounds) / 1024
    rows = [
        ("items generated", f"{listing.items:,}", "", ""),
        ("listing file size", f"{listing.size / mib:,.1f} MiB ({listing.size:,} B)", "", ""),
        ("generation time", f"{listing.seconds:.1f} s", "", ""),
        (
            "rounds (ingest | bare insert, s)",
            f"{_each(r.ingest.seconds for r in rounds)} | {_each(r.bare.seconds for r in rounds)}",
            "",
            "",
        ),
        (
            "ingest wall-clock, median",
            f"{ingest_seconds:.1f} s",
            f"<= {INGEST_SECONDS:.0f} s",
            _verdict(ingest_seconds, INGEST_SECONDS),
        ),
        ("bare Core insert, median", f"{bare_seconds:.1f} s", "", ""),
        (
            "CPU: ingest (both processes) | bare",
            f"{ingest_cpu:.1f} s | {bare_cpu:.1f} s ({ingest_cpu / bare_cpu:.2f}x)",
            "",
            "",
        ),
        (
            "ratio ingest / bare insert",
            f"{ratio:.2f}x",
            f"<= {INGEST_RATIO}x",
            _verdict(ratio, INGEST_RATIO),
        ),
        (
            "  driver executemany alone",
            f"{driver_seconds:.1f} s (ingest {ingest_seconds / driver_seconds:.2f}x)",
            "",
            "",
        ),
        (
            "ingest peak RSS, one process",
            f"{rss_mib:,.0f} MiB",
            "< 300 MB",
            _verdict(rss_mib, INGEST_RSS_MIB),
        ),
        (
            "ingest peak RSS, all processes",
            f"{tree_mib:,.0f} MiB",
            "< 300 MB",
            _verdict(tree_mib, INGEST_RSS_MIB),
        ),
        ("ingest throughput", f"{listing.items / ingest_seconds:,.0f} items/s", "", ""),
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
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--bare-insert"]:  # the child of run_bare_insert
        bare_insert_main(Path(argv[1]), Path(argv[2]))
        return 0
    if argv[:1] == ["--export-rows"]:  # the child of run_rounds that reads the rows back
        print(export_rows(Path(argv[1]), Path(argv[2])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items to generate")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of ingest and bare insert")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--workdir", type=Path, help="work in this folder (kept) instead of a temporary one"
    )
    parser.add_argument("--queries", type=int, default=200, help="timed selection queries")
    parser.add_argument("--help-runs", type=int, default=20, help="timed `newsletter --help` runs")
    args = parser.parse_args(argv)
    if args.items < 1:
        parser.error("--items must be at least 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

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
        print(f"ingest and bare insert, {args.rounds} rounds ...", flush=True)
        rounds = run_rounds(config, folder, args.rounds)
        database = sum(p.stat().st_size for p in folder.glob("pool.db*"))
        print(f"selecting ({args.queries} queries) ...", flush=True)
        selection, stored = time_selection(config, listing, args.queries)
        print(f"timing `newsletter --help` ({args.help_runs} runs) ...", flush=True)
        help_seconds = time_help(args.help_runs)
        print_summary(listing, rounds, database, selection, stored, help_seconds, args.help_runs)
    finally:
        if keep:
            print(f"\nkept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
