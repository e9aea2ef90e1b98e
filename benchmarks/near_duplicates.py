"""Measure near-duplicate detection: a feed-like source ingested against a big pool of another.

    .venv/bin/python benchmarks/near_duplicates.py                 # 100,000 + 10,000 items
    .venv/bin/python benchmarks/near_duplicates.py --pool 20000    # a quick check

Steps, each in a child process (`newsletter ingest`), timed:
  1. ingest source A, a listing of --pool items over ten years (about 27 a day);
  2. ingest source B, JSON Lines of --incoming items: 30% are A's stories a day later with
     their titles retyped (case, punctuation, a hyphen), 10% have one word of the title
     changed (different stories, or retitled ones, to be listed), 60% are stories of their own;
  3. ingest B alone into an empty pool, where no other source means no search: the difference
     is what near-duplicate detection costs.
The counts printed by `newsletter ingest` are checked against what was generated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SEED = 20201123
FIRST_DAY = date(2015, 1, 1)
DAYS = 3650

_VOCABULARY = """
    ILO workers employment decent work policy report youth women rural development training
    protection labour standards conference dialogue green jobs transition skills migration wages
    safety health enterprises digital platform recovery crisis future agriculture finance housing
    energy community members network partners Africa Asia Pacific Latin America Europe regional
    national global forum symposium launch study survey data statistics guide toolkit webinar
    event anniversary project programme capacity building trade unions employers governments
    ministers growth resilience climate water fisheries tourism care domestic refugees children
    equality gender productivity innovation research evidence review assessment strategy"""
WORDS = tuple(_VOCABULARY.split())


def title(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(6, 12))).capitalize()


def retype(rng: random.Random, text: str) -> str:
    """The same title as another site writes it."""
    choice = rng.randrange(3)
    if choice == 0:
        return text.lower()
    if choice == 1:
        return text.replace(" ", ": ", 1) + "."
    return re.sub(r"\b(\w+) (\w+)\b", r"\1-\2", text, count=1)


def generate(folder: Path, pool: int, incoming: int) -> dict[str, int]:
    rng = random.Random(SEED)
    stories = [(title(rng), FIRST_DAY + timedelta(days=rng.randrange(DAYS))) for _ in range(pool)]
    lines = ["Generated listing", ""]
    for number, (text, day) in enumerate(stories, start=1):
        lines += [f"  {number}. News", "", f"    {text}", "", f"    {day.isoformat()}", ""]
    (folder / "a.txt").write_text("\n".join(lines))
    records, expected = [], {"same": 0, "changed": 0, "own": 0}
    for number in range(incoming):
        draw = rng.random()
        if draw < 0.3:
            text, day = rng.choice(stories)
            record = {"title": retype(rng, text), "date": (day + timedelta(days=1)).isoformat()}
            expected["same"] += 1
        elif draw < 0.4:
            text, day = rng.choice(stories)
            words = text.split()
            words[rng.randrange(len(words))] = rng.choice(("Kenya", "Brazil", "Nepal", "Jordan"))
            record = {"title": " ".join(words), "date": day.isoformat()}
            expected["changed"] += 1
        else:
            record = {"title": title(rng), "date": (FIRST_DAY + timedelta(
                days=rng.randrange(DAYS))).isoformat()}  # fmt: skip
            expected["own"] += 1
        record["url"] = f"https://www.example.org/news/{number}"
        records.append(json.dumps(record))
    (folder / "b.jsonl").write_text("\n".join(records) + "\n")
    (folder / "newsletter.toml").write_text(
        '[database]\nurl = "sqlite:///pool.db"\n[topics.cooperatives]\nname = "Cooperatives"\n'
    )
    return expected


def ingest(folder: Path, *files: str) -> tuple[float, str, int]:
    """(seconds, output, peak RSS in MiB) of `newsletter ingest` in a child process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(BIN / "newsletter"), "--config", str(folder / "newsletter.toml"), "ingest", *files],
        cwd=folder, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"ingest failed: {output}")
    return time.perf_counter() - started, output.strip(), usage.ru_maxrss // 1024


def count(output: str, what: str) -> int:
    found = re.search(rf"(\d+) {what}", output)
    return int(found[1]) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--incoming", type=int, default=10_000)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="near-duplicates-"))
    try:
        expected = generate(folder, arguments.pool, arguments.incoming)
        seconds_a, _, _ = ingest(folder, "a.txt")
        seconds_b, output, peak_b = ingest(folder, "b.jsonl")
        (folder / "pool.db").unlink()
        alone, _, peak_alone = ingest(folder, "b.jsonl")
    finally:
        shutil.rmtree(folder)
    merged, listed = count(output, "merged"), count(output, "possible duplicate")
    rows = [
        ("pool (source A)", f"{arguments.pool:,} items, ingested in {seconds_a:.1f} s"),
        ("incoming (source B)", f"{arguments.incoming:,} items: {expected['same']:,} the same "
         f"story retyped, {expected['changed']:,} one word changed, {expected['own']:,} own"),
        ("B against A", f"{seconds_b:.2f} s ({arguments.incoming / seconds_b:,.0f} items/s), "
         f"peak RSS {peak_b} MiB"),
        ("B alone (no search)", f"{alone:.2f} s, peak RSS {peak_alone} MiB"),
        ("detection costs", f"{(seconds_b - alone) / arguments.incoming * 1e6:,.0f} µs an item"),
        ("merged", f"{merged:,} of {expected['same']:,} retyped"),
        ("listed for the editor", f"{listed:,} (of {expected['changed']:,} changed)"),
    ]  # fmt: skip
    for name, value in rows:
        print(f"{name:<24}{value}")
    if merged > expected["same"]:
        sys.exit("more merged than were the same story: a false merge")


if __name__ == "__main__":
    main()
