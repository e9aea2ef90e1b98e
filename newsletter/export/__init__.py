"""Export an issue for sending: an .eml file, a bundle, or the JSON an ESP's API takes.

The only stage that builds MIME; it starts from the rendered email and never re-renders it.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.config import Config, NewsletterConfig
from newsletter.errors import NewsletterError
from newsletter.export.esp import PROVIDERS, esp_payload
from newsletter.export.mime import (
    build_message,
    fill_merge_tags,
    message_id_for,
    sender_of,
    unsubscribe_url_for,
    with_utm,
)
from newsletter.issue import Issue, newsletter_of
from newsletter.model import MERGE_TAGS, RenderedEmail, merge_tag

if TYPE_CHECKING:
    from newsletter.render.checks import EmailReport

FORMATS = ("eml", "bundle", *PROVIDERS)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries without a clock in them: same input, same bytes


def prepared_email(issue: Issue, config: Config) -> tuple[RenderedEmail, NewsletterConfig]:
    """The issue rendered, with the newsletter's tracking parameters on its links; and the
    newsletter as the issue's edition shows it (its sender, its brand)."""
    from newsletter.render import render_issue

    newsletter = _newsletter(issue, config)
    return with_utm(render_issue(issue, config), newsletter, issue.slug), newsletter


def _newsletter(issue: Issue, config: Config) -> NewsletterConfig:
    newsletter = newsletter_of(config, issue)
    if newsletter is None:
        raise NewsletterError(f"no newsletter {issue.newsletter!r} in the config")
    return newsletter


# The longest values a subscriber brings, to measure what is sent: a 60-character address (its
# sealed token makes the longest unsubscribe link; the token's length does not depend on the
# key) and a long name.
_LONGEST_ADDRESS = "firstname.middlename.lastname.department" + "@" + "x" * 15 + ".org"
_LONGEST_NAME = "Maria Fernanda de los Ángeles García-Rodríguez"


def as_sent(issue: Issue, email: RenderedEmail, config: Config) -> RenderedEmail:
    """The rendered email as export and send make it for a subscriber with the longest values:
    tracking parameters on its links, its merge tags filled (what `check` measures)."""
    newsletter = _newsletter(issue, config)
    tracked = with_utm(email, newsletter, issue.slug)
    unsubscribe = unsubscribe_url_for(newsletter, _LONGEST_ADDRESS, b"a key of any length")
    return fill_merge_tags(tracked, {
        "unsubscribe_url": unsubscribe,
        "subscriber_name": _LONGEST_NAME,
        "web_version_url": email.web_version_url or "",
    })  # fmt: skip


def check_issue_as_sent(path: Path, config: Config) -> EmailReport:
    """`check`: the issue file, then its email, measured as it is sent."""
    from newsletter.render.checks import check_issue_email

    return check_issue_email(path, config, lambda issue, email: as_sent(issue, email, config))


def list_values(email: RenderedEmail, newsletter: NewsletterConfig) -> dict[str, str]:
    """Merge-tag values for a message not addressed to anyone in particular."""
    return {
        "unsubscribe_url": newsletter.unsubscribe_url or "",
        "subscriber_name": "",
        "web_version_url": email.web_version_url or "",
    }


def export_eml(
    issue: Issue, email: RenderedEmail, newsletter: NewsletterConfig, now: datetime | None = None
) -> bytes:
    sender = sender_of(newsletter)
    filled = fill_merge_tags(email, list_values(email, newsletter))
    unique = f"{issue.newsletter}.{issue.slug}.{uuid.uuid4().hex[:16]}"
    return build_message(
        filled,
        newsletter,
        message_id=message_id_for(sender.domain, unique),
        date=now or datetime.now(UTC),
        unsubscribe_url=newsletter.unsubscribe_url,
    )


def export_bundle(issue: Issue, email: RenderedEmail, newsletter: NewsletterConfig) -> bytes:
    """A zip: email.html and email.txt (merge tags left neutral), local images, manifest.json."""
    sender = newsletter.sender
    manifest = {
        "issue": f"{issue.newsletter}/{issue.slug}",
        "subject": email.subject,
        "preheader": email.preheader,
        "language": email.language,
        "from": f"{sender.from_name} <{sender.from_address}>" if sender else None,
        "web_version_url": email.web_version_url,
        "merge_tags": {
            name: merge_tag(name)
            for name in MERGE_TAGS
            if merge_tag(name) in email.html or merge_tag(name) in email.text
        },
    }
    files = {
        "email.html": email.html.encode(),
        "email.txt": email.text.encode(),
        "manifest.json": (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode(),
        **_local_images(email, newsletter),
    }
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(entry, files[name])
    return buffer.getvalue()


def _local_images(email: RenderedEmail, newsletter: NewsletterConfig) -> dict[str, bytes]:
    """Images the email refers to by a path in the theme's folders, under their own names."""
    from lxml import html as lxml_html

    from newsletter.render.theme import theme_folders

    found = {}
    for image in lxml_html.document_fromstring(email.html).iter("img"):
        source = image.get("src", "")
        if not source or "://" in source or source.startswith(("data:", "cid:", "/")):
            continue
        for folder in theme_folders(newsletter.templates):
            path = (folder / source).resolve()
            if path.is_file() and path.is_relative_to(folder.resolve()):
                found[source] = path.read_bytes()
                break
    return found


def export_issue(
    issue: Issue, config: Config, export_format: str, now: datetime | None = None
) -> bytes:
    if export_format not in FORMATS:
        raise NewsletterError(f"unknown format {export_format!r}; formats: {', '.join(FORMATS)}")
    email, newsletter = prepared_email(issue, config)
    if export_format == "eml":
        return export_eml(issue, email, newsletter, now)
    if export_format == "bundle":
        return export_bundle(issue, email, newsletter)
    payload = esp_payload(export_format, email, issue, newsletter)
    return (json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode()


def default_export_path(config: Config, issue: Issue, export_format: str) -> Path:
    suffix = {"eml": ".eml", "bundle": ".zip"}.get(export_format, f".{export_format}.json")
    return config.root / "build" / issue.newsletter / issue.slug / f"email{suffix}"


def export_to_file(
    issue: Issue, config: Config, export_format: str, path: Path | None = None
) -> tuple[Path, int]:
    """Export an issue to `path` [default: build/<newsletter>/<slug>/email.<format>]: the path
    written and its size in bytes."""
    from newsletter.files import write_atomically_bytes

    data = export_issue(issue, config, export_format)
    path = path or default_export_path(config, issue, export_format)
    write_atomically_bytes(path, data)
    return path, len(data)
