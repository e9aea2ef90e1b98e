"""The archive's site changes in one step: a build killed at any point leaves the site wholly
old or wholly new, the next build removes what the killed one left aside, two builds of one
site wait for each other, and a server of the site follows it from one build to the next.

"Old" is the site of the October issue alone; "new" adds November's, which rewrites most pages
and leaves some. A build is killed by SIGKILL, in a forked child that counts its own changes
to the file system (Python's audit events) and kills itself just before the n-th, for every n.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsletter.archive.build import build_archive
from newsletter.archive.publish import publish_issue
from newsletter.archive.serve import serve_archive
from newsletter.config import Config
from newsletter.ingest import ingest_file
from newsletter.pool import Pool
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forks, and swaps on Linux")

# Audit events of a change to the file system (os.replace raises "os.rename"; the swap of a
# plain folder and a link is a ctypes call).
CHANGES = {"os.link", "os.rename", "os.symlink", "os.remove", "os.rmdir", "os.mkdir",
           "shutil.rmtree", "ctypes.call_function"}  # fmt: skip
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

Snapshot = dict[str, str]


class Issues:
    """The published issues, with November's put aside or back: the old and the new site."""

    def __init__(self, folder: Path, aside: Path):
        self.november, self.aside = folder / "2020-11", aside

    def old(self) -> None:
        if self.november.exists():
            self.november.rename(self.aside)

    def new(self) -> None:
        if self.aside.exists():
            self.aside.rename(self.november)


@pytest.fixture
def issues(workspace: Path, config: Config, pool: Pool, tmp_path: Path) -> Issues:
    folder = workspace / "issues" / "ilo-coop-enews"
    shutil.copytree(ROOT / "issues" / "ilo-coop-enews", folder,
                    ignore=shutil.ignore_patterns("20*-*[0-9]"))  # fmt: skip
    for source in config.sources.values():
        assert source.path is not None
        ingest_file(pool, config, source.path)
    publish_issue(pool, config, folder / "2020-10.toml", today=date(2020, 11, 2))
    publish_issue(pool, config, folder / "2020-11.toml", today=date(2020, 12, 1))
    assert (folder / "2020-11").is_dir()  # its frozen versions
    return Issues(folder, tmp_path / "november-aside")


def snapshot(site: Path) -> Snapshot | None:
    """Every file of the site and a digest of its bytes; None when there is no site."""
    if not site.is_dir():
        return None
    return {
        path.relative_to(site).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in site.rglob("*")
        if path.is_file()
    }


def settled(site: Path) -> None:
    """Wait for the removal of the generation a build replaced: it holds the site's lock."""
    with (site.parent / f".{site.name}.builds" / "lock").open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)


def left_aside(site: Path) -> list[str]:
    """What is beside the site but its generations, and among those but the one in use, once
    the last build's removal is done."""
    settled(site)
    builds = site.parent / f".{site.name}.builds"
    beside = [p.name for p in site.parent.iterdir()
              if p.name.startswith(f".{site.name}.") and p != builds]  # fmt: skip
    in_use = site.resolve().name
    return beside + [p.name for p in builds.iterdir() if p.name not in (in_use, "lock")]


def changes_files(event: str, args: tuple[Any, ...]) -> bool:
    if event in CHANGES:
        return True
    if event == "open":  # open(): its mode; os.open(): its flags
        _path, mode, flags = args
        return any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & WRITING)
    return False


def build_killed_at(step: int, config: Config, site: Path) -> bool:
    """Build in a forked child that kills itself just before its `step`-th change to the file
    system; whether it was killed (False: the build had fewer changes, and finished)."""
    child = os.fork()
    if child == 0:
        status = 3
        try:
            count = 0

            def hook(event: str, args: tuple[Any, ...]) -> None:
                nonlocal count
                if changes_files(event, args):
                    count += 1
                    if count == step:
                        os.kill(os.getpid(), signal.SIGKILL)

            sys.addaudithook(hook)
            build_archive(config, site)
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, "the build failed rather than being killed"
    return False


def make_plain(site: Path) -> None:
    """The site as a build before generations left it: a plain folder (times kept)."""
    settled(site)
    generation = site.resolve()
    site.unlink()
    shutil.copytree(generation, site)  # copy2: the files' times, which the build compares
    shutil.rmtree(site.parent / f".{site.name}.builds")


def kill_at_every_step(config: Config, issues: Issues, site: Path, plain: bool) -> list[str]:
    """Kill the new build at each of its steps in turn; what each kill left the site as."""
    issues.new()
    build_archive(config, site.parent / "reference")
    new = snapshot(site.parent / "reference")
    seen = []
    for step in range(1, 1000):
        issues.old()
        build_archive(config, site)
        if plain:
            make_plain(site)
        old = snapshot(site)
        assert old != new

        issues.new()
        if not build_killed_at(step, config, site):
            return seen
        after_kill = snapshot(site)
        assert after_kill in (old, new), f"killed before step {step}: a mixed or missing site"
        seen.append("new" if after_kill == new else "old")

        report = build_archive(config, site)
        assert snapshot(site) == new
        assert site.is_symlink()
        assert left_aside(site) == [], f"killed before step {step}"
        if after_kill == old:
            assert report.written, "the next build rebuilt nothing"
    raise AssertionError("the build never finished")


def test_a_build_killed_at_any_step_leaves_the_old_site_or_the_new_whole(
    issues: Issues, config: Config, tmp_path: Path
) -> None:
    seen = kill_at_every_step(config, issues, tmp_path / "site", plain=False)
    # Killed both before the swap and after it (while the old generation was being removed).
    assert "old" in seen
    assert "new" in seen
    assert seen == sorted(seen, key=["old", "new"].index)  # one switch: the swap


def test_a_plain_site_killed_while_it_becomes_a_link_is_old_or_new_never_missing(
    issues: Issues, config: Config, tmp_path: Path
) -> None:
    seen = kill_at_every_step(config, issues, tmp_path / "site", plain=True)
    assert "old" in seen
    assert "new" in seen


def test_a_plain_site_becomes_a_link_and_keeps_its_unchanged_files(
    issues: Issues, config: Config, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    issues.old()
    build_archive(config, site)
    make_plain(site)
    (site / "CNAME").write_text("newsletters.example.org\n")  # put there by hand
    before = {path: (site / path).stat() for path in snapshot(site) or {}}

    issues.new()
    report = build_archive(config, site)
    assert site.is_symlink()
    assert os.readlink(site) == ".site.builds/1"
    assert (site / "CNAME").read_text() == "newsletters.example.org\n"
    kept = [path for path in before if path not in [*report.written, ".newsletter-archive"]]
    assert "CNAME" in kept
    assert len(kept) > 1  # and the unchanged pages
    for path in kept:
        now = (site / path).stat()
        assert (now.st_ino, now.st_mtime_ns) == (before[path].st_ino, before[path].st_mtime_ns)
    assert left_aside(site) == []


def test_a_second_build_waits_for_the_first_and_leaves_its_files_alone(
    issues: Issues, config: Config, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    issues.old()
    build_archive(config, site)
    builds = tmp_path / ".site.builds"
    issues.new()
    with (builds / "lock").open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a running build holds it...
        live = builds / "7"
        live.mkdir()  # ...while it writes its generation
        child = os.fork()
        if child == 0:
            os.close(lock.fileno())  # else this copy would keep the lock held for ever
            status = 3
            try:
                build_archive(config, site)
                status = 0
            finally:
                os._exit(status)
        time.sleep(1)
        assert os.waitpid(child, os.WNOHANG) == (0, 0), "the second build did not wait"
        assert live.is_dir()
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status)
    assert os.WEXITSTATUS(status) == 0
    # Once the first was done, what it left became stale: the second removed it.
    assert not live.exists()
    assert os.readlink(site) == ".site.builds/2"
    assert left_aside(site) == []


def test_a_failed_build_of_a_new_site_leaves_no_site_and_nothing_aside(
    issues: Issues, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    issues.new()
    monkeypatch.setattr("newsletter.render.theme.Theme.render", broken)
    with pytest.raises(OSError, match="No space left"):
        build_archive(config, tmp_path / "site")
    assert not (tmp_path / "site").exists()
    assert [p.name for p in (tmp_path / ".site.builds").iterdir()] == ["lock"]


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The site folder served on 127.0.0.1 (built by the test before it asks)."""
    site = tmp_path / "site"
    (tmp_path / "placeholder").mkdir()
    (tmp_path / "placeholder" / "index.html").write_text("placeholder")
    site.symlink_to("placeholder")  # serve_archive wants an index.html; the build replaces it
    ready = threading.Event()
    servers: list[Any] = []

    def on_ready(server: Any) -> None:
        servers.append(server)
        ready.set()

    thread = threading.Thread(target=serve_archive, args=(site, 0), kwargs={"on_ready": on_ready},
                              daemon=True)  # fmt: skip
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{servers[0].server_address[1]}/"
    servers[0].shutdown()
    thread.join(5)


@pytest.mark.usefixtures("no_proxies")
def test_a_served_site_follows_each_new_build(
    issues: Issues, config: Config, tmp_path: Path, served: str
) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def page(path: str) -> str:
        with opener.open(served + path, timeout=10) as response:
            return str(response.read().decode())

    site = tmp_path / "site"
    site.unlink()  # the placeholder: the site is the build's own
    issues.old()
    build_archive(config, site)
    assert "November issue" not in page("ilo-coop-enews/")
    issues.new()
    build_archive(config, site)  # and the generation the server showed is gone
    settled(site)
    assert not (tmp_path / ".site.builds" / "1").exists()
    assert "November issue" in page("ilo-coop-enews/")
    assert "ILO COOP eNews" in page("ilo-coop-enews/2020-11/")
