"""Publishing: an issue's number and date, and a frozen copy of what went out.

A published issue lives on in `issues/<newsletter>/<slug>/v<version>/`: the issue file as
published, the email's HTML and text, and `publication.json` (number, date, digest, and each
item's topics from the pool at that moment). Nothing later (an edited item, a new template)
changes a version; publishing changed content again makes a new version beside the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import tomlkit

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.files import write_atomically
from newsletter.issue import Issue, check_issue, read_issue
from newsletter.model import ItemQuery
from newsletter.pool import Pool
from newsletter.pool.publications import Publication
from newsletter.render import render_issue
from newsletter.tomltext import read_toml_text

RECORD = "publication.json"


@dataclass(frozen=True, slots=True)
class FrozenIssue:
    """One published version of an issue, as the archive reads it back."""

    issue: Issue
    number: int
    version: int
    published: date
    digest: str
    folder: Path
    topics: dict[str, tuple[str, ...]]  # item uid -> topics, when it was published

    @property
    def key(self) -> str:
        return f"{self.issue.newsletter}/{self.issue.slug}"


@dataclass(frozen=True, slots=True)
class PublishReport:
    frozen: FrozenIssue
    unchanged: bool  # published before with exactly this content: nothing done


def frozen_folder(issue_path: Path) -> Path:
    return issue_path.with_suffix("")


def versions(issue_path: Path) -> list[Path]:
    return versions_in(frozen_folder(issue_path))


def versions_in(folder: Path) -> list[Path]:
    """The version folders (v1, v2...) of a published issue, oldest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name[:1] == "v" and p.name[1:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[1:]))


def read_frozen(folder: Path, config: Config) -> FrozenIssue:
    """A published version, read leniently: the config may have changed since."""
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    issue, _ = check_issue(folder / "issue.toml", config, lenient=True)
    if issue is None:  # pragma: no cover - lenient reading always gives an issue
        raise NewsletterError("cannot read the published issue", folder / "issue.toml")
    return FrozenIssue(
        issue=replace(issue, path=folder.parent.parent / f"{folder.parent.name}.toml"),
        number=int(record["number"]),
        version=int(record["version"]),
        published=date.fromisoformat(record["published"]),
        digest=str(record["digest"]),
        folder=folder,
        topics={uid: tuple(t) for uid, t in record.get("topics", {}).items()},
    )


def publish_issue(
    pool: Pool, config: Config, path: Path, *, force: bool = False, today: date | None = None
) -> PublishReport:
    """Publish a draft, or (with `force`) a changed published issue as a new version."""
    issue = read_issue(path, config)
    earlier = [read_frozen(folder, config) for folder in versions(path)]
    email = render_issue(_as_published(issue, issue.number or 1, issue.published), config)
    digest = _digest(email.html, email.text)
    if earlier:
        last = earlier[-1]
        if last.digest == digest:
            return PublishReport(last, unchanged=True)
        if not force:
            raise NewsletterError(
                f"{last.key} was published on {last.published} as no. {last.number}, and has "
                f"changed since: --force publishes it again as version {last.version + 1} "
                f"(version {last.version} is kept)",
                path,
            )
        number, published, version = last.number, last.published, last.version + 1
    else:
        number = pool.next_issue_number(issue.newsletter)
        published, version = today or date.today(), 1

    final = _as_published(issue, number, published)
    email = render_issue(final, config)
    digest = _digest(email.html, email.text)
    _mark_published(path, number, published)
    topics = {
        item.uid: item.topics
        for item in pool.select_items(ItemQuery(uids=tuple(i.uid for i in final.items)))
    }
    folder = frozen_folder(path) / f"v{version}"
    record = {
        "newsletter": final.newsletter,
        "slug": final.slug,
        "number": number,
        "version": version,
        "published": published.isoformat(),
        "digest": digest,
        "topics": {
            uid: list(topics.get(uid, final.topics)) for uid in sorted({i.uid for i in final.items})
        },
    }
    _write_folder(
        folder,
        {
            "issue.toml": path.read_text(encoding="utf-8"),
            "email.html": email.html,
            "email.txt": email.text,
            RECORD: json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        },
    )
    pool.record_publication(
        Publication(final.newsletter, final.slug, number, version, published, digest)
    )
    return PublishReport(read_frozen(folder, config), unchanged=False)


def _as_published(issue: Issue, number: int, published: date | None) -> Issue:
    return replace(issue, status="published", number=number, published=published)


def _digest(html: str, text: str) -> str:
    return hashlib.sha256(f"{html}\x00{text}".encode()).hexdigest()


def _mark_published(path: Path, number: int, published: date) -> None:
    """status = "published", number and date into the issue file, every other byte kept
    (new keys go after the last top-level one, before the first table)."""
    document = tomlkit.parse(read_toml_text(path, newline=""))
    document["status"] = "published"
    document["number"] = number
    document["published"] = published
    write_atomically(path, tomlkit.dumps(document))


def _write_folder(folder: Path, files: dict[str, str]) -> None:
    """The version's folder appears whole or not at all (written aside, then renamed)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists():
        raise NewsletterError(f"{folder} exists already: published versions are not rewritten")
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, content in files.items():
            (temporary / name).write_text(content, encoding="utf-8")
        os.replace(temporary, folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
