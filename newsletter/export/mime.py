"""The one MIME message of an issue (RFC 5322, multipart/alternative), built with the standard
library's `email` package under a policy that refuses CR and LF in headers."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsletter.config import NewsletterConfig, SenderConfig
from newsletter.errors import NewsletterError
from newsletter.model import MERGE_TAGS, RenderedEmail, merge_tag

# SMTP's CRLF line ends; header values holding CR or LF raise instead of becoming new headers;
# quoted-printable lines of at most 76 characters (RFC 2045; the default allows 78).
POLICY = policy.SMTP.clone(max_line_length=76)
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
    """The list's unsubscribe page with the subscriber's address and a signature over it, so
    the page can honour a one-click unsubscribe without a login (RFC 8058)."""
    token = urlsplit(base)
    who = urlsafe_b64encode(address.lower().encode()).decode()
    signature = hmac.new(key, f"{newsletter}\x1f{address.lower()}".encode(), hashlib.sha256)
    query = parse_qsl(token.query, keep_blank_values=True)
    query += [("u", who), ("s", signature.hexdigest()[:32])]
    return urlunsplit(token._replace(query=urlencode(query)))


def list_unsubscribe(url: str | None, mailto: str | None) -> str | None:
    links = []
    if url:
        links.append(f"<{url}>")
    if mailto:
        links.append(f"<mailto:{mailto}?subject=unsubscribe>")
    return ", ".join(links) or None


# The message


def list_id(newsletter: NewsletterConfig, sender: SenderConfig) -> str | None:
    """`ILO COOP eNews <coop-enews.example.org>` (RFC 2919); the policy encodes a non-ASCII name."""
    return f"{newsletter.name} <{sender.list_id}>" if sender.list_id else None


def build_message(
    email: RenderedEmail,
    newsletter: NewsletterConfig,
    *,
    message_id: str,
    date: datetime,
    to: tuple[str, str] | None = None,
    unsubscribe_url: str | None = None,
    subject_prefix: str = "",
) -> EmailMessage:
    """multipart/alternative: the text part first, then the HTML, both quoted-printable."""
    sender = sender_of(newsletter)
    message = EmailMessage(policy=POLICY)
    message["Subject"] = subject_prefix + email.subject
    message["From"] = Address(sender.from_name, addr_spec=sender.from_address)
    if to is not None:
        message["To"] = Address(to[0], addr_spec=to[1])
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    identity = list_id(newsletter, sender)
    if identity:
        message["List-Id"] = identity
    unsubscribe = list_unsubscribe(unsubscribe_url, sender.unsubscribe_mailto)
    if unsubscribe:
        message["List-Unsubscribe"] = unsubscribe
        if unsubscribe_url:  # one-click needs an https link to POST to
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = email.language  # after set_content, which clears Content-*
    return message


def message_id_for(domain: str, unique: str) -> str:
    return f"<{unique}@{domain}>"
