"""Measure the studio's answers: its pool page over a pool of N items, and an edit of a 30-item
issue with the preview refreshed.

    .venv/bin/python benchmarks/studio_speed.py                 # 1,000,000 items (~2 minutes)
    .venv/bin/python benchmarks/studio_speed.py --items 100000  # a quicker check

The pool is made the way an editor's is: a generated listing (pool_at_scale.py's, fixed seed)
ingested by `newsletter ingest --all` in a child. Each request then goes through the studio's
whole ASGI app in this process (Starlette's TestClient: no network), timed from the request to
the complete answer: server time, as the issue's targets count it.

1. the first pool page (newest items, no filter), and a month x topic filter over random
   months (targets: under 100 ms each);
2. an edit of a 30-item issue plus the preview's refresh: the POST of a new title, the editor
   page it leads to (with check's findings, which render the email as sent), the email in its
   three frames (desktop, phone, phone in dark mode) and the text part (target: under 150 ms).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from starlette.testclient import TestClient

from newsletter.config import load_config
from newsletter.issue.writing import new_issue_text
from newsletter.web.studio import make_app
from newsletter.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pool_at_scale import generate_listing, run_ingest, write_config
from render_speed import generated_issue, with_pictures

REPO = Path(__file__).resolve().parent.parent
TARGET_POOL_MS = 100.0
TARGET_EDIT_MS = 150.0


def timed(action: Callable[[], object], runs: int) -> float:
    """The median of `runs` timings, in milliseconds, after one untimed warm-up."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def months(runs: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.randrange(1990, 2027)}-{rng.randrange(1, 13):02d}" for _ in range(runs)]


def pool_times(folder: Path, items: int, runs: int) -> tuple[float, float, float]:
    listing = generate_listing(folder / "listing.txt", items, seed=20201130)
    config = write_config(folder, listing.path)
    ingest = run_ingest(config, folder)
    with Workspace(config) as workspace, TestClient(make_app(workspace)) as client:
        first = timed(lambda: client.get("/pool").raise_for_status(), runs)
        chosen = iter(months(runs + 1, seed=7))
        filtered = timed(
            lambda: client.get(
                "/pool", params={"month": next(chosen), "topic": "cooperatives"}
            ).raise_for_status(),
            runs,
        )
    return ingest.seconds, first, filtered


def edit_times(folder: Path, runs: int) -> float:
    """A copy of the sample workspace with a 30-item issue (pictures on every item)."""
    shutil.copy(REPO / "newsletter.toml", folder / "newsletter.toml")
    shutil.copytree(REPO / "examples", folder / "examples")
    path = folder / "issues" / "ilo-coop-enews" / "2020-11.toml"
    path.parent.mkdir(parents=True)
    issue = with_pictures(generated_issue(30, path))
    path.write_text(new_issue_text(issue, "the studio benchmark"), encoding="utf-8")
    load_config(folder / "newsletter.toml")
    base = "/issues/ilo-coop-enews/2020-11"
    uid = issue.sections[0].items[0].uid
    rounds = iter(range(10**6))
    with (
        Workspace(folder / "newsletter.toml") as workspace,
        TestClient(make_app(workspace), base_url="http://127.0.0.1:8030") as client,
    ):
        page = client.get(base).text

        def edit_and_refresh() -> None:
            nonlocal page
            digest = page.split('name="made_on" value="')[1].split('"')[0]
            token = page.split('name="csrf" value="')[1].split('"')[0]
            form = {"csrf": token, "made_on": digest, "uid": uid, "field": "title",
                    "value": f"A title edited in the studio, round {next(rounds)}"}  # fmt: skip
            answer = client.post(f"{base}/edit", data=form)  # follows the 303 to the editor
            answer.raise_for_status()
            page = answer.text
            for part in ("email.html", "email.html", "email.html?scheme=dark", "email.txt"):
                client.get(f"{base}/{part}").raise_for_status()

        return timed(edit_and_refresh, runs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items in the pool")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per measure")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as work:
        pool_folder, edit_folder = Path(work) / "pool", Path(work) / "edit"
        pool_folder.mkdir()
        edit_folder.mkdir()
        ingest, first, filtered = pool_times(pool_folder, args.items, args.runs)
        edit = edit_times(edit_folder, args.runs)
    print(f"pool of {args.items:,} items (ingested in {ingest:.1f} s), {args.runs} runs each, "
          f"{date.today()}:")  # fmt: skip
    print(f"  first pool page:               {first:7.1f} ms (target < {TARGET_POOL_MS:.0f} ms)")
    print(f"  month x topic filter:          {filtered:7.1f} ms (target < {TARGET_POOL_MS:.0f} ms)")
    print(f"  edit + preview, 30 items:      {edit:7.1f} ms (target < {TARGET_EDIT_MS:.0f} ms)")
    ok = max(first, filtered) < TARGET_POOL_MS and edit < TARGET_EDIT_MS
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
