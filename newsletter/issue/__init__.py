"""The issue file (`issues/<newsletter>/<slug>.toml`): read, checked and handed on as plain data.

Render, export, publish and archive read issues through here only, never the database.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from newsletter.config import NOT_IN_LINES, Config, NewsletterConfig, is_language
from newsletter.errors import Finding, NewsletterError
from newsletter.files import is_workspace_path
from newsletter.headers import HeaderKind, header_problem
from newsletter.model import date_problem
from newsletter.tomltext import KeyPath, key_lines, parse_toml, read_toml_text

ISSUES_FOLDER = "issues"
STATUSES = ("draft", "published")
ITEM_KEYS = (
    "uid", "type", "title", "date", "summary", "url", "listing_url", "image", "image_alt",
    "image_credit", "new", "end", "place", "manual", "language",
)  # fmt: skip
TOP_KEYS = (
    "newsletter", "title", "status", "number", "published", "language", "period", "topics",
    "preheader", "intro", "lead", "sections", "selection",
)  # fmt: skip
# An issue's slug is its file's name: it goes into Message-IDs and web addresses as it is.
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_UID = re.compile(r"^[0-9a-f]{16}$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")
# Control characters: none in one line of text (nor line separators); in text of several lines
# (an intro, a summary) tab and line ends only.
_NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


Day = date  # the type, where a field named `date` hides it


@dataclass(frozen=True, slots=True)
class IssueItem:
    """One item as the issue shows it: the snapshot taken from the pool, as edited since."""

    uid: str
    type: str
    title: str
    date: date
    summary: str = ""
    url: str | None = None
    listing_url: str | None = None  # the source's listing page, for items without a URL
    new: bool = False  # added by `draft refresh`, not yet looked at
    end: Day | None = None  # an event's last day
    place: str = ""  # where an event is held
    manual: bool = False  # written by the editor (an event, a call): in no source, no pool
    image: str | None = None  # http(s), or a workspace path: the lead's full width, or a thumbnail
    image_alt: str | None = None  # what it shows, for those who cannot see it; "": decorative
    image_credit: str = ""  # "© ILO/M. Crozet"
    # The item's language where it is not the issue's: a story the pool has in no version in
    # the edition's language, kept as it was written (the email marks it, with hreflang).
    language: str = ""


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    items: tuple[IssueItem, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """An issue of a newsletter, as its file says."""

    path: Path
    newsletter: str
    title: str
    status: str
    language: str
    start: date
    end: date
    topics: tuple[str, ...] = ()
    preheader: str = ""
    intro: str = ""
    lead: IssueItem | None = None
    sections: tuple[Section, ...] = ()
    offered: tuple[str, ...] = ()  # every uid draft and refresh have put in, kept or not
    excluded: tuple[str, ...] = ()  # uids the editor took out: refresh never adds them again
    number: int | None = None  # given when first published: the newsletter's nth issue
    published: date | None = None

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def items(self) -> tuple[IssueItem, ...]:
        """Every item in reading order: the lead, then each section's."""
        lead = (self.lead,) if self.lead else ()
        return lead + tuple(item for section in self.sections for item in section.items)


@dataclass
class _Checker:
    """Reads an issue's parsed TOML into an Issue, collecting findings with their lines."""

    path: Path
    lines: dict[KeyPath, int]
    findings: list[Finding] = field(default_factory=list)

    def line(self, key: KeyPath) -> int | None:
        for length in range(len(key), 0, -1):
            if key[:length] in self.lines:
                return self.lines[key[:length]]
        return None

    def error(self, key: KeyPath, message: str) -> None:
        self.findings.append(Finding(message, self.path, self.line(key), "error"))

    def warning(self, key: KeyPath, message: str) -> None:
        self.findings.append(Finding(message, self.path, self.line(key), "warning"))

    def unknown_keys(self, key: KeyPath, table: dict[str, Any], known: Iterable[str]) -> None:
        known = tuple(known)
        for name in table:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.error((*key, name), f"unknown key {name!r}{hint}")

    def text(
        self,
        key: KeyPath,
        value: Any,
        *,
        required: bool = True,
        lines: bool = False,
        header: HeaderKind | None = None,
    ) -> str:
        """Text of one line (of several with `lines`; checked for a mail header as `header`)."""
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            self.error(key, f"{_dotted(key)} must be text" if value is not None
                       else f"missing {_dotted(key)}")  # fmt: skip
            return ""
        if required and not value.strip():
            self.error(key, f"{_dotted(key)} is empty")
            return value
        problem = header_problem(value, header) if header else _character_problem(value, lines)
        if problem:
            self.error(key, f"{_dotted(key)}: {problem}")
            return ""
        return value

    def number(self, key: KeyPath, value: Any) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.error(key, f"{_dotted(key)} must be a whole number from 1")
            return None
        return value

    def texts(self, key: KeyPath, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, f"{_dotted(key)} must be a list of text")
            return ()
        for index, text in enumerate(value):
            self.text((*key, index), text, required=False)
        return tuple(value)

    def uids(self, key: KeyPath, value: Any) -> tuple[str, ...]:
        found = self.texts(key, value)
        for index, uid in enumerate(found):
            if not _UID.match(uid):
                self.error((*key, index), f"{uid!r} is not an item uid (16 hex digits)")
        return found

    def day(self, key: KeyPath, value: Any) -> date | None:
        if isinstance(value, date) and not isinstance(value, datetime):
            problem = date_problem(value)
            if problem is None:
                return value
            self.error(key, f"{_dotted(key)}: {problem}")
            return None
        shown = "missing" if value is None else f"{value!r} is not a date like 2020-11-30"
        self.error(key, f"{_dotted(key)}: {shown}")
        return None

    def link(self, key: KeyPath, value: Any) -> str | None:
        if value is None or value == "":
            return None
        link = self.text(key, value)
        if link and not _URL.match(link):
            self.error(key, f"{key[-1]} must be an http(s) address, got {link!r}")
        return link if link and _URL.match(link) else None

    def picture(self, key: KeyPath, value: Any) -> str | None:
        """A picture: an http(s) address, or a JPEG or PNG file of the workspace (a path such
        as pictures/lead.jpg, hosted with the archive); never inlined (Gmail blocks data:
        URIs, and they weigh a third more than the file)."""
        if isinstance(value, str) and value.strip().lower().startswith("data:"):
            self.error(key, "image must be the address of a picture, not the picture inlined "
                            "as a data: URI")  # fmt: skip
            return None
        if isinstance(value, str) and value and is_workspace_path(value):
            path = Path(value)
            if path.is_absolute() or ".." in path.parts or "\\" in value:
                self.error(key, f"image {value!r}: give an http(s) address or a path inside "
                                "the workspace, like pictures/lead.jpg")  # fmt: skip
                return None
            return value
        return self.link(key, value)

    def language(self, key: KeyPath, value: Any) -> str:
        code = self.text(key, value, required=False, header=HeaderKind.LANGUAGE)
        if code and not is_language(code):
            self.error(key, f"{_dotted(key)}: {code!r} is not a language tag Babel knows, such "
                            "as 'en', 'fr' or 'pt-BR'")  # fmt: skip
            return ""
        return code

    def flag(self, key: KeyPath, value: Any) -> bool:
        if value is not None and not isinstance(value, bool):
            self.error(key, f"{_dotted(key)} must be true or false, not {value!r}")
        return value is True

    def item(self, key: KeyPath, value: Any) -> IssueItem | None:
        if not isinstance(value, dict):
            self.error(key, f"{_dotted(key)} must be a table of item fields")
            return None
        self.unknown_keys(key, value, ITEM_KEYS)
        uid = self.text((*key, "uid"), value.get("uid"))
        if uid and not _UID.match(uid):
            self.error((*key, "uid"), f"{uid!r} is not an item uid (16 hex digits)")
        day = self.day((*key, "date"), value.get("date"))
        item = IssueItem(
            uid=uid,
            type=self.text((*key, "type"), value.get("type")),
            title=self.text((*key, "title"), value.get("title")),
            date=day or date.min,
            summary=self.text((*key, "summary"), value.get("summary"), required=False, lines=True),
            url=self.link((*key, "url"), value.get("url")),
            listing_url=self.link((*key, "listing_url"), value.get("listing_url")),
            new=self.flag((*key, "new"), value.get("new")),
            end=self.day((*key, "end"), value["end"]) if "end" in value else None,
            place=self.text((*key, "place"), value.get("place"), required=False),
            manual=self.flag((*key, "manual"), value.get("manual")),
            image=self.picture((*key, "image"), value.get("image")),
            image_alt=self.text((*key, "image_alt"), value["image_alt"], required=False)
            if "image_alt" in value
            else None,
            image_credit=self.text(
                (*key, "image_credit"), value.get("image_credit"), required=False
            ),
            language=self.language((*key, "language"), value.get("language")),
        )
        if day and item.end and item.end < day:
            self.error((*key, "end"), f"the item ends ({item.end}) before it starts ({day})")
        return item if day is not None and uid else None


def _character_problem(text: str, lines: bool) -> str | None:
    """Why `text` cannot stand in an issue: a control character, or a line break in one line."""
    found = (NOT_IN_LINES if lines else _NOT_IN_A_LINE).search(text)
    if found is None:
        return None
    character = found.group()
    name = unicodedata.name(character, "")
    shown = f"U+{ord(character):04X}" + (f" ({name})" if name else "")
    if not lines and (character in "\n\r\x0b\x0c\x85" or name):
        return f"{shown}: a line break in text that must be one line"
    return f"{shown} is a control character: remove it"


def _dotted(key: KeyPath) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def check_issue(
    path: Path,
    config: Config,
    known_uids: Callable[[Iterable[str]], set[str]] | None = None,
    *,
    lenient: bool = False,
    text: str | None = None,
) -> tuple[Issue | None, list[Finding]]:
    """Read and check an issue file: the Issue (None if it has errors) and every finding.

    `known_uids`, given the file's uids, returns those the pool holds; without it (as in the
    stages that must not need the database) uids are checked for form and duplicates only.
    `lenient` returns what could be read despite errors: a published issue stays readable
    after the config it was made with has changed (a topic or a newsletter renamed). `text`
    checks that text as if it were the file's (an edit, before it is written).
    """
    if text is None:
        text = _file_text(path)
    data = parse_toml(text, path)
    checker = _Checker(path, key_lines(text))
    if not SLUG.match(path.stem):
        checker.error((), _slug_problem(path))
    checker.unknown_keys((), data, TOP_KEYS)

    newsletter = checker.text(("newsletter",), data.get("newsletter"))
    if newsletter and newsletter not in config.newsletters:
        known = ", ".join(sorted(config.newsletters)) or "none configured"
        checker.error(("newsletter",), f"unknown newsletter {newsletter!r} (newsletters: {known})")
    title = checker.text(("title",), data.get("title"), header=HeaderKind.TEXT)
    status = data.get("status", "draft")
    if status not in STATUSES:
        checker.error(("status",), f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    named = edition_language(config, newsletter, path.stem)
    language = named or _newsletter_language(config, newsletter)
    if "language" in data:
        language = checker.language(("language",), data["language"])
        if named and language and language != named:
            checker.error(("language",), f"language: the file is the {named!r} edition (its "
                                         f"name ends in .{named}), not {language!r}")  # fmt: skip
        configured = config.newsletters.get(newsletter)
        if configured and not named and language in configured.languages[1:]:
            # it would pass for that edition and hide the real one from send and refresh
            edition = edition_slug(configured, path.stem, language)
            message = (
                f"language: {path.stem}.toml is the issue's main edition; its {language!r} one "
                f"is {edition}.toml"
            )
            checker.error(("language",), message)

    period = data.get("period")
    start = end = None
    if not isinstance(period, dict):
        checker.error(("period",), "missing period = { start = 2020-11-01, end = 2020-11-30 }")
    else:
        checker.unknown_keys(("period",), period, ("start", "end"))
        start = checker.day(("period", "start"), period.get("start"))
        end = checker.day(("period", "end"), period.get("end"))
        if start and end and end < start:
            checker.error(("period",), f"the period ends ({end}) before it starts ({start})")

    topics = checker.texts(("topics",), data.get("topics", []))
    for index, slug in enumerate(topics):
        if slug not in config.topics:
            checker.error(("topics", index), f"unknown topic {slug!r}")

    lead = checker.item(("lead",), data["lead"]) if "lead" in data else None
    sections = []
    raw_sections = data.get("sections", [])
    if not isinstance(raw_sections, list):
        checker.error(("sections",), "sections must be [[sections]] tables")
        raw_sections = []
    for number, raw in enumerate(raw_sections):
        key: KeyPath = ("sections", number)
        if not isinstance(raw, dict):
            checker.error(key, "a section must be a [[sections]] table")
            continue
        checker.unknown_keys(key, raw, ("title", "items"))
        section_title = checker.text((*key, "title"), raw.get("title"))
        raw_items = raw.get("items", [])
        if not isinstance(raw_items, list):
            checker.error((*key, "items"), "items must be [[sections.items]] tables")
            raw_items = []
        if not raw_items:
            checker.error(key, f"section {section_title!r} is empty: add items or remove it")
        found = [checker.item((*key, "items", i), value) for i, value in enumerate(raw_items)]
        sections.append(Section(section_title, tuple(item for item in found if item)))

    selection = data.get("selection", {})
    if not isinstance(selection, dict):
        checker.error(("selection",), "selection must be a [selection] table")
        selection = {}
    checker.unknown_keys(("selection",), selection, ("offered", "excluded"))
    offered = checker.uids(("selection", "offered"), selection.get("offered", []))
    excluded = checker.uids(("selection", "excluded"), selection.get("excluded", []))

    issue = Issue(
        path=path,
        newsletter=newsletter,
        title=title,
        status=status if status in STATUSES else "draft",
        language=language or "en",
        start=start or date.min,
        end=end or date.max,
        topics=topics,
        preheader=checker.text(("preheader",), data.get("preheader"), required=False, lines=True),
        intro=checker.text(("intro",), data.get("intro"), required=False, lines=True),
        lead=lead,
        sections=tuple(sections),
        offered=offered,
        excluded=excluded,
        number=checker.number(("number",), data.get("number")),
        published=checker.day(("published",), data["published"]) if "published" in data else None,
    )
    _check_items(checker, issue, start, end, known_uids)
    errors = any(finding.severity == "error" for finding in checker.findings)
    return (None if errors and not lenient else issue), checker.findings


def _slug_problem(path: Path) -> str:
    """The error for an issue file whose name cannot be a slug, with a name that can."""
    ascii_name = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode()
    suggested = re.sub(r"[^a-z0-9._-]+", "-", ascii_name.lower()).strip("-._") or "issue"
    return (
        f"the file name {path.name!r} cannot be an issue's: it goes into message ids and web "
        f"addresses, so use lower-case letters, digits, '.', '-' and '_' (rename it, e.g. to "
        f"{suggested}.toml)"
    )


def edition_language(config: Config, newsletter: str, slug: str) -> str | None:
    """The language an issue's slug names (`2020-11.fr`: "fr"), if it is one of the
    newsletter's other editions'; None for the main edition's slugs."""
    found = config.newsletters.get(newsletter)
    stem, dot, suffix = slug.rpartition(".")
    if found and dot and stem:  # file names are lower case: `2020-11.pt-br` is pt-BR's
        return next((code for code in found.languages[1:] if code.lower() == suffix), None)
    return None


def main_slug(config: Config, newsletter: str, slug: str) -> str:
    """The slug every edition of an issue shares: `2020-11` for `2020-11.fr`."""
    if edition_language(config, newsletter, slug):
        return slug.rpartition(".")[0]
    return slug


def edition_slug(newsletter: NewsletterConfig, slug: str, language: str) -> str:
    """The slug of an issue's edition in `language`: the main slug in the main language."""
    return slug if language == newsletter.languages[0] else f"{slug}.{language.lower()}"


def edition_paths(config: Config, issue: Issue) -> dict[str, Path]:
    """Every edition of the issue that has a file, by language, the issue's own among them."""
    newsletter = config.newsletters.get(issue.newsletter)
    if newsletter is None:
        return {issue.language: issue.path}
    slug = main_slug(config, issue.newsletter, issue.slug)
    found = {}
    for language in newsletter.languages:
        path = issue.path.with_name(f"{edition_slug(newsletter, slug, language)}.toml")
        if path.is_file():
            found[language] = path
    found[issue.language] = issue.path
    return found


def newsletter_of(config: Config, issue: Issue) -> NewsletterConfig | None:
    """The newsletter as the issue's edition shows it (its language's name, sender, sections),
    None when the config has no such newsletter."""
    newsletter = config.newsletters.get(issue.newsletter)
    if newsletter is None or issue.language not in newsletter.languages:
        return newsletter  # an issue in a language of its own: the newsletter as it is
    return newsletter.edition(issue.language)


def _newsletter_language(config: Config, slug: str) -> str:
    newsletter = config.newsletters.get(slug)
    return newsletter.language if newsletter else "en"


def _item_keys(issue: Issue) -> list[tuple[KeyPath, IssueItem]]:
    keyed: list[tuple[KeyPath, IssueItem]] = [(("lead",), issue.lead)] if issue.lead else []
    for number, section in enumerate(issue.sections):
        keyed += [(("sections", number, "items", i), item) for i, item in enumerate(section.items)]
    return keyed


def _check_items(
    checker: _Checker,
    issue: Issue,
    start: date | None,
    end: date | None,
    known_uids: Callable[[Iterable[str]], set[str]] | None,
) -> None:
    keyed = _item_keys(issue)
    seen: dict[str, KeyPath] = {}
    for key, item in keyed:
        if item.uid in seen:
            first = checker.line((*seen[item.uid], "uid"))
            checker.error((*key, "uid"), f"item {item.uid} appears twice (first at line {first})")
        seen.setdefault(item.uid, key)
        if start and end and not start <= item.date <= end:
            checker.warning(
                (*key, "date"), f"{item.title!r} is dated {item.date}, outside the period"
            )
    manual = {item.uid for _, item in keyed if item.manual}
    if known_uids is not None and seen:
        known = known_uids(seen) | manual  # the editor's own items are in no pool
        for uid, key in seen.items():
            if uid not in known:
                checker.error((*key, "uid"), f"no item {uid} in the pool")


def _file_text(path: Path) -> str:
    try:
        return read_toml_text(path)
    except FileNotFoundError:
        raise NewsletterError("no such issue file", path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise NewsletterError(f"cannot read: {error}", path) from None


def read_issue(path: Path, config: Config, text: str | None = None) -> Issue:
    """The issue in a file (or in `text`, to be the file's), or a NewsletterError for its first
    error (warnings are let be)."""
    issue, findings = check_issue(path, config, text=text)
    if issue is None:
        first = next(finding for finding in findings if finding.severity == "error")
        raise NewsletterError(first.message, first.path, first.line)
    return issue


def issues_folder(config: Config) -> Path:
    return config.root / ISSUES_FOLDER


def issue_path(config: Config, newsletter: str, slug: str) -> Path:
    return issues_folder(config) / newsletter / f"{slug}.toml"


def find_issue(config: Config, name: str) -> Path:
    """An issue file from what an editor types: a path, `newsletter/slug`, or a unique slug."""
    given = Path(name)
    if given.suffix == ".toml" and given.is_file():
        return given
    folder = issues_folder(config)
    candidates = [folder / f"{name}.toml"] if "/" in name else sorted(folder.glob(f"*/{name}.toml"))
    found = [candidate for candidate in candidates if candidate.is_file()]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        names = ", ".join(f"{p.parent.name}/{p.stem}" for p in found)
        raise NewsletterError(f"{name!r} names several issues: {names}")
    raise NewsletterError(
        f"no issue {name!r}: give a file, or newsletter/slug as `newsletter issues` lists them"
    )


def issue_files(config: Config) -> list[Path]:
    """Every issue file, by newsletter then slug, each issue's editions after its main one in
    the order of the newsletter's languages."""

    def order(path: Path) -> tuple[str, str, int]:
        newsletter, slug = path.parent.name, path.stem
        language = edition_language(config, newsletter, slug)
        rank = config.newsletters[newsletter].languages.index(language) if language else 0
        return newsletter, main_slug(config, newsletter, slug), rank

    return sorted(issues_folder(config).glob("*/*.toml"), key=order)


def load_issue(config: Config, name: str) -> tuple[Path, Issue]:
    """An issue named as an editor types it, read and checked, as every stage after drafting
    starts."""
    path = find_issue(config, name)
    return path, read_issue(path, config)
