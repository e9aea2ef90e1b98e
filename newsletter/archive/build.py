"""Build the archive site: incremental, deterministic, atomic.

The site is built in a folder beside the old one and swapped in at the end, so a failed build
leaves the old site as it was. A page whose digest (see `site.py`) is the same as at the last
build is not rendered again: the old file is hard-linked into the new site, untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.archive.publish import RECORD, FrozenIssue, read_frozen, versions_in
from newsletter.archive.site import plan_site
from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.issue import issues_folder
from newsletter.render.theme import Theme, theme_folders

MARKER = ".newsletter-archive"  # in every site this builds: a folder without it is not ours
CACHE_VERSION = 1


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
    """What the last build of a site knew: its pages' digests and the issues it read."""

    pages: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # digest, size, mtime
    issues: dict[str, tuple[str, FrozenIssue]] = field(default_factory=dict)  # folder: digest


def _memory_path(config: Config, out: Path) -> Path:
    name = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
    return config.root / "build" / ".archive-cache" / f"{name}.pickle"


def _recall(path: Path) -> _Memory:
    try:
        version, memory = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError, TypeError):
        return _Memory()
    return memory if version == CACHE_VERSION and isinstance(memory, _Memory) else _Memory()


def published_issues(config: Config, memory: _Memory | None = None) -> list[FrozenIssue]:
    """The latest version of every published issue, as frozen in issues/<nl>/<slug>/v<n>/."""
    memory = memory or _Memory()
    found = []
    for folder in sorted(issues_folder(config).glob("*/*/v*/" + RECORD)):
        if folder.parent != versions_in(folder.parent.parent)[-1]:
            continue  # an earlier version, kept for the record
        digest = json.loads(folder.read_text(encoding="utf-8")).get("digest", "")
        known = memory.issues.get(str(folder.parent))
        frozen = known[1] if known and known[0] == digest else read_frozen(folder.parent, config)
        memory.issues[str(folder.parent)] = (digest, frozen)
        found.append(frozen)
    return found


def build_archive(
    config: Config, out: Path, on_progress: Callable[[int, int], None] | None = None
) -> BuildReport:
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise NewsletterError(f"{out} is not empty and holds no archive built by newsletter: "
                              "build into an empty or new folder")  # fmt: skip
    memory_path = _memory_path(config, out)
    memory = _recall(memory_path) if out.exists() else _Memory()
    theme = Theme(theme_folders(None))
    plan = plan_site(config, theme, published_issues(config, memory))
    report = BuildReport(out, pages=len(plan.pages), skipped=plan.skipped)

    out.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    pages: dict[str, tuple[str, int, int]] = {}
    try:
        for done, page in enumerate(plan.pages, start=1):
            target = (building / page.path).resolve()
            if not target.is_relative_to(building):  # pragma: no cover - names are checked
                raise NewsletterError(f"refusing to write outside the site: {page.path}")
            target.parent.mkdir(parents=True, exist_ok=True)
            if not _keep(out / page.path, target, memory.pages.get(page.path), page.digest):
                content = page.content
                if content is None:
                    assert page.template is not None
                    content = theme.render(page.template, page.context).encode("utf-8")
                target.write_bytes(content)
                report.written.append(page.path)
            else:
                report.kept += 1
            stat = target.stat()
            pages[page.path] = (page.digest, stat.st_size, stat.st_mtime_ns)
            if on_progress:
                on_progress(done, len(plan.pages))
        (building / MARKER).write_text("built by `newsletter archive`\n", encoding="utf-8")
        report.removed = sorted(set(memory.pages) - set(pages))
        _swap(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    memory.pages = pages
    memory_path.parent.mkdir(parents=True, exist_ok=True)
    memory_path.write_bytes(pickle.dumps((CACHE_VERSION, memory)))
    return report


def _keep(old: Path, new: Path, known: tuple[str, int, int] | None, digest: str) -> bool:
    """Link the last build's file into the new site if it is what this page would be."""
    if known is None or known[0] != digest:
        return False
    try:
        stat = old.stat()
    except OSError:
        return False
    if (stat.st_size, stat.st_mtime_ns) != known[1:]:
        return False  # changed by hand since: build it again
    try:
        os.link(old, new)
    except OSError:
        shutil.copy2(old, new)
    return True


def _swap(building: Path, out: Path) -> None:
    if not out.exists():
        os.replace(building, out)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, retired / "site")
    os.replace(building, out)
    shutil.rmtree(retired, ignore_errors=True)
