"""The one MIME message of an issue (RFC 5322, multipart/alternative): headers written by
`newsletter.headers` from checked values, the parts encoded by the standard library."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from email import policy
from email.message import MIMEPart
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsletter.config import NewsletterConfig, SenderConfig
from newsletter.errors import NewsletterError
from newsletter.headers import (
    HeaderKind,
    check_header_value,
    fold,
    mailbox_header,
    phrase,
    text_header,
)
from newsletter.model import MERGE_TAGS, RenderedEmail, merge_tag

# The parts' encoding: CRLF line ends, quoted-printable lines of at most 76 characters (RFC
# 2045; the default allows 78). Headers are not the email package's to write (see headers.py).
POLICY = policy.SMTP.clone(max_line_length=76)
_MESSAGE_ID = re.compile(r"^<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,200}@[A-Za-z0-9.-]{1,253}>$")
_HREF = re.compile(r'href="([^"]*)"')
_TEXT_URL = re.compile(r"https?://[^\s<>\"']+")


def sender_of(newsletter: NewsletterConfig) -> SenderConfig:
    if newsletter.sender is None:
        raise NewsletterError(
            f"newsletter {newsletter.slug!r} has no [newsletters.{newsletter.slug}.sender] "
            "with a `from` address"
        )
    return newsletter.sender


# Links


def add_utm(url: str, campaign: str, source: str, medium: str = "email") -> str:
    """The URL with utm_source/medium/campaign added; parameters it already has are kept."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    wanted = [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)]
    query += [(name, value) for name, value in wanted if name not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_utm(email: RenderedEmail, newsletter: NewsletterConfig, issue_slug: str) -> RenderedEmail:
    """Tracking parameters on the email's links, when the newsletter asks for them: never on
    unsubscribe links, merge tags or mailto: links."""
    sender = newsletter.sender
    if sender is None or not sender.utm:
        return email
    source = sender.utm_source or newsletter.slug
    exempt = {newsletter.unsubscribe_url} if newsletter.unsubscribe_url else set()

    def tagged(url: str) -> str:
        if url in exempt or "unsubscribe" in url.lower() or url.startswith("%%"):
            return url
        return add_utm(url, issue_slug, source)

    def href(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1))
        return f'href="{html.escape(tagged(url), quote=True)}"'

    return replace(
        email,
        html=_HREF.sub(href, email.html),
        text=_TEXT_URL.sub(lambda match: tagged(match.group()), email.text),
    )


# Merge tags


def fill_merge_tags(email: RenderedEmail, values: Mapping[str, str]) -> RenderedEmail:
    """Each neutral merge tag replaced by its value (escaped in the HTML part)."""
    html_part, text_part = email.html, email.text
    for name in MERGE_TAGS:
        value = values.get(name, "")
        html_part = html_part.replace(merge_tag(name), html.escape(value, quote=True))
        text_part = text_part.replace(merge_tag(name), value)
    return replace(email, html=html_part, text=text_part)


def signed_unsubscribe_url(base: str, address: str, newsletter: str, key: bytes) -> str:
    """The list's unsubscribe page with the subscriber's token (newsletter/tokens.py), so that
    the page can honour a one-click unsubscribe without a login (RFC 8058) while nobody who
    sees the link can read the address in it."""
    from newsletter.tokens import make_token

    parts = urlsplit(base)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append(("t", make_token(address, newsletter, key)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def unsubscribe_url_for(newsletter: NewsletterConfig, address: str, key: bytes | None) -> str:
    """The recipient's own unsubscribe link (with their token) when there is a key to seal it,
    else the list's page."""
    if newsletter.unsubscribe_url and key:
        return signed_unsubscribe_url(newsletter.unsubscribe_url, address, newsletter.slug, key)
    return newsletter.unsubscribe_url or ""


# The message


def list_id(newsletter: NewsletterConfig, sender: SenderConfig) -> bytes | None:
    """`List-Id: ILO COOP eNews <coop-enews.example.org>` (RFC 2919)."""
    if not sender.list_id:
        return None
    check_header_value(sender.list_id, HeaderKind.LIST_ID, "list_id")
    check_header_value(newsletter.name, HeaderKind.NAME, "the newsletter's name")
    return fold("List-Id", [*phrase(newsletter.name), f"<{sender.list_id}>"])


def list_unsubscribe_headers(
    url: str | None, mailto: str | None, *, one_click: bool = False
) -> list[bytes]:
    """List-Unsubscribe with its links, each checked, folded between links; and
    List-Unsubscribe-Post (RFC 8058's one click) only when `url` names its recipient: a POST
    to the list's bare page would promise an unsubscribe that cannot say whom."""
    links = []
    if url:
        links.append(f"<{check_header_value(url, HeaderKind.URL, 'the unsubscribe link')}>")
    if mailto:
        address = check_header_value(mailto, HeaderKind.ADDRESS, "unsubscribe_mailto")
        links.append(f"<mailto:{address}?subject=unsubscribe>")
    if not links:
        return []
    tokens = [link + "," for link in links[:-1]] + links[-1:]
    headers = [fold("List-Unsubscribe", tokens)]
    if url and one_click:
        headers.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    return headers


def message_head(
    email: RenderedEmail,
    newsletter: NewsletterConfig,
    *,
    date: datetime,
    subject_prefix: str = "",
) -> list[bytes]:
    """The headers every copy of the issue shares, each value checked, encoded and folded."""
    sender = sender_of(newsletter)
    headers = [
        mailbox_header("From", sender.from_name, sender.from_address),
        text_header("Subject", subject_prefix + email.subject),
        f"Date: {format_datetime(date)}".encode("ascii"),
    ]
    if sender.reply_to:
        headers.append(mailbox_header("Reply-To", "", sender.reply_to))
    identity = list_id(newsletter, sender)
    if identity:
        headers.append(identity)
    language = check_header_value(email.language, HeaderKind.LANGUAGE, "the issue's language")
    headers += [b"MIME-Version: 1.0", f"Content-Language: {language}".encode("ascii")]
    return headers


def message_body(email: RenderedEmail) -> bytes:
    """The MIME entity: its Content-Type line, a blank line, then multipart/alternative with
    the text part first and the HTML, both quoted-printable.

    The email package only encodes the parts here (their headers are its own, fixed values);
    the boundary comes from the content, so the same issue gives the same bytes, and "=_"
    cannot occur in quoted-printable text.
    """
    parts = []
    for subtype, content in (("plain", email.text), ("html", email.html)):
        part = MIMEPart(policy=POLICY)
        part.set_content(content, subtype=subtype, charset="utf-8", cte="quoted-printable")
        parts.append(part)
    container = MIMEPart(policy=POLICY)
    container.make_alternative()
    for part in parts:
        container.attach(part)
    digest = hashlib.sha256(f"{email.text}\x00{email.html}".encode()).hexdigest()[:24]
    container.set_boundary(f"=_{digest}")
    return container.as_bytes(policy=POLICY)


def build_message(
    email: RenderedEmail,
    newsletter: NewsletterConfig,
    *,
    message_id: str,
    date: datetime,
    to: tuple[str, str] | None = None,
    unsubscribe_url: str | None = None,
    one_click: bool = False,
    subject_prefix: str = "",
) -> bytes:
    """The whole message, ready for SMTP's DATA or an .eml file; addressed to `to`, or to the
    list (the sender's `to`, by default its From)."""
    sender = sender_of(newsletter)
    head = message_head(email, newsletter, date=date, subject_prefix=subject_prefix)
    head.insert(1, mailbox_header("To", *(to or sender.list_recipient)))
    head.append(message_id_header(message_id))
    head += list_unsubscribe_headers(unsubscribe_url, sender.unsubscribe_mailto,
                                     one_click=one_click)  # fmt: skip
    return b"\r\n".join(head) + b"\r\n" + message_body(email)


def message_id_header(message_id: str) -> bytes:
    if not _MESSAGE_ID.match(message_id):
        raise NewsletterError(f"not a Message-ID: {message_id!r}")
    return f"Message-ID: {message_id}".encode("ascii")


def message_id_for(domain: str, unique: str) -> str:
    """`<unique@domain>`: the domain in its ASCII (IDNA) form, the unique part made of the
    characters a Message-ID may hold."""
    local = re.sub(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]", "-", unique)
    return f"<{local}@{domain.encode('idna').decode('ascii')}>"
