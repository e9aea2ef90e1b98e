"""Publishing: an issue's number and date, and a frozen copy of what went out.

A published issue lives on in `issues/<newsletter>/<slug>/v<version>/`: the issue file as
published, the email's HTML and text, and `publication.json` (number, date, digest, and each
item's topics from the pool at that moment). Nothing later (an edited item, a new template)
changes a version; publishing changed content again makes a new version beside the old one.

Numbers are given once, and a crash never leaves half a publication. The frozen folder is the
record of what went out; the database's `publications` row is its index, and the issue file's
status, number and date are a note of it. A file and a database row cannot be written in one
step, so the folder comes first and the rest can always be rebuilt from it (a row written first
could name a copy that does not exist). One `publish` of a newsletter runs at a time: all of it
up to the commit is one transaction holding the newsletter's lock (on SQLite the database's
write lock, BEGIN IMMEDIATE, so other writers wait the tenth of a second of a render and a few
small files; on PostgreSQL an advisory lock of that newsletter only). Under the lock:

1. repair: a frozen version of the newsletter without its row gets it, from its
   publication.json; unfinished copies of the issue (`.v1.xxxx`, a crash's leftovers) go;
2. the number: an earlier version's, or one more than the highest in the database and in any
   frozen folder, so a number that reached the disk is never given again (and a unique index
   on a first version's number backs the lock);
3. the frozen folder: written aside, each file on disk (fsync), then renamed into place. This
   rename is the moment of publishing: before it nothing is left, after it the issue is out;
4. its row, the issue file marked (status, number, date), and the commit.

A crash after the rename leaves an issue the next `publish` finds frozen with the very content
it would publish: that run records the row and marks the file if they are missing, and says so.
`_after_step` is where tests make each step crash.

Language editions (`2020-11.fr`, the French edition of `2020-11`) are not issues of their own:
an edition takes its issue's number, and its publication.json says whose edition it is
(`edition_of`, `language`). An edition is published only once its main edition is: the number
is given once, when the main edition goes out, so an edition published first would have to
guess it (and a guess is wrong as soon as another issue is published in between, or the main
one never is); it is refused with a one-line message naming what to publish first. An edition's
publication has no row in the `publications` table, whose rows are the newsletter's numbered
issues (its unique index gives each number to one first version): the frozen folder is its
record, and nothing counts it as a number.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from newsletter.config import Config
from newsletter.errors import Finding, NewsletterError
from newsletter.issue import (
    Issue,
    check_issue,
    edition_language,
    issues_folder,
    main_slug,
    read_issue,
)
from newsletter.issue.writing import file_digest, mark_published, marked_published
from newsletter.pool import Pool
from newsletter.pool.publications import NewsletterPublications, Publication
from newsletter.render import render_issue
from newsletter.tomltext import parse_toml, read_toml_text

RECORD = "publication.json"
MEDIA = "media"  # the prepared workspace pictures the email links: media/<digest>.<ext>
FILES = ("issue.toml", "email.html", "email.txt", RECORD)  # in the order they are written
STEPS = (
    "repaired",
    "numbered",
    *(f"wrote {name}" for name in FILES),
    "renamed",
    "recorded",
    "marked",
    "committed",
)  # the points after which tests make `publish` crash
_UNFINISHED = re.compile(r"^\.v[0-9]+\.")  # tempfile.mkdtemp(prefix=".v1.") beside v1


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
    edition_of: str = ""  # a language edition's main slug ("2020-11" for "2020-11.fr")

    @property
    def key(self) -> str:
        return f"{self.issue.newsletter}/{self.issue.slug}"


@dataclass(frozen=True, slots=True)
class PublishReport:
    frozen: FrozenIssue
    unchanged: bool  # published before with exactly this content: nothing new written
    repaired: tuple[str, ...] = ()  # what an interrupted publish had left undone, now done
    warnings: tuple[Finding, ...] = ()


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
        edition_of=str(record.get("edition_of", "")),
    )


def publish_issue(
    pool: Pool,
    config: Config,
    path: Path,
    *,
    force: bool = False,
    today: date | None = None,
    number: int | None = None,
) -> PublishReport:
    """Publish a draft, or (with `force`) a changed published issue as a new version; finish
    what an interrupted publish left undone first.

    `today` is the publication date (a back issue's real date); `number` its number, which
    must fit the dates: issues dated before it have lower numbers, issues after it higher.
    Without one, the number follows the newest issue's, and a date before it is refused."""
    issue = read_issue(path, config)
    text = _issue_text(path)
    _check_slug(config, path, issue)
    _check_approval(pool, config, path, issue, force)
    with pool.publishing(issue.newsletter) as record:
        repaired, warnings = _repair(config, path, issue, record)
        _after_step("repaired")
        outcome = _publish_locked(config, path, issue, text, record, force, today, number)
        if not isinstance(outcome, NewsletterError):
            frozen, unchanged = outcome
            # Still under the lock: a publish of the same issue waiting for it then finds
            # the file marked, and has nothing to finish.
            if not _is_marked(path, frozen.number, frozen.published):
                mark_published(path, frozen.number, frozen.published)
                if unchanged:
                    repaired.append(
                        f"marked {path} published (no. {frozen.number}, {frozen.published})"
                    )
            _after_step("marked")
    _after_step("committed")
    if isinstance(outcome, NewsletterError):
        raise outcome  # refused, after the repairs are committed
    return PublishReport(frozen, unchanged, tuple(repaired), tuple(warnings))


def _check_slug(config: Config, path: Path, issue: Issue) -> None:
    """An issue named after the language of one of its newsletter's editions would be the
    archive's page of that language's issues (`<newsletter>/fr/`): refused. (The main
    language's issues are listed at `<newsletter>/`: "en" is a name like another.)"""
    newsletter = config.newsletters.get(issue.newsletter)
    if newsletter and issue.slug in newsletter.languages[1:]:
        raise NewsletterError(
            f"{issue.newsletter}/{issue.slug}: an issue cannot be named after one of the "
            f"newsletter's languages ({issue.newsletter}/{issue.slug}/ is the archive's list of "
            "that language's issues): rename the file",
            path,
        )


def _check_approval(pool: Pool, config: Config, path: Path, issue: Issue, force: bool) -> None:
    """A newsletter with `approval = true` publishes a draft (or, with force, a new version)
    only as a reviewer approved it: this very file, byte for byte (any edit since undoes the
    approval). Publishing an unchanged published issue again needs none: it is a no-op."""
    newsletter = config.newsletters.get(issue.newsletter)
    if not newsletter or not newsletter.approval or (issue.status != "draft" and not force):
        return
    if pool.approved_by(issue.newsletter, issue.slug, file_digest(path)) is None:
        raise NewsletterError(
            f"{issue.newsletter} publishes only approved issues, and no reviewer approved "
            "this version of the file (an edit since an approval needs a new one): approve "
            "it in the studio",
            path,
        )


def _publish_locked(
    config: Config,
    path: Path,
    issue: Issue,
    text: str,
    record: NewsletterPublications,
    force: bool,
    today: date | None,
    wanted: int | None,
) -> tuple[FrozenIssue, bool] | NewsletterError:
    """The number, the frozen folder and its row, inside the transaction: (the version, True
    if it was there already with this content), or why a changed issue is not published."""
    history = record.history()
    edition = edition_language(config, issue.newsletter, issue.slug)
    earlier = [read_frozen(folder, config) for folder in versions(path)]
    recorded = [p for p in history if p.slug == issue.slug]
    last = earlier[-1] if earlier else None
    if last:
        if wanted is not None and wanted != last.number:
            return NewsletterError(f"{last.key} is no. {last.number} already", path)
        number, published = last.number, last.published
        version = max([last.version] + [p.version for p in recorded]) + 1
    elif recorded:
        raise NewsletterError(
            f"{issue.newsletter}/{issue.slug} was published as no. {recorded[0].number} on "
            f"{recorded[0].published}, the database says, but its frozen copy is missing: "
            f"restore {frozen_folder(path)} from a backup",
            path,
        )
    elif edition:
        published, version = today or date.today(), 1
        numbered = _edition_number(config, path, issue, history, published, wanted)
        if isinstance(numbered, str):
            return NewsletterError(numbered, path)
        number = numbered
    else:
        on_disk = [p for _, p in _frozen_publications(config, path, issue.newsletter)]
        published, version = today or date.today(), 1
        numbered = _number_for([*history, *on_disk], published, wanted)
        if isinstance(numbered, str):
            return NewsletterError(numbered, path)
        number = numbered
    _after_step("numbered")

    final = _as_published(issue, number, published)
    email = render_issue(final, config)
    digest = _digest(email.html, email.text)
    if last and last.digest == digest:
        return last, True
    if last and not force:
        return NewsletterError(
            f"{last.key} was published on {last.published} as no. {last.number}, and has "
            f"changed since: --force publishes it again as version {version} "
            f"(version {last.version} is kept)",
            path,
        )

    topics = record.topics(item.uid for item in final.items)
    publication = Publication(final.newsletter, final.slug, number, version, published, digest)
    content = {
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
    if edition:
        content |= {
            "edition_of": main_slug(config, issue.newsletter, issue.slug),
            "language": edition,
        }
    folder = frozen_folder(path) / f"v{version}"
    _write_folder(
        folder,
        {
            "issue.toml": marked_published(text, number, published),
            "email.html": email.html,
            "email.txt": email.text,
            RECORD: json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            # The workspace pictures it links, as prepared: the archive serves them from here,
            # so a picture edited or deleted later leaves what went out as it was.
            **{name: file.read_bytes() for name, file in email.media},
        },
    )
    if not edition:  # an edition is no numbered issue of its own: no row (see above)
        record.record(publication)
    _after_step("recorded")
    return read_frozen(folder, config), False


def _edition_number(
    config: Config,
    path: Path,
    issue: Issue,
    history: list[Publication],
    published: date,
    wanted: int | None,
) -> int | str:
    """A language edition's number: its main edition's, which must be published already (and
    not after this date); or why not."""
    main = main_slug(config, issue.newsletter, issue.slug)
    key, main_key = f"{issue.newsletter}/{issue.slug}", f"{issue.newsletter}/{main}"
    frozen = versions(path.with_name(f"{main}.toml"))
    found = [(p.number, p.published) for p in history if p.slug == main and p.version == 1]
    if frozen:
        first = read_frozen(frozen[0], config)
        found = [(first.number, first.published)]
    if not found:
        return (
            f"{key} is an edition of {main_key}, which is not published: publish {main_key} "
            "first (an edition takes its issue's number)"
        )
    number, main_published = found[0]
    if wanted is not None and wanted != number:
        return f"--number {wanted}: {key} is an edition of {main_key}, no. {number}"
    if published < main_published:
        return (
            f"{key} dated {published} would come out before {main_key} ({main_published}), "
            "whose edition it is: give a date from then on"
        )
    return number


def _number_for(taken: list[Publication], published: date, wanted: int | None) -> int | str:
    """The number of an issue published on `published`, or why `wanted` cannot be it."""
    by_number = {p.number: p for p in taken}
    if wanted is None:
        newest = by_number[max(by_number)] if by_number else None
        if newest and newest.published > published:
            return (
                f"no. {newest.number} ({newest.slug}) is dated {newest.published}, after "
                f"{published}: give --number to publish a back issue"
            )
        return max(by_number, default=0) + 1
    if wanted < 1:
        return f"--number {wanted}: expected 1 or more"
    if wanted in by_number:
        return f"no. {wanted} is {by_number[wanted].slug} already"
    for other in taken:
        if (other.number < wanted) != (other.published <= published):
            side = "below" if other.number < wanted else "above"
            return (
                f"no. {wanted} dated {published} is out of order with no. {other.number} "
                f"({other.slug}, {other.published}): numbers follow dates, so give one "
                f"{side} {other.number}"
            )
    return wanted


def _repair(
    config: Config, path: Path, issue: Issue, record: NewsletterPublications
) -> tuple[list[str], list[Finding]]:
    """Under the lock, before anything else: the rows of frozen versions that have none, and
    no unfinished copies of this issue. Returns what was done, and what could not be."""
    done: list[str] = []
    warnings: list[Finding] = []
    for unfinished in _unfinished_copies(frozen_folder(path)):
        shutil.rmtree(unfinished)
        done.append(f"removed {unfinished}, an unfinished copy an interrupted publish left")
    history = record.history()
    recorded = {(p.slug, p.version) for p in history}
    numbered = {p.number: p.slug for p in history if p.version == 1}
    for folder, publication in _frozen_publications(config, path, issue.newsletter):
        key = f"{publication.newsletter}/{publication.slug}"
        if (publication.slug, publication.version) in recorded:
            continue
        holder = numbered.get(publication.number) if publication.version == 1 else None
        if holder is not None:
            warnings.append(
                Finding(
                    f"{key} went out as no. {publication.number}, which the database gives to "
                    f"{publication.newsletter}/{holder}: two issues have that number; left "
                    "unrecorded",
                    folder / RECORD,
                )
            )
            continue
        record.record(publication)
        recorded.add((publication.slug, publication.version))
        if publication.version == 1:
            numbered[publication.number] = publication.slug
        finish = "" if publication.slug == issue.slug else f"; `publish {key}` finishes it"
        done.append(
            f"recorded {key} (no. {publication.number}, version {publication.version}) from "
            f"its frozen copy {folder}, which an interrupted publish had not{finish}"
        )
    return done, warnings


def _frozen_publications(
    config: Config, path: Path, newsletter: str
) -> list[tuple[Path, Publication]]:
    """Every frozen version of the newsletter's numbered issues (its folder and record),
    wherever in the issues folder (or beside this issue) they are; language editions aside."""
    folders = issues_folder(config).glob("*")
    newsletter_folders = {folder.resolve() for folder in folders if folder.is_dir()}
    newsletter_folders.add(path.parent.resolve())
    found = []
    for newsletter_folder in sorted(newsletter_folders):
        for issue_folder in sorted(newsletter_folder.iterdir()):
            for folder in versions_in(issue_folder):
                publication = _read_record(folder / RECORD)
                if publication and publication.newsletter == newsletter:
                    found.append((folder, publication))
    return found


def _read_record(path: Path) -> Publication | None:
    """A numbered issue's publication record; None for a language edition's (no number of its
    own, no row)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("edition_of"):
            return None
        return Publication(
            newsletter=str(record["newsletter"]),
            slug=str(record["slug"]),
            number=int(record["number"]),
            version=int(record["version"]),
            published=date.fromisoformat(record["published"]),
            digest=str(record["digest"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NewsletterError(f"cannot read this publication record: {error}", path) from None


def _unfinished_copies(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _UNFINISHED.match(p.name) and p.is_dir())


def _after_step(step: str) -> None:
    """Nothing: tests replace it to make `publish` crash after each of STEPS."""


def _as_published(issue: Issue, number: int, published: date | None) -> Issue:
    return replace(issue, status="published", number=number, published=published)


def _digest(html: str, text: str) -> str:
    return hashlib.sha256(f"{html}\x00{text}".encode()).hexdigest()


def _issue_text(path: Path) -> str:
    """The issue file's text, without a byte-order mark (an editor's, which TOML refuses)."""
    return read_toml_text(path, newline="")  # CRLF kept: the marks change nothing else


def _is_marked(path: Path, number: int, published: date) -> bool:
    data = parse_toml(_issue_text(path), path)
    marks = (data.get("status"), data.get("number"), data.get("published"))
    return marks == ("published", number, published)


def _write_folder(folder: Path, files: dict[str, str | bytes]) -> None:
    """The version's folder appears whole or not at all: written aside, each file on disk,
    then renamed into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists():
        raise NewsletterError(f"{folder} exists already: published versions are not rewritten")
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, content in files.items():
            target = temporary / name
            target.parent.mkdir(exist_ok=True)  # media/
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(target, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            _after_step(f"wrote {name}")
        if (temporary / MEDIA).is_dir():
            _sync_folder(temporary / MEDIA)
        _sync_folder(temporary)
        os.replace(temporary, folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _sync_folder(folder.parent)  # the rename itself on disk
    _after_step("renamed")


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
