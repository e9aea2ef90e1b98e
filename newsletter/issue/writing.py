"""The only code that writes issue files: a new issue's text, laid out and commented for the
editor, and edits that keep every other byte of the file (comments, order, line ends, a BOM).

Edits go through `edited(path, config)`: the file is read and checked first (a file with
errors is never edited), the edit is made on its tomlkit document, the result is checked
again, and only then written, atomically, under a lock so that two editors (the CLI and the
studio, say) never lose each other's change.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import tomlkit

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.files import write_atomically, write_atomically_bytes
from newsletter.issue import Issue, IssueItem, read_issue
from newsletter.tomltext import read_toml_text

_BOM = b"\xef\xbb\xbf"


def _value(value: Any) -> str:
    if isinstance(value, str) and "\n" in value:
        return tomlkit.string(value, multiline=True).as_string()
    if isinstance(value, date):
        return value.isoformat()
    return str(tomlkit.item(value).as_string())


def _item_lines(item: IssueItem) -> list[str]:
    fields: list[tuple[str, Any]] = [
        ("uid", item.uid),
        ("type", item.type),
        ("date", item.date),
        ("title", item.title),
        ("summary", item.summary),
    ]
    if item.url:
        fields.append(("url", item.url))
    if item.listing_url:
        fields.append(("listing_url", item.listing_url))
    if item.image:
        fields.append(("image", item.image))
    if item.image_alt is not None:
        fields.append(("image_alt", item.image_alt))
    if item.image_credit:
        fields.append(("image_credit", item.image_credit))
    if item.new:
        fields.append(("new", True))
    if item.language:
        fields.append(("language", item.language))
    return [f"{name} = {_value(value)}" for name, value in fields]


def new_issue_text(issue: Issue, reference: str) -> str:
    """The text of a new issue file, laid out and commented for the editor."""
    lines = [
        f"# {issue.title}",
        "#",
        "# This file is the issue: edit it freely. Reorder items, move them between sections,",
        "# delete them, shorten a title or a summary, write the intro, choose another lead.",
        f"#   newsletter validate {reference}        checks it",
        f"#   newsletter draft refresh {reference}   adds items published since (keeps your edits)",
        "",
        f"newsletter = {_value(issue.newsletter)}",
        f"title = {_value(issue.title)}",
        f"status = {_value(issue.status)}",
        f"language = {_value(issue.language)}",
        f"period = {{start = {issue.start.isoformat()}, end = {issue.end.isoformat()}}}",
        f"topics = {_value(list(issue.topics))}",
        "",
        "# The preview text inboxes show after the subject; left empty, it is made from the",
        "# lead and the intro (or the first items) each time the issue is rendered.",
        f"preheader = {_value(issue.preheader)}",
        "",
        "# A few words to open the issue; leave a blank line between paragraphs.",
        'intro = """',
        *([issue.intro] if issue.intro else []),
        '"""',
    ]
    if issue.lead:
        lines += [
            "",
            "# The lead story, shown first and largest.",
            "[lead]",
            *_item_lines(issue.lead),
        ]
    for section in issue.sections:
        lines += ["", "[[sections]]", f"title = {_value(section.title)}"]
        for item in section.items:
            lines += ["", "[[sections.items]]", *_item_lines(item)]
    lines += [
        "",
        "# What `draft` and `refresh` took from the pool. An item you delete from a section is",
        "# put in `excluded` at the next refresh and stays out; delete its uid there to have it",
        "# back.",
        "[selection]",
        "offered = [",
        *(f"    {_value(uid)}," for uid in issue.offered),
        "]",
        "excluded = [",
        *(f"    {_value(uid)}," for uid in issue.excluded),
        "]",
    ]
    return "\n".join(lines) + "\n"


def write_new_issue(path: Path, issue: Issue, reference: str) -> None:
    """Write a new issue file (a draft started over replaces the old one whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        write_atomically(path, new_issue_text(issue, reference))


# Editing an issue file


class ChangedMeanwhile(NewsletterError):
    """The file is not the one the edit was made on: another writer (a CLI command, a git
    pull, another browser tab) changed it since it was read."""


def file_digest(path: Path) -> str:
    """What an edit names as the version of the file it was made on."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def edited(
    path: Path, config: Config, *, drafts_only: bool = True, made_on: str | None = None
) -> Iterator[tuple[Issue, tomlkit.TOMLDocument]]:
    """The issue and its document to edit in the block; written back when the block ends
    without an error and the document changed, if the result still checks. With `made_on`
    (a file_digest), the edit is refused unless the file is still that version: checked
    under the lock, so no writer can slip in between."""
    with _locked(path):
        _remove_killed_writes(path)
        if made_on is not None and file_digest(path) != made_on:
            raise ChangedMeanwhile("the issue file changed since this page was loaded "
                                   "(another edit, a command or a git pull): nothing was "
                                   "changed; reload to see it as it is now", path)  # fmt: skip
        issue = read_issue(path, config)  # validates first: never edit a file with errors
        if drafts_only and issue.status != "draft":
            raise NewsletterError(f"the issue is {issue.status}; only drafts change", path)
        text = read_toml_text(path, newline="")
        document = tomlkit.parse(text)
        yield issue, document
        changed = tomlkit.dumps(document)
        if changed != text:
            read_issue(path, config, text=changed.replace("\r\n", "\n").lstrip("\ufeff"))
            _keep_for_undo(path, config)
            _save(path, changed)


_STATUS_LINE = re.compile(r'^status = "published"[^\S\r\n]*(?:#[^\r\n]*)?\r?\n', re.MULTILINE)
HISTORY = Path(".newsletter") / "history"
KEPT_VERSIONS = 50  # per issue file


def history_folder(path: Path, config: Config) -> Path:
    """Where the versions of an issue file before each edit are kept, newest last."""
    try:
        name = path.resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:  # an issue file outside the workspace: named by its path's digest
        name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    return config.root / HISTORY / name.replace("/", "__")


def _keep_for_undo(path: Path, config: Config) -> None:
    folder = history_folder(path, config)
    versions = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    number = int(versions[-1].stem) + 1 if versions else 1
    # Not waited onto the disk: a crash may lose an undo step, never the issue itself.
    write_atomically_bytes(folder / f"{number:09d}.toml", path.read_bytes(), durable=False)
    for old in versions[: max(0, len(versions) + 1 - KEPT_VERSIONS)]:
        old.unlink(missing_ok=True)


def undo_edit(path: Path, config: Config, *, made_on: str | None = None) -> Issue:
    """Put back the issue file as it was before its last edit (by the studio or a `draft`
    command); each undo goes one edit further back. A hand edit in a text editor is not
    an edit of ours: it is what the first undo goes back from."""
    with _locked(path):
        if made_on is not None and file_digest(path) != made_on:
            raise ChangedMeanwhile("the issue file changed since this page was loaded: "
                                   "nothing was undone; reload to see it", path)  # fmt: skip
        folder = history_folder(path, config)
        versions = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        if not versions:
            raise NewsletterError("no edit to undo", path)
        data = versions[-1].read_bytes()
        issue = read_issue(path, config, text=data.decode("utf-8-sig").replace("\r\n", "\n"))
        write_atomically_bytes(path, data)
        versions[-1].unlink()
    return issue


def _remove_killed_writes(path: Path) -> None:
    """The temporary copies a writer killed mid-write (SIGKILL, power) left beside the file:
    under the lock, no living writer has one open."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*"):
        if leftover.is_file() and len(leftover.name) == len(path.name) + 10:  # mkstemp's 8
            leftover.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer of an issue file at a time. The lock cannot be the file itself (each write
    replaces it with a new inode) nor sit beside it (the editor's folder, under git): it is a
    file in the temporary folder named after the issue's path, never removed (removing it would
    let a third writer lock another inode)."""
    folder = Path(tempfile.gettempdir()) / "newsletter-locks"
    folder.mkdir(exist_ok=True)
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    with open(folder / f"{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _save(path: Path, text: str) -> None:
    """Write an edited file back, in the line ends and with the byte order mark it came with
    (an editor on Windows...)."""
    before = path.read_bytes()
    if b"\r\n" in before:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if before.startswith(_BOM):
        text = "\ufeff" + text
    write_atomically(path, text)


def marked_published(text: str, number: int, published: date) -> str:
    """status = "published", number and date put into an issue file's text, every other byte
    kept. New keys go on the lines after `status`: appended, they would land under the comment
    that introduces the [lead] table."""
    document = tomlkit.parse(text)
    placed = "status" in document and "number" not in document and "published" not in document
    document["status"] = "published"
    if not placed:
        document["number"] = number
        document["published"] = published
        return tomlkit.dumps(document)
    marked = tomlkit.dumps(document)
    status = _STATUS_LINE.search(marked)
    assert status is not None  # a top-level key, before any table: tomlkit wrote it so
    newline = "\r\n" if status.group(0).endswith("\r\n") else "\n"
    added = f"number = {number}{newline}published = {published.isoformat()}{newline}"
    return marked[: status.end()] + added + marked[status.end() :]


def mark_published(path: Path, number: int, published: date) -> None:
    """Mark an issue file published, under its lock (CRLF line ends kept)."""
    with _locked(path):
        text = read_toml_text(path, newline="")
        write_atomically(path, marked_published(text, number, published))
