"""Publishing is atomic and numbers are given once: concurrent runs, and a crash at every step."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result

import newsletter.archive.publish as publish
from newsletter.archive.publish import FILES, RECORD, STEPS, frozen_folder, publish_issue, versions
from newsletter.config import Config
from newsletter.pool import Pool
from tests.archive.conftest import samples as samples  # the fixture: sample drafts, ingested

Run = Callable[..., Result]
NEWSLETTER = "ilo-coop-enews"
NOVEMBER_DAY, LATER_DAY = date(2020, 12, 1), date(2021, 1, 4)
AFTER_RENAME = STEPS[STEPS.index("renamed") :]  # the issue is out: the date stays

# `newsletter publish ...` in a process of its own, with publish's test hook set: it SIGKILLs
# itself after step argv[1], sleeps after step argv[2] (to hold the lock a while), and waits for
# the file argv[3] to exist before it starts (so that several start together).
RUNNER = """
import os, signal, sys, time
from pathlib import Path
import newsletter.archive.publish as publish
from newsletter.cli import cli

crash_at, pause_at, start = sys.argv[1:4]

def after_step(step):
    if step == pause_at:
        time.sleep(0.3)
    if step == crash_at:
        os.kill(os.getpid(), signal.SIGKILL)

publish._after_step = after_step
if start:
    Path(f"{start}.{os.getpid()}").touch()
    while not Path(start).exists():
        time.sleep(0.01)
cli(["publish", *sys.argv[4:]], prog_name="newsletter")
"""


class Crash(BaseException):
    """What the test hook raises: not an Exception, so nothing on the way handles it."""


def crash_after(chosen: str) -> Callable[[str], None]:
    def after_step(step: str) -> None:
        if step == chosen:
            raise Crash(step)

    return after_step


def start_publish(workspace: Path, *args: str, crash_at: str = "", pause_at: str = "",
                  start: Path | None = None) -> subprocess.Popen[str]:  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, crash_at, pause_at, str(start or ""), *args],
        cwd=workspace,
        env=os.environ.copy(),  # with the workspace's NEWSLETTER_DATABASE_URL
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def draft(run: Run, slug: str, month: str) -> Path:
    result = run("draft", NEWSLETTER, "--month", month, "--slug", slug, "--allow-empty")
    assert result.exit_code == 0, result.output
    return Path("issues", NEWSLETTER, f"{slug}.toml").resolve()


def fresh_pool(config: Config) -> Pool:
    return Pool.open(config.database_url, {s: t.name for s, t in config.topics.items()})


def assert_published_once(config: Config, path: Path, number: int, day: date | None) -> None:
    """One row, one whole frozen version, an issue file that agrees, no unfinished copies."""
    with fresh_pool(config) as pool:
        rows = [p for p in pool.publications() if p.slug == path.stem]
    assert [(p.number, p.version) for p in rows] == [(number, 1)]
    row = rows[0]
    if day:
        assert row.published == day
    assert [p.name for p in versions(path)] == ["v1"]
    folder = frozen_folder(path) / "v1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    record = json.loads((folder / RECORD).read_text())
    assert (record["number"], record["version"], record["published"], record["digest"]) == (
        number, 1, row.published.isoformat(), row.digest
    )  # fmt: skip
    marks = tomllib.loads(path.read_text())
    assert (marks["status"], marks["number"], marks["published"]) == (
        "published", number, row.published
    )  # fmt: skip
    assert (folder / "issue.toml").read_text() == path.read_text()
    assert [p.name for p in frozen_folder(path).iterdir()] == ["v1"]  # no .v1.xxxx left


def assert_numbers_agree(config: Config, expected: dict[str, int]) -> None:
    """The database numbers these issues (slug -> number), once each, as their frozen copies
    and files say."""
    with fresh_pool(config) as pool:
        rows = pool.publications(NEWSLETTER)
    assert {p.slug: p.number for p in rows} == expected
    assert len(rows) == len(expected)
    folder = Path("issues", NEWSLETTER).resolve()
    for slug, number in expected.items():
        assert_published_once(config, folder / f"{slug}.toml", number, None)


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_leaves_what_the_next_publish_completes(
    step: str, samples: Path, config: Config, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = samples / "2020-11.toml"
    monkeypatch.setattr(publish, "_after_step", crash_after(step))
    with pytest.raises(Crash):
        publish_issue(pool, config, path, today=NOVEMBER_DAY)
    monkeypatch.setattr(publish, "_after_step", lambda _step: None)
    with fresh_pool(config) as again:
        report = publish_issue(again, config, path, today=LATER_DAY)
        out = step in AFTER_RENAME
        assert report.unchanged is out  # after the rename it was published: the rerun finishes
        assert_published_once(config, path, 1, NOVEMBER_DAY if out else LATER_DAY)
        repairs = " | ".join(report.repaired)
        assert ("recorded ilo-coop-enews/2020-11 (no. 1, version 1)" in repairs) is (
            step in ("renamed", "recorded", "marked")  # rolled back, or never written
        )
        assert ("marked" in repairs) is (step in ("renamed", "recorded"))
        following = publish_issue(again, config, samples / "2020-10.toml")
    assert following.frozen.number == 2


@pytest.mark.parametrize("step", STEPS)
def test_a_process_killed_at_any_step_leaves_what_the_next_publish_completes(
    step: str, samples: Path, config: Config, run: Run
) -> None:
    killed = start_publish(samples.parent.parent, f"{NEWSLETTER}/2020-11", crash_at=step)
    assert killed.wait(timeout=120) == -signal.SIGKILL, killed.communicate()
    unfinished = [p.name for p in frozen_folder(samples / "2020-11.toml").glob(".v1.*")]
    assert bool(unfinished) is step.startswith("wrote ")  # a kill skips every cleanup
    again = run("publish", f"{NEWSLETTER}/2020-11")
    assert again.exit_code == 0, again.output
    if unfinished:
        assert f"repaired: removed {frozen_folder(samples / '2020-11.toml')}/.v1." in again.stdout
    finished = step in AFTER_RENAME
    assert ("is published already (no. 1" in again.stdout) is finished
    assert ("recorded ilo-coop-enews/2020-11 (no. 1" in again.stdout) is (
        step in ("renamed", "recorded", "marked")
    )
    assert ("repaired: marked" in again.stdout) is (step in ("renamed", "recorded"))
    following = run("publish", f"{NEWSLETTER}/2020-10")
    assert following.exit_code == 0, following.output
    assert_numbers_agree(config, {"2020-11": 1, "2020-10": 2})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_process_killed_at_a_random_moment_leaves_what_the_next_publish_completes(
    seed: int, samples: Path, config: Config, run: Run
) -> None:
    started = time.monotonic()
    whole = start_publish(samples.parent.parent, f"{NEWSLETTER}/2020-10")
    assert whole.wait(timeout=120) == 0, whole.communicate()
    lifetime = time.monotonic() - started  # of a whole `publish`, on this machine now
    killed = start_publish(samples.parent.parent, f"{NEWSLETTER}/2020-11")
    time.sleep(random.Random(seed).uniform(0, lifetime))
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=120)
    again = run("publish", f"{NEWSLETTER}/2020-11")
    assert again.exit_code == 0, again.output
    following = run("publish", str(draft(run, "2020-09", "2020-09")))
    assert following.exit_code == 0, following.output
    assert_numbers_agree(config, {"2020-10": 1, "2020-11": 2, "2020-09": 3})


def test_a_number_written_to_disk_is_never_given_again(
    samples: Path, config: Config, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "_after_step", crash_after("renamed"))
    with pytest.raises(Crash):
        publish_issue(pool, config, samples / "2020-11.toml", today=NOVEMBER_DAY)
    monkeypatch.setattr(publish, "_after_step", lambda _step: None)
    assert pool.publications() == []  # the frozen copy says no. 1; the database knows nothing
    other = publish_issue(pool, config, samples / "2020-10.toml", today=LATER_DAY)
    assert other.frozen.number == 2
    assert other.repaired == (
        f"recorded ilo-coop-enews/2020-11 (no. 1, version 1) from its frozen copy "
        f"{samples / '2020-11' / 'v1'}, which an interrupted publish had not; "
        "`publish ilo-coop-enews/2020-11` finishes it",
    )
    finished = publish_issue(pool, config, samples / "2020-11.toml", today=LATER_DAY)
    assert finished.unchanged
    assert finished.repaired == (
        f"marked {samples / '2020-11.toml'} published (no. 1, {NOVEMBER_DAY})",
    )
    assert_numbers_agree(config, {"2020-11": 1, "2020-10": 2})


def test_two_issues_that_went_out_with_one_number_are_reported_not_recorded(
    samples: Path, config: Config, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the old publish could leave: 2020-11 frozen as no. 1 without its row (a crash),
    # then 2020-10 given no. 1 again.
    monkeypatch.setattr(publish, "_after_step", crash_after("renamed"))
    with pytest.raises(Crash):
        publish_issue(pool, config, samples / "2020-11.toml", today=NOVEMBER_DAY)
    monkeypatch.setattr(publish, "_after_step", lambda _step: None)
    aside = samples.parent / "aside"
    (samples / "2020-11").rename(aside)
    publish_issue(pool, config, samples / "2020-10.toml", today=NOVEMBER_DAY)
    aside.rename(samples / "2020-11")
    report = publish_issue(pool, config, samples / "2020-11.toml")
    assert [str(w) for w in report.warnings] == [
        f"{samples / '2020-11' / 'v1' / RECORD}: ilo-coop-enews/2020-11 went out as no. 1, "
        "which the database gives to ilo-coop-enews/2020-10: two issues have that number; "
        "left unrecorded"
    ]
    assert [(p.slug, p.number) for p in pool.publications()] == [("2020-10", 1)]


def test_five_publishes_at_once_number_five_issues_once_each(
    samples: Path, config: Config, run: Run, tmp_path: Path
) -> None:
    slugs = ["2020-10", "2020-11"]
    for month in ("2020-06", "2020-07", "2020-08"):
        slugs.append(draft(run, month, month).stem)
    start = tmp_path / "start"
    # Each holds the lock a while after choosing its number: without the lock, all five
    # would choose no. 1.
    runs = [
        start_publish(samples.parent.parent, f"{NEWSLETTER}/{slug}", pause_at="numbered",
                      start=start)
        for slug in slugs
    ]  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("start.*"))) < len(runs) and time.monotonic() < deadline:
        time.sleep(0.05)
    start.touch()
    outputs = [process.communicate(timeout=120) for process in runs]
    assert [process.returncode for process in runs] == [0] * 5, outputs
    with fresh_pool(config) as pool:
        numbers = {p.slug: p.number for p in pool.publications()}
    assert sorted(numbers.values()) == [1, 2, 3, 4, 5]
    assert_numbers_agree(config, numbers)


def test_one_issue_published_three_times_at_once_is_numbered_once(
    samples: Path, config: Config, tmp_path: Path
) -> None:
    start = tmp_path / "start"
    runs = [
        start_publish(samples.parent.parent, f"{NEWSLETTER}/2020-11", pause_at="numbered",
                      start=start)
        for _ in range(3)
    ]  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("start.*"))) < len(runs) and time.monotonic() < deadline:
        time.sleep(0.05)
    start.touch()
    outputs = [process.communicate(timeout=120) for process in runs]
    assert [process.returncode for process in runs] == [0] * 3, outputs
    said = sorted(out.split(" ", 1)[0] for out, _ in outputs)
    assert said == ["ilo-coop-enews/2020-11", "ilo-coop-enews/2020-11", "published"], outputs
    assert_numbers_agree(config, {"2020-11": 1})
