"""SendGrid Marketing Campaigns: the body of POST /v3/marketing/singlesends."""

from __future__ import annotations

from typing import Any

from newsletter.config import NewsletterConfig
from newsletter.issue import Issue
from newsletter.model import RenderedEmail

MERGE_TAGS = {
    "unsubscribe_url": "{{{unsubscribe}}}",
    "subscriber_name": "{{first_name}}",
    "web_version_url": "{web_version_url}",  # the issue's archive page: known, so written out
}


def payload(email: RenderedEmail, issue: Issue, newsletter: NewsletterConfig) -> dict[str, Any]:
    config: dict[str, Any] = {
        "subject": email.subject,
        "html_content": email.html,
        "plain_content": email.text,
        "generate_plain_content": False,
        "editor": "code",
    }
    if newsletter.unsubscribe_url:
        config["custom_unsubscribe_url"] = newsletter.unsubscribe_url
    return {"name": f"{newsletter.slug}/{issue.slug}", "email_config": config}
