"""Mailchimp: PATCH /campaigns/{id} takes `settings`, PUT /campaigns/{id}/content the rest."""

from __future__ import annotations

from typing import Any

from newsletter.config import NewsletterConfig
from newsletter.issue import Issue
from newsletter.model import RenderedEmail

MERGE_TAGS = {
    "unsubscribe_url": "*|UNSUB|*",
    "subscriber_name": "*|FNAME|*",
    "web_version_url": "*|ARCHIVE|*",
}


def payload(email: RenderedEmail, issue: Issue, newsletter: NewsletterConfig) -> dict[str, Any]:
    sender = newsletter.sender
    settings: dict[str, Any] = {
        "subject_line": email.subject,
        "preview_text": email.preheader,
        "title": f"{newsletter.slug}/{issue.slug}",
    }
    if sender:
        settings["from_name"] = sender.from_name or newsletter.name
        settings["reply_to"] = sender.reply_to or sender.from_address
    return {"settings": settings, "content": {"html": email.html, "plain_text": email.text}}
