"""Check a rendered email the way mailbox providers and readers will meet it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from newsletter.config import Config
from newsletter.errors import Finding, NewsletterError
from newsletter.files import is_workspace_path, shown_path
from newsletter.issue import Issue, check_issue
from newsletter.issue.preheader import preheader_text, stale_names
from newsletter.labels import PUBLIC_PAGES, LabelTables
from newsletter.model import MERGE_TAGS, RenderedEmail, merge_tag
from newsletter.render import link_of, render_issue
from newsletter.render.pictures import LEAD_WIDTH, THUMBNAIL_WIDTH, prepare
from newsletter.render.theme import load_theme, theme_folders

CLIP_BYTES = 102 * 1024  # Gmail cuts the HTML off after this many bytes
WARN_BYTES = 90 * 1024
SUBJECT_LENGTH = 90
PREHEADER_LENGTH = 30  # shorter, and inboxes fill the preview with body text
_MERGE_TAG = re.compile(r"^%%([a-z_]+)%%$")


@dataclass(frozen=True, slots=True)
class EmailReport:
    """An issue file's findings, then its email's checks (when the file could be rendered)."""

    checks: list[Finding]
    html_bytes: int  # 0: the file has errors, and nothing was rendered
    sent_bytes: int = 0  # the HTML as export and send make it (tracking, merge tags filled)

    @property
    def errors(self) -> int:
        return sum(check.severity == "error" for check in self.checks)


def check_issue_email(
    path: Path,
    config: Config,
    as_sent: Callable[[Issue, RenderedEmail], RenderedEmail] | None = None,
) -> EmailReport:
    """Check an issue file, then (if it has no errors) the email it renders to; its size as
    `as_sent` makes it (the export stage's own transformation: the size that gets clipped)."""
    issue, findings = check_issue(path, config)
    shown = shown_path(path)
    checks = [  # the place in the message: the email's own checks have none
        Finding(_located(shown, f.line, f.message), severity=f.severity, code="issue")
        for f in findings
    ]
    if issue is None:
        return EmailReport(checks, 0)
    labels = label_findings(issue, config)
    if labels:
        return EmailReport(checks + labels, 0)  # the render would refuse: no English instead
    pictures = [*type_findings(issue, config), *picture_findings(issue, config)]
    checks += [
        Finding(_located(shown, f.line, f.message), severity=f.severity, code=f.code)
        for f in pictures
    ]
    if any(f.severity == "error" for f in pictures):
        return EmailReport(checks, 0)  # the render would stop at the first of them
    email = render_issue(issue, config)
    sent = len((as_sent(issue, email) if as_sent else email).html.encode())
    found = check_email(issue, email, sent_bytes=sent)
    return EmailReport(checks + found, len(email.html.encode()), sent)


def label_findings(issue: Issue, config: Config) -> list[Finding]:
    """Each label the theme (or the public pages, which readers reach from the email) has in
    English and not in the issue's language, at the line of that language's table."""
    newsletter = config.newsletters.get(issue.newsletter)
    theme = load_theme(theme_folders(newsletter.templates if newsletter else None))
    missing = [*theme.labels.missing(issue.language),
               *LabelTables.read((PUBLIC_PAGES,)).missing(issue.language)]  # fmt: skip
    return [
        Finding(_located(shown_path(m.path), m.line, f"{m.message} ({issue.language!r})"),
                severity="error", code="label")
        for m in missing
    ]  # fmt: skip


def type_findings(issue: Issue, config: Config) -> list[Finding]:
    """A story kept in another language than the issue's shows its source's type label: one
    the theme cannot name in the issue's language would be that language's word in this
    email ("Interview" in French), an error at the item's line."""
    newsletter = config.newsletters.get(issue.newsletter)
    labels = load_theme(theme_folders(newsletter.templates if newsletter else None)).labels_for(
        issue.language
    )
    text = issue.path.read_text(encoding="utf-8") if issue.path.is_file() else ""
    found, named = [], set()
    for item in issue.items:
        if not item.language or item.language == issue.language or item.type in named:
            continue
        if not labels.knows_type(item.type):
            named.add(item.type)
            message = (
                f"type label {item.type!r} of a story kept in {item.language!r} has no "
                f"{issue.language!r} name: add it to [{issue.language}.types] in the theme's "
                "labels.toml"
            )
            line = _line_of(text, item.type)
            found.append(Finding(message, line=line, severity="error", code="label"))
    return found


def picture_findings(issue: Issue, config: Config) -> list[Finding]:
    """Each picture the email would link: a workspace picture that is missing, unreadable, of
    a kind clients do not show, or too heavy once prepared is an error; an address, whose
    size no one has measured, a warning (the email cannot hold its place while it loads)."""
    newsletter = config.newsletters[issue.newsletter]
    text = issue.path.read_text(encoding="utf-8") if issue.path.is_file() else ""
    wanted = [(item.image, LEAD_WIDTH if item is issue.lead else THUMBNAIL_WIDTH, item.title)
              for item in issue.items if item.image]  # fmt: skip
    if newsletter.brand.logo:
        wanted.append((newsletter.brand.logo, newsletter.brand.logo_width, ""))
    found = []
    for image, width, title in wanted:
        whose = f"the picture of {title!r}" if title else "the brand's logo"
        line = _line_of(text, image)
        if not is_workspace_path(image):
            found.append(Finding(f"{whose} ({image}) has no known size: the email cannot keep "
                                 "its place while it loads; `newsletter render "
                                 "--localise-images` hosts a measured copy", line=line,
                                 code="image-size"))  # fmt: skip
            continue
        if not config.archive.base_url:
            found.append(Finding(f"{whose} is a file of the workspace ({image}): set [archive] "
                                 "base_url, where the archive serves it", line=line,
                                 severity="error", code="image"))  # fmt: skip
            continue
        try:
            prepared = prepare(config.root, image, width)
        except NewsletterError as error:
            found.append(Finding(error.message, line=line, severity="error", code="image"))
            continue
        if prepared.size > newsletter.max_image_bytes:
            found.append(Finding(f"{whose} ({image}) weighs {prepared.size:,} bytes as the email "
                                 f"links it, over the limit of {newsletter.max_image_bytes:,} "
                                 "([layout] max_image_bytes)", line=line, severity="error",
                                 code="image"))  # fmt: skip
    return found


def _line_of(text: str, value: str) -> int | None:
    """The line of the issue file that gives this picture (the first, if several do)."""
    quoted = (f'"{value}"', f"'{value}'")
    for number, line in enumerate(text.splitlines(), 1):
        if any(q in line for q in quoted):
            return number
    return None


def _located(path: str, line: int | None, message: str) -> str:
    """`path:line: message`, or `path: message` where no line is known."""
    return f"{path}:{line}: {message}" if line else f"{path}: {message}"


def check_email(issue: Issue, email: RenderedEmail, sent_bytes: int | None = None) -> list[Finding]:
    """Everything that would make the email clipped, broken, unreadable or unlawful to send;
    its size is `sent_bytes` when given (what leaves, links tracked and merge tags filled)."""
    from lxml import html as lxml_html

    found: list[Finding] = []

    def add(severity: Literal["error", "warning"], code: str, message: str) -> None:
        found.append(Finding(message, severity=severity, code=code))

    rendered = len(email.html.encode("utf-8"))
    size = rendered if sent_bytes is None else sent_bytes
    what = f"{size:,} bytes" + ("" if size == rendered else f" as sent ({rendered:,} rendered)")
    if size > CLIP_BYTES:
        add("error", "size", f"the HTML is {what}: Gmail clips it after {CLIP_BYTES:,}")
    elif size > WARN_BYTES:
        add("warning", "size", f"the HTML is {what}, near Gmail's clip at {CLIP_BYTES:,}")

    document = lxml_html.document_fromstring(email.html)
    for image in document.iter("img"):
        if image.get("alt") is None:
            add("error", "alt", f"image {image.get('src')!r} has no alt text")
    for item in issue.items:
        if item.image and item.image_alt is None:
            add("error", "alt", f"the picture of {item.title!r} has no image_alt: say what it "
                                'shows, or write image_alt = "" if it only decorates')  # fmt: skip
    hrefs = [anchor.get("href", "").strip() for anchor in document.iter("a")]
    for href in hrefs:
        problem = _link_problem(href)
        if problem:
            add("error", "link", problem)
    if merge_tag("unsubscribe_url") not in hrefs and not any("unsubscribe" in h for h in hrefs):
        add("error", "unsubscribe", "no unsubscribe link")
    if not email.web_version_url:
        add("error", "web-version", 'no "View in browser" link: set the archive_url')
    elif email.web_version_url not in hrefs:
        add("error", "web-version", 'the "View in browser" link is missing')

    subject = len(issue.title)
    if subject > SUBJECT_LENGTH:
        add("warning", "subject", f"the subject is {subject} characters; inboxes cut it near 90")
    preheader = len(preheader_text(issue))
    if not preheader:
        add("error", "preheader", "no preheader: inboxes will show body text instead")
    elif preheader < PREHEADER_LENGTH:
        add("warning", "preheader", f"the preheader is {preheader} characters, too few to fill "
                                    "the preview")  # fmt: skip
    for name in stale_names(issue):
        add("warning", "preheader", f"the preheader names {name!r}, which no item of the issue "
                                    "has for title: rewrite it, or empty it to have it made "
                                    "from the lead at each render")  # fmt: skip
    for section in issue.sections:
        if not section.items:
            add("error", "section", f"section {section.title!r} is empty")

    shared = Counter(link for item in issue.items if (link := link_of(item)))
    for link, count in sorted(shared.items()):
        if count > 1:
            add("warning", "duplicate-link", f"{count} items link to the same page {link}")

    text = " ".join(email.text.split())
    for item in issue.items:
        if " ".join(item.title.split()) not in text:
            add("error", "text-part", f"the text part lacks {item.title!r}")
    return found


def _link_problem(href: str) -> str | None:
    if not href:
        return "a link without an address"
    tag = _MERGE_TAG.match(href)
    if tag:
        return None if tag.group(1) in MERGE_TAGS else f"unknown merge tag {href}"
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme in ("http", "https"):
        return None if re.match(r"^https?://[^\s/]+", href) else f"malformed link {href!r}"
    if scheme == "mailto":
        return None
    if not scheme:
        return f"relative link {href!r}: readers' mail clients have no page to resolve it from"
    return f"link with a {scheme}: address {href!r}"
