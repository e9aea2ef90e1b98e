"""Build the archive site: incremental, deterministic, atomic.

The site folder is a symbolic link to one generation of it, `site -> .site.builds/<n>`. A build
makes generation n+1 beside it: a page whose digest (see `site.py`) is the same as at the last
build is not rendered again but hard-linked from the current generation (the same file, its
time unchanged); the pages that changed are written anew. Only then is the link replaced, in
one rename, so a reader (a web server) or a kill at any moment sees the old site or the new one,
whole; a failed build leaves the old site as it was. The old generation is then removed (in
the background: deleting a thousand folders takes longer than the build), and whatever a
killed build left aside is removed by the next one, under a lock that keeps two builds of one
site, and a build and that removal, from running at once.

A site that is still a plain folder (built before generations) becomes a link on its next
build: on Linux, folder and link change places in one step (renameat2's RENAME_EXCHANGE);
where the system cannot do that, the folder is renamed aside first, and for that moment there
is no site at that path.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import marshal
import os
import re
import shutil
import subprocess
import sys
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
_CACHE_FORMAT = f"6 {sys.version_info[0]}.{sys.version_info[1]}"


@dataclass
class BuildReport:
    out: Path
    pages: int = 0
    written: list[str] = field(default_factory=list)
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # issues left out: "<name>: <why>"


@dataclass
class _Memory:
    """What the last build of a site knew: its pages' digests and the issues' data."""

    pages: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # digest, size, mtime
    # (folder, stat of its files, date settings) -> the issue's data
    issues: dict[tuple[str, tuple[int, ...], tuple[str, str | None]], IssueData] = field(
        default_factory=dict
    )


def _memory_path(config: Config, out: Path) -> Path:
    name = hashlib.sha256(str(out).encode()).hexdigest()[:16]
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
        key = (
            str(folder),
            stamp,
            settings_key(config, folder.parent.parent.name, folder.parent.name),
        )
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
    out = _site_path(out)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise NewsletterError(
            f"{out} is not empty and holds no archive built by newsletter: "
            "build into an empty or new folder"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with _Generations(out) as generations:
        return _build(config, generations, on_progress)


def _build(
    config: Config, generations: _Generations, on_progress: Callable[[int, int], None] | None
) -> BuildReport:
    out, current = generations.site, generations.current
    memory_path = _memory_path(config, out)
    memory = _recall(memory_path) if current else _Memory()
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

    new = generations.start()
    known: dict[str, tuple[str, int, int]] = {}
    # Paths as text, not Path objects: a thousand issues' pages are linked in a blink, and
    # pathlib's joins would be most of an incremental build's time.
    made: set[str] = {str(new)}
    try:
        for done, page in enumerate(plan.pages, start=1):
            if ".." in page.path.split("/") or page.path.startswith("/"):
                raise NewsletterError(f"refusing to write outside the site: {page.path}")
            target = f"{new}/{page.path}"
            _make_folder(target.rpartition("/")[0], made)
            last = memory.pages.get(page.path)
            if current and last and _unchanged(f"{current}/{page.path}", last, page.digest):
                _link(f"{current}/{page.path}", target)
                known[page.path] = last
                report.kept += 1
            else:
                with open(target, "wb") as file:
                    file.write(_content(page, theme))
                report.written.append(page.path)
            if on_progress:
                on_progress(done, len(plan.pages))
        planned = {page.path for page in plan.pages}
        if current:  # files put in the site by hand stay, as they did in a plain folder
            _keep_others(str(current), str(new), planned | set(memory.pages), made)
        (new / MARKER).write_text("built by `newsletter archive`\n", encoding="utf-8")
        report.removed = sorted(set(memory.pages) - planned)
        generations.swap(new)
    except BaseException:
        generations.discard(new)
        raise
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


def _unchanged(current: str, last: tuple[str, int, int], digest: str) -> bool:
    """The file is still what the last build wrote, and that is what this page would be."""
    if last[0] != digest:
        return False
    try:
        stat = os.stat(current)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == last[1:]  # else changed by hand: build again


def _make_folder(folder: str, made: set[str]) -> None:
    """A folder of the new generation, and those above it, each made once."""
    if folder not in made:
        _make_folder(folder.rpartition("/")[0], made)
        os.mkdir(folder)
        made.add(folder)


def _link(source: str, target: str) -> None:
    """The same file at a second path; a copy with the same time where links cannot be made."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _keep_others(current: str, new: str, ours: set[str], made: set[str], under: str = "") -> None:
    """Link into the new generation the files of the current one that no build wrote."""
    with os.scandir(f"{current}/{under}" if under else current) as entries:
        for entry in entries:
            relative = f"{under}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                _keep_others(current, new, ours, made, f"{relative}/")
            elif relative not in ours and relative != MARKER:
                target = f"{new}/{relative}"
                _make_folder(target.rpartition("/")[0], made)
                if entry.is_symlink():
                    os.symlink(os.readlink(entry.path), target)
                else:
                    _link(entry.path, target)


def _site_path(out: Path) -> Path:
    """The site's path, absolute: its own link is kept, not followed; a link made by hand (a
    site kept elsewhere) is followed, and the site is built there."""
    out = Path(os.path.abspath(out))
    out = out.parent.resolve() / out.name
    if out.is_symlink() and _generation_number(out) is None:
        out = out.resolve()
    return out


def _generation_number(site: Path) -> int | None:
    """The generation the site's link points to, when it is a link this module made."""
    try:
        target = os.readlink(site)
    except OSError:
        return None
    found = re.fullmatch(rf"\.{re.escape(site.name)}\.builds/(\d+)", target)
    return int(found[1]) if found else None


class _Generations:
    """The generations of one site, beside it in .<site>.builds/, under its lock while open."""

    def __init__(self, site: Path):
        self.site = site
        self.folder = site.parent / f".{site.name}.builds"
        self.current: Path | None = None  # the site's files as they are: a generation, a folder
        self._lock: int | None = None

    def __enter__(self) -> _Generations:
        self.folder.mkdir(exist_ok=True)
        self._lock = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._lock, fcntl.LOCK_EX)  # waits for another build of this site
        number = _generation_number(self.site)
        if number is not None:
            self.current = self.folder / str(number)
        elif self.site.is_dir() and not self.site.is_symlink():
            self.current = self.site  # a plain folder, from an older build (or empty)
        if self.current and not (self.current / MARKER).exists():
            self.current = None  # empty, or a link to a generation since removed
        self._remove_stale()
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._lock is not None
        os.close(self._lock)  # and with it the lock

    def _remove_stale(self) -> None:
        """What killed builds left: generations not in use, temporary links, staging folders
        (of builds before generations), a plain site swapped out. Under the lock, no build that
        is still running has anything here."""
        in_use = self.current.name if self.current and self.current.parent == self.folder else None
        for entry in self.folder.iterdir():
            if entry.name not in ("lock", in_use):
                _remove(entry)
        prefixes = tuple(f".{self.site.name}.{kind}-" for kind in ("staging", "link", "old"))
        for entry in self.site.parent.iterdir():
            if entry.name.startswith(prefixes):
                _remove(entry)

    def start(self) -> Path:
        """A new, empty generation."""
        numbers = [int(entry.name) for entry in self.folder.iterdir() if entry.name.isdigit()]
        new = self.folder / str(max(numbers, default=0) + 1)
        new.mkdir()
        return new

    def discard(self, new: Path) -> None:
        if _generation_number(self.site) != int(new.name):
            shutil.rmtree(new, ignore_errors=True)

    def swap(self, new: Path) -> None:
        """Point the site at `new` in one rename, then remove the generation it replaced."""
        link = self.site.parent / f".{self.site.name}.link-{new.name}"
        os.symlink(f"{self.folder.name}/{new.name}", link)
        old = self.current
        try:
            if self.site.is_symlink() or not self.site.exists():
                os.replace(link, self.site)
            elif old is None:  # an empty folder
                self.site.rmdir()
                os.replace(link, self.site)
            elif _exchange(link, self.site):
                old = link  # the plain folder is now where the link was made
            else:
                old = self.site.parent / f".{self.site.name}.old-{new.name}"
                os.rename(self.site, old)  # no site for a moment: see the module's docstring
                os.replace(link, self.site)
        except OSError as error:
            _remove(link)
            raise NewsletterError(
                f"cannot put the new build in place of {self.site}: {error.strerror or error}"
            ) from None
        self.current = new
        if old is not None:
            assert self._lock is not None
            _remove_aside(old, self._lock)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux's renameat2 with RENAME_EXCHANGE); False where the
    system or the file system cannot."""
    if sys.platform != "linux":
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange):
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            return False
        raise OSError(code, os.strerror(code), str(second))
    return True


_REMOVERS: list[subprocess.Popen[bytes]] = []  # removals under way, reaped by later builds
_REMOVE = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"


def _remove_aside(folder: Path, lock: int) -> None:
    """Remove a replaced generation in a process of its own: its thousand folders take longer
    to delete than an incremental build takes. That process holds the site's lock until it is
    done, so that the next build waits for it; if it is killed, the next build removes the rest."""
    _REMOVERS[:] = [remover for remover in _REMOVERS if remover.poll() is None]
    try:
        remover = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _REMOVE, str(folder)],
            pass_fds=(lock,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C after the build does not cut it short
        )
    except (OSError, ValueError):  # no interpreter to start (an embedded Python)
        _remove(folder)
    else:
        _REMOVERS.append(remover)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
