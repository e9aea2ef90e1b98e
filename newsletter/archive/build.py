"""Build the archive site: incremental, deterministic, atomic.

A page whose digest (see `site.py`) is the same as at the last build is not rendered again and
its file is left untouched. The pages that changed are written to a staging folder beside the
site and moved in only once all of them are written, so a failed build leaves the old site as
it was; a first build becomes the site by renaming its staging folder.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.archive.publish import RECORD, read_frozen
from newsletter.archive.site import IssueData, Page, SitePlan, issue_data, settings_key
from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.files import write_atomically_bytes
from newsletter.issue import issues_folder
from newsletter.render.theme import Theme, theme_folders

MARKER = ".newsletter-archive"  # in every site this builds: a folder without it is not ours
# The memory's format, and Python's (marshal's format is the interpreter's own).
_CACHE_FORMAT = f"3 {sys.version_info[0]}.{sys.version_info[1]}"


@dataclass
class BuildReport:
    out: Path
    pages: int = 0
    written: list[str] = field(default_factory=list)
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # issues whose names are not safe paths


@dataclass
class _Memory:
    """What the last build of a site knew: its pages' digests and the issues' data."""

    pages: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # digest, size, mtime
    # (folder, stat of its files, date settings) -> the issue's data
    issues: dict[tuple[str, tuple[int, ...], tuple[str, str | None]], IssueData] = field(
        default_factory=dict
    )


def _memory_path(config: Config, out: Path) -> Path:
    name = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
    return config.root / "build" / ".archive-cache" / f"{name}.pickle"


def _recall(path: Path) -> _Memory:
    """The last build's memory. marshal, not pickle: the data is plain, and loading a
    thousand issues' worth is what an incremental build mostly waits for."""
    try:
        version, pages, issues = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return _Memory()
    if version != _CACHE_FORMAT:
        return _Memory()
    return _Memory(pages=pages, issues=issues)


def _remember(path: Path, memory: _Memory) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = marshal.dumps((_CACHE_FORMAT, memory.pages, memory.issues))
    write_atomically_bytes(path, data, durable=False)  # a lost cache costs one full build


def published_folders(config: Config) -> list[Path]:
    """The latest version of every published issue: issues/<nl>/<slug>/v<n>/."""
    latest: dict[Path, tuple[int, Path]] = {}
    for record in issues_folder(config).glob("*/*/v*/" + RECORD):
        version = record.parent.name[1:]
        if version.isdigit():
            issue, number = record.parent.parent, int(version)
            if issue not in latest or latest[issue][0] < number:
                latest[issue] = (number, record.parent)  # earlier versions: for the record
    return [folder for _, folder in sorted(latest.values(), key=lambda v: str(v[1]))]


def published_data(config: Config, memory: _Memory) -> list[IssueData]:
    """Each published issue's data for the site, read again only if its files changed (a
    version's files never change once written, so their sizes and times tell)."""
    known, found = memory.issues, []
    memory.issues = {}
    for folder in published_folders(config):
        files = (folder / "issue.toml", folder / RECORD)
        stamp = tuple(n for f in files for n in (f.stat().st_size, f.stat().st_mtime_ns))
        key = (str(folder), stamp, settings_key(config, folder.parent.parent.name))
        data = known.get(key)
        if data is None:
            source = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
            data = issue_data(read_frozen(folder, config), config, source)
        memory.issues[key] = data
        found.append(data)
    return found


def build_archive(
    config: Config, out: Path, on_progress: Callable[[int, int], None] | None = None
) -> BuildReport:
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise NewsletterError(
            f"{out} is not empty and holds no archive built by newsletter: "
            "build into an empty or new folder"
        )
    memory_path = _memory_path(config, out)
    memory = _recall(memory_path) if out.exists() else _Memory()
    cache = memory_path.parent / "templates"
    cache.mkdir(parents=True, exist_ok=True)
    theme = Theme(theme_folders(None), bytecode_cache=cache)
    plan = SitePlan(
        config,
        theme,
        published_data(config, memory),
        load=lambda folder: read_frozen(Path(folder), config),
    )
    plan.plan()
    report = BuildReport(out, pages=len(plan.pages), skipped=plan.skipped)

    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = not (out / MARKER).exists()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    known: dict[str, tuple[str, int, int]] = {}
    folders: set[Path] = set()
    try:
        for done, page in enumerate(plan.pages, start=1):
            if ".." in page.path.split("/") or page.path.startswith("/"):
                raise NewsletterError(f"refusing to write outside the site: {page.path}")
            last = memory.pages.get(page.path)
            if not fresh and last and _unchanged(out / page.path, last, page.digest):
                known[page.path] = last
                report.kept += 1
            else:
                target = staging / page.path
                if target.parent not in folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    folders.add(target.parent)
                target.write_bytes(_content(page, theme))
                report.written.append(page.path)
            if on_progress:
                on_progress(done, len(plan.pages))
        (staging / MARKER).write_text("built by `newsletter archive`\n", encoding="utf-8")
        report.removed = sorted(set(memory.pages) - {page.path for page in plan.pages})
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _apply(staging, out, report, fresh)
    digests = {page.path: page.digest for page in plan.pages}
    for path in report.written:
        stat = (out / path).stat()
        known[path] = (digests[path], stat.st_size, stat.st_mtime_ns)
    memory.pages = known
    _remember(memory_path, memory)
    return report


def _content(page: Page, theme: Theme) -> bytes:
    if page.content is not None:
        return page.content()
    assert page.template is not None
    assert page.make is not None
    return theme.render(page.template, page.make()).encode("utf-8")


def _unchanged(current: Path, last: tuple[str, int, int], digest: str) -> bool:
    """The file is still what the last build wrote, and that is what this page would be."""
    if last[0] != digest:
        return False
    try:
        stat = current.stat()
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == last[1:]  # else changed by hand: build again


def _apply(staging: Path, out: Path, report: BuildReport, fresh: bool) -> None:
    """Put the staged files in place: a new site by renaming the staging folder, an existing
    one file by file (each rename atomic); then remove what the site no longer has.

    Everything that can fail (reading, rendering) happened before: the old site stays whole
    if the build fails, and the renames here are what a file system does not fail at.
    """
    if fresh:
        if out.exists():
            out.rmdir()  # empty (checked above), or the rename below could not replace it
        os.replace(staging, out)
        return
    for path in report.written:
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / path, target)
    shutil.rmtree(staging, ignore_errors=True)
    for path in report.removed:
        (out / path).unlink(missing_ok=True)
        folder = (out / path).parent
        while folder != out and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
