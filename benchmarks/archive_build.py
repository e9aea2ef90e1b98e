"""Measure the archive build: 1,000 published issues of 30 items, built whole, then again after
one more issue is published (only what shows it is rewritten).

    .venv/bin/python benchmarks/archive_build.py              # the figures for the README
    .venv/bin/python benchmarks/archive_build.py --issues 100 # quicker

The published issues are written as `newsletter publish` freezes them (issue file, email,
publication record) into a scratch workspace; that set-up is not timed.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from render_speed import generated_issue  # noqa: E402

from newsletter.archive.build import build_archive  # noqa: E402
from newsletter.archive.publish import RECORD  # noqa: E402
from newsletter.config import load_config  # noqa: E402
from newsletter.issue.writing import new_issue_text as draft_text  # noqa: E402
from newsletter.render import render_issue  # noqa: E402

TARGET_FULL_SECONDS = 60.0
TARGET_INCREMENTAL_SHARE = 0.05
TOPICS = ("cooperatives", "social-solidarity-economy", "supply-chains", "informality")
SEED = 1000


def publish_generated(workspace: Path, number: int, email_html: str) -> None:
    """Freeze one generated issue as `newsletter publish` would."""
    rng = random.Random(SEED + number)
    day = date(1990, 1, 1) + timedelta(days=31 * number)
    slug = f"{day:%Y-%m}-{number:04d}"
    folder = workspace / "issues" / "ilo-coop-enews"
    base = generated_issue(30, folder / f"{slug}.toml")
    issue = replace(
        base,
        title=f"ILO COOP eNews - issue {number}",
        status="published",
        number=number,
        published=day,
        start=day,
        end=day + timedelta(days=30),
        lead=replace(base.lead, uid=f"{number:08x}00000000", date=day) if base.lead else None,
        sections=tuple(
            replace(
                s,
                items=tuple(
                    replace(
                        i, uid=f"{number:08x}{k + 1 + 10 * n:08x}", date=day + timedelta(days=k)
                    )
                    for k, i in enumerate(s.items)
                ),
            )
            for n, s in enumerate(base.sections)
        ),
    )
    text = draft_text(issue, f"ilo-coop-enews/{slug}")
    text = text.replace(
        'status = "published"',
        f'status = "published"\nnumber = {number}\npublished = {day.isoformat()}',
    )
    frozen = folder / slug / "v1"
    frozen.mkdir(parents=True)
    (folder / f"{slug}.toml").write_text(text)
    (frozen / "issue.toml").write_text(text)
    (frozen / "email.html").write_text(email_html.replace("November issue", f"issue {number}"))
    (frozen / "email.txt").write_text(issue.title + "\n")
    topics = {item.uid: sorted(rng.sample(TOPICS, rng.randint(1, 2))) for item in issue.items}
    record = {
        "newsletter": "ilo-coop-enews",
        "slug": slug,
        "number": number,
        "version": 1,
        "published": day.isoformat(),
        "digest": f"{number:064x}",
        "topics": topics,
    }
    (frozen / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1000)
    args = parser.parse_args(argv)

    workspace = Path(tempfile.mkdtemp(prefix="archive-build-"))
    try:
        shutil.copy(REPO / "newsletter.toml", workspace / "newsletter.toml")
        shutil.copytree(REPO / "examples", workspace / "examples")
        config = load_config(workspace / "newsletter.toml", environ={})
        sample = generated_issue(30, workspace / "issues" / "ilo-coop-enews" / "x.toml")
        email_html = render_issue(sample, config).html
        started = time.perf_counter()
        for number in range(1, args.issues + 1):
            publish_generated(workspace, number, email_html)
        print(
            f"set-up: {args.issues:,} published issues of 30 items written in "
            f"{time.perf_counter() - started:.1f} s (not part of the figures)"
        )

        site = workspace / "site"
        started = time.perf_counter()
        full = build_archive(config, site)
        full_seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        print(
            f"full build: {full.pages:,} files ({size / 2**20:,.0f} MiB) in {full_seconds:.1f} s "
            f"(target <= {TARGET_FULL_SECONDS:.0f} s)"
        )

        publish_generated(workspace, args.issues + 1, email_html)
        started = time.perf_counter()
        incremental = build_archive(config, site)
        incremental_seconds = time.perf_counter() - started
        share = incremental_seconds / full_seconds
        print(
            f"after one more issue: {len(incremental.written)} files written, "
            f"{incremental.kept:,} unchanged, in {incremental_seconds:.2f} s = {share:.1%} of "
            f"the full build (target <= {TARGET_INCREMENTAL_SHARE:.0%})"
        )
        ok = full_seconds <= TARGET_FULL_SECONDS and share <= TARGET_INCREMENTAL_SHARE
        return 0 if ok else 1
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
