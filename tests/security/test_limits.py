"""Limits on what ingest takes in: the size of a local file, the length of one listing line,
of a title and of a summary, in every format; and CSV output that no spreadsheet runs.

A title over MAX_TITLE is not a title (a paragraph or a page pasted in the wrong place): that
entry is left out with a notice and the rest of its document is kept. A summary over
MAX_SUMMARY is still the entry's summary, only too long: it is cut at a word, with a notice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.config import MAX_FILE_BYTES, load_config
from newsletter.errors import NewsletterError
from newsletter.ingest import ingest_file
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.ingest.fields import MAX_SUMMARY, MAX_TITLE, shorten_summary
from newsletter.ingest.formats import ReaderOptions, open_reader
from newsletter.ingest.listing import MAX_LINE_BYTES
from newsletter.ingest.preparing import SECOND_PROCESS_FROM
from newsletter.model import Entry
from newsletter.pool import Pool

MIB = 1024 * 1024
LONG_TITLE = "Long " * 200 + "end"  # 1,003 characters: a paragraph, not a title
LONGEST_TITLE = "T" * MAX_TITLE  # still a title
LONG_SUMMARY = " ".join(["word"] * 5000)  # 24,999 characters
SELECTORS = {"item": "div.item", "title": "h3", "date": "time", "summary": ".summary"}
# `newsletter` in this process, then the peak resident memory of it and of its reading process.
# Its own from VmHWM: ru_maxrss would count the memory of pytest, which it was forked from.
PEAK_RSS = (
    "import resource, runpy, sys\n"
    "sys.argv = ['newsletter', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('newsletter', run_name='__main__')\n"
    "finally:\n"
    "    status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
    "    print('peak-rss-kib', status,\n"
    "          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
)


def read(document: Document, options: ReaderOptions | None = None) -> tuple[list[Entry], list[str]]:
    """The entries of a document, and its notices as the CLI shows them."""
    _, reader = open_reader(document, options or ReaderOptions(), DateReader(), None)
    entries = list(reader)
    return entries, [str(notice) for notice in reader.notices]


# The same three entries (an over-long title, a title just short enough, an over-long summary)
# in every format; each maker gives the document and the line of each entry, where it has one.


def listing() -> tuple[bytes, list[int | None]]:
    summary_lines = "\n".join(" ".join(["word"] * 10) for _ in range(500))
    text = (
        "News\n\n"
        f"  1. News\n\n    {LONG_TITLE}\n\n    09 November 2020\n\n    Kept out.\n\n"  # line 3
        f"  2. News\n\n    {LONGEST_TITLE}\n\n    10 November 2020\n\n    Kept.\n\n"  # line 11
        f"  3. News\n\n    Long summary\n\n    11 November 2020\n\n{summary_lines}\n"  # line 19
    )
    return text.encode(), [3, 11, 19]


def feed() -> tuple[bytes, list[int | None]]:
    items = "".join(
        f"\n<item><title>{title}</title><pubDate>Mon, 09 Nov 2020 10:00:00 +0000</pubDate>"
        f"<description>{summary}</description></item>"
        for title, summary in [(LONG_TITLE, "Out"), (LONGEST_TITLE, "Kept"),
                               ("Long summary", LONG_SUMMARY)]
    )  # fmt: skip
    data = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Coop news</title><link>https://coop.example.org/</link>{items}\n"
        "</channel></rss>"
    )
    return data.encode(), [2, 3, 4]


def page() -> tuple[bytes, list[int | None]]:
    items = "".join(
        f'\n<div class="item"><h3>{title}</h3><time>2020-11-09</time>'
        f'<p class="summary">{summary}</p></div>'
        for title, summary in [(LONG_TITLE, "Out"), (LONGEST_TITLE, "Kept"),
                               ("Long summary", LONG_SUMMARY)]
    )  # fmt: skip
    data = f"<!DOCTYPE html><html><head><title>News</title></head><body>{items}\n</body></html>"
    return data.encode(), [2, 3, 4]


def table() -> tuple[bytes, list[int | None]]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["title", "date", "summary"])
    writer.writerow([LONG_TITLE, "2020-11-09", "Out"])
    writer.writerow([LONGEST_TITLE, "2020-11-10", "Kept"])
    writer.writerow(["Long summary", "2020-11-11", LONG_SUMMARY])
    return out.getvalue().encode(), [2, 3, 4]


def records() -> tuple[bytes, list[int | None]]:
    data = [
        {"title": LONG_TITLE, "date": "2020-11-09", "summary": "Out"},
        {"title": LONGEST_TITLE, "date": "2020-11-10", "summary": "Kept"},
        {"title": "Long summary", "date": "2020-11-11", "summary": LONG_SUMMARY},
    ]
    return json.dumps(data).encode(), [None, None, None]


FORMATS = {
    "listing": (listing, "news.txt", "entry 1", "entry 3"),
    "feed": (feed, "news.xml", "entry 1", "entry 3"),
    "html": (page, "news.html", "item 1", "item 3"),
    "csv": (table, "news.csv", "row 1", "row 3"),
    "json": (records, "news.json", "record 1", "record 3"),
}


@pytest.mark.parametrize("kind", FORMATS)
def test_an_over_long_title_is_left_out_and_an_over_long_summary_cut_in_every_format(
    kind: str,
) -> None:
    make, name, first, third = FORMATS[kind]
    data, lines = make()
    options = ReaderOptions(format=kind, selectors=SELECTORS if kind == "html" else {})
    entries, notices = read(Document(name=name, content=data), options)

    assert [entry.title for entry in entries] == [LONGEST_TITLE, "Long summary"]
    summary = entries[1].summary
    assert len(summary) <= MAX_SUMMARY
    assert summary.endswith(" word…")  # cut between words
    assert LONG_SUMMARY.startswith(summary.removesuffix("…"))

    def where(line: int | None) -> str:
        return f"{name}:{line}: " if line is not None else f"{name}: "

    assert notices == [
        f"{where(lines[0])}{first} ('Long Long Long Long Long Long Long Long Long Long Long "
        f"Long…'): the title is 1,003 characters long, over the 1,000 a title may have; "
        "skipped",
        f"{where(lines[2])}{third} ('Long summary'): the summary is 24,999 characters long; "
        "cut to 20,000",
    ]


def test_a_cut_summary_keeps_its_markup_whole() -> None:
    link = f'<a href="https://coop.example.org/report">{"the whole report " * 10}</a>'
    summary = "An introduction. " * 1172 + link + " and more"
    cut = shorten_summary(summary)
    assert len(summary) > MAX_SUMMARY >= len(cut)
    # The cut falls inside the link: its tag is closed, not left open over what follows.
    assert cut.endswith("</a>…")
    assert cut.count("<a ") == cut.count("</a>") == 1


def test_a_listing_summary_stops_growing_at_the_limit() -> None:
    """Lines past the limit are counted for the notice, not held."""
    paragraph = "\n".join(" ".join(["word"] * 20) for _ in range(50_000))  # 5 MB
    text = f"News\n\n  1. News\n\n    A title\n\n    09 November 2020\n\n{paragraph}\n"
    entries, notices = read(Document(name="news.txt", content=text.encode()))
    assert len(entries[0].summary) <= MAX_SUMMARY
    assert notices == ["news.txt:3: entry 1 ('A title'): the summary is 4,999,999 characters "
                       "long; cut to 20,000"]  # fmt: skip


def test_a_listing_line_over_a_mib_is_an_error_at_its_line() -> None:
    text = b"News\n\n  1. News\n\n    " + b"x" * MAX_LINE_BYTES + b"\n\n    09 November 2020\n"
    with pytest.raises(NewsletterError) as caught:
        read(Document(name="news.txt", content=text))
    assert str(caught.value) == "news.txt:5: this line is over 1 MiB long: not a listing page"


def test_a_listing_line_of_just_a_mib_is_read() -> None:
    """The limit is on the line, not on where the reader's blocks happen to end."""
    line = b"x" * (MAX_LINE_BYTES - 4)  # with its indentation, 1 MiB: across a block's end
    text = b"News\n\n  1. News\n\n    A title\n\n    09 November 2020\n\n    " + line + b"\n"
    entries, _ = read(Document(name="news.txt", content=text))
    assert entries[0].title == "A title"


def test_a_listing_with_old_mac_line_ends_is_read_in_blocks() -> None:
    """CR alone ends its lines: over a MiB of them is many lines, not one too long."""
    entries = "".join(
        f"  {n}. News\r\r    Item {n}\r\r    09 November 2020\r\r    {'Summary. ' * 20}\r\r"
        for n in range(1, 10_001)
    )
    data = f"News\r\r{entries}".encode()
    assert len(data) > 2 * MAX_LINE_BYTES
    read_entries, _ = read(Document(name="news.txt", content=data))
    assert len(read_entries) == 10_000
    assert read_entries[-1].line == 3 + 8 * 9_999


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_one_line_file_of_100_mb_is_refused_with_bounded_memory(
    workspace: Path, tmp_path: Path
) -> None:
    """One line, no newline: not held whole as a 100-million-character title."""
    big = tmp_path / "one-line.txt"
    with big.open("wb") as out:
        out.write(b"News\n\n  1. News\n\n    ")
        block = b"word " * (MIB // 5)
        for _ in range(100):
            out.write(block)
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, "ingest", str(big)],
        cwd=workspace,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("peak-rss")]
    assert errors == [
        f"Error: {big}:5: this line is over 1 MiB long: not a listing page (nothing stored)"
    ]
    # The file is read in the second process (its size is over SECOND_PROCESS_FROM): the
    # peak of either process is a fraction of the file's 100 MB.
    peaks = result.stderr.split("peak-rss-kib")[1].split()
    assert big.stat().st_size > SECOND_PROCESS_FROM
    assert int(peaks[1]) > 0, "the second process did not run"
    for peak_kib in map(int, peaks):
        assert peak_kib < 160 * 1024, f"peak memory {peak_kib // 1024} MiB"
    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        assert pool.count_items() == 0


# The size of a local file


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    run: Callable[..., Result], workspace: Path
) -> None:
    big = workspace / "big.txt"
    with big.open("wb") as out:
        out.truncate(300 * MIB)  # sparse: NUL bytes, which reading would call binary
    assert MAX_FILE_BYTES == 256 * MIB
    result = run("ingest", "big.txt")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: big.txt: the file is 300.0 MiB, over the 256 MiB limit "
        "(raise [ingest] max_file_bytes) (nothing stored)"
    ]
    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        assert pool.count_items() == 0


def test_the_size_limit_is_set_in_the_ingest_table(workspace: Path, listings: Path) -> None:
    path = listings / "ilo-whats-new-2020-11.txt"
    toml = workspace / "newsletter.toml"
    original = toml.read_text()
    toml.write_text(original + "\n[ingest]\nmax_file_bytes = 1000\n")
    config = load_config(toml)
    assert config.ingest.max_file_bytes == 1000
    with Pool.open(config.database_url) as pool:
        with pytest.raises(NewsletterError) as caught:
            ingest_file(pool, config, path)
        size = path.stat().st_size / MIB
        assert caught.value.message == (
            f"the file is {size:.1f} MiB, over the 1,000 bytes limit "
            "(raise [ingest] max_file_bytes)"
        )
        assert pool.count_items() == 0

        toml.write_text(original + f"\n[ingest]\nmax_file_bytes = {path.stat().st_size}\n")
        report = ingest_file(pool, load_config(toml), path)
        assert report.counts.new > 0


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "expected a number of bytes above 0"), ('"1 GB"', "expected a whole number")],
)
def test_a_size_limit_that_is_no_size_is_a_config_error(
    workspace: Path, value: str, message: str
) -> None:
    toml = workspace / "newsletter.toml"
    toml.write_text(toml.read_text() + f"\n[ingest]\nmax_file_bytes = {value}\n")
    with pytest.raises(NewsletterError, match=f"ingest.max_file_bytes: {message}"):
        load_config(toml)


# CSV output

FORMULA = '=HYPERLINK("http://evil.example","click")'


def test_csv_output_writes_formulas_as_text_and_json_as_they_are(
    run: Callable[..., Result], workspace: Path
) -> None:
    (workspace / "evil.txt").write_text(
        f"News\n\n  1. News\n\n    {FORMULA}\n\n    09 November 2020\n\n    @SUM(A1:A9)\n\n"
        "  2. -Brief\n\n    +1 for cooperatives\n\n    10 November 2020\n\n"
        "  3. News\n\n    A plain title - with a dash\n\n    11 November 2020\n"
    )
    assert run("ingest", "evil.txt").exit_code == 0

    result = run("items", "--month", "2020-11", "--format", "csv")
    assert result.exit_code == 0
    rows = {row["date"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["2020-11-09"]["title"] == "'" + FORMULA
    assert rows["2020-11-09"]["summary"] == "'@SUM(A1:A9)"
    assert (rows["2020-11-10"]["type"], rows["2020-11-10"]["title"]) == (
        "'-Brief",
        "'+1 for cooperatives",
    )
    assert rows["2020-11-11"]["title"] == "A plain title - with a dash"  # only a first character

    listed = json.loads(run("items", "--month", "2020-11", "--format", "json").stdout)
    titles = {item["date"]: item["title"] for item in listed}
    assert titles["2020-11-09"] == FORMULA
    assert titles["2020-11-10"] == "+1 for cooperatives"


# The reading process of a big file ends with its parent


def process_group(group: int) -> dict[int, str]:
    """The living (not zombie) processes of a process group: pid -> command line."""
    found = {}
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_path.read_text()
            cmdline = (stat_path.parent / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group and state != "Z":
            found[int(stat_path.parent.name)] = cmdline.replace(b"\0", b" ").decode()
    return found


def holds_open(pid: int, path: Path) -> bool:
    try:
        return any(Path(fd).resolve() == path for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_killing_a_big_ingest_ends_its_reading_process_and_resource_tracker(
    workspace: Path, tmp_path: Path
) -> None:
    from tests.test_large_listing import write_listing

    big = tmp_path / "big.txt"
    write_listing(big, SECOND_PROCESS_FROM // 1_000_000 + 8)
    with (tmp_path / "stderr").open("wb") as stderr:
        ingest = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "ingest", str(big)],
            cwd=workspace,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group, which its children share
        )
    try:
        deadline = time.monotonic() + 60
        reader = None
        while reader is None:  # the reading process, reading the file
            assert ingest.poll() is None, "the ingest ended before its reader was seen"
            assert time.monotonic() < deadline, "no reading process"
            group = process_group(ingest.pid)
            reader = next((pid for pid, command in group.items()
                           if "spawn_main" in command and holds_open(pid, big)), None)  # fmt: skip
            time.sleep(0.01)
        assert any("resource_tracker" in command for command in group.values())

        os.kill(ingest.pid, signal.SIGKILL)
        ingest.wait()
        deadline = time.monotonic() + 15  # the point is that they end: generous on a busy machine
        while (left := process_group(ingest.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert left == {}
    finally:
        for pid in process_group(ingest.pid):
            os.kill(pid, signal.SIGKILL)
