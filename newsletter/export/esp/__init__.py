"""ESP payloads: the one rendered email, translated for each provider's campaign API.

Each provider is a module that only translates: its merge tags and its JSON body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from newsletter.config import NewsletterConfig
from newsletter.errors import NewsletterError
from newsletter.export.esp import listmonk, mailchimp, sendgrid
from newsletter.issue import Issue
from newsletter.model import MERGE_TAGS, RenderedEmail, merge_tag

Payload = Callable[[RenderedEmail, Issue, NewsletterConfig], dict[str, Any]]
PROVIDERS: Mapping[str, tuple[Mapping[str, str], Payload]] = {
    "mailchimp": (mailchimp.MERGE_TAGS, mailchimp.payload),
    "sendgrid": (sendgrid.MERGE_TAGS, sendgrid.payload),
    "listmonk": (listmonk.MERGE_TAGS, listmonk.payload),
}


def translate(text: str, tags: Mapping[str, str]) -> str:
    for name in MERGE_TAGS:
        text = text.replace(merge_tag(name), tags[name])
    return text


def esp_payload(
    provider: str, email: RenderedEmail, issue: Issue, newsletter: NewsletterConfig
) -> dict[str, Any]:
    """The JSON body `provider`'s API takes for the campaign's content."""
    if provider not in PROVIDERS:
        raise NewsletterError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    tags, payload = PROVIDERS[provider]
    web = email.web_version_url or ""
    values = {name: tag.replace("{web_version_url}", web) for name, tag in tags.items()}
    translated = replace(
        email, html=translate(email.html, values), text=translate(email.text, values)
    )
    return payload(translated, issue, newsletter)
