"""listmonk: the body of POST /api/campaigns (Go template tags in the content)."""

from __future__ import annotations

from typing import Any

from newsletter.config import NewsletterConfig
from newsletter.issue import Issue
from newsletter.model import RenderedEmail

MERGE_TAGS = {
    "unsubscribe_url": "{{ UnsubscribeURL }}",
    "subscriber_name": "{{ .Subscriber.Name }}",
    "web_version_url": "{{ MessageURL }}",
}


def payload(email: RenderedEmail, issue: Issue, newsletter: NewsletterConfig) -> dict[str, Any]:
    sender = newsletter.sender
    body: dict[str, Any] = {
        "name": f"{newsletter.slug}/{issue.slug}",
        "subject": email.subject,
        "content_type": "html",
        "body": email.html,
        "altbody": email.text,
        "type": "regular",
        "messenger": "email",
        "headers": [],
        "lists": [],  # the list ids are the listmonk instance's own: fill in before posting
    }
    if sender:
        name = sender.from_name or newsletter.name
        body["from_email"] = f"{name} <{sender.from_address}>"
    return body
