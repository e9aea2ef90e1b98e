"""`check` measures the email as it is sent: tracking parameters on, merge tags filled with a
subscriber's longest values; the clipping error goes by that size."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

from click.testing import Result

from newsletter.config import Config, load_config
from newsletter.export import as_sent
from newsletter.issue import Issue, IssueItem, read_issue
from newsletter.render import render_issue
from newsletter.render.checks import CLIP_BYTES, check_email
from tests.conftest import ROOT
from tests.export.conftest import MailServer

Run = Callable[..., Result]
ISSUE = "ilo-coop-enews/2020-11"


def test_what_check_measures_is_what_a_subscriber_receives(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    """Within 1 %: the check's stand-in subscriber has the longest values, a real one less."""
    (sending_workspace / "list.csv").write_text(
        "email,name\nfirstname.lastname.department@example.org,Maria Fernanda García\n"
    )
    checked = run("check", ISSUE, "--format", "json")
    report = json.loads(checked.stdout)
    assert report["sent_html_bytes"] > report["html_bytes"]  # tracking and a sealed link
    assert run("send", ISSUE, "--list", "list.csv", "--rate", "0").exit_code == 0
    (received,) = mail_server.messages
    message = message_from_bytes(received.data, policy=policy.default)
    html = message.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    sent = len(html.replace("\r\n", "\n").encode())
    assert abs(report["sent_html_bytes"] - sent) / sent < 0.01, (report, sent)
    assert report["sent_html_bytes"] >= sent


def _grown(issue: Issue, copies: int) -> Issue:
    """The issue with each section's items repeated, each copy with a URL of its own."""
    sections = []
    for section in issue.sections:
        items: list[IssueItem] = []
        for n in range(copies):
            items += [replace(item, uid=f"{item.uid}{n:02d}"[:16],
                              url=f"https://www.ilo.org/global/about-the-ilo/newsroom/news/WCMS_{n:06d}{i}/lang--en/index.htm")
                      for i, item in enumerate(section.items)]  # fmt: skip
        sections.append(replace(section, items=tuple(items)))
    return replace(issue, sections=tuple(sections))


def test_an_issue_under_the_clip_as_rendered_but_over_it_as_sent_is_an_error() -> None:
    config = load_config(ROOT / "newsletter.toml", environ={})
    issue = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    for copies in range(1, 60):
        grown = _grown(issue, copies)
        email = render_issue(grown, config)
        sent = len(as_sent(grown, email, config).html.encode())
        if sent > CLIP_BYTES:
            break
    assert len(email.html.encode()) <= CLIP_BYTES < sent  # the case the issue reported
    as_rendered = {f.code: f.severity for f in check_email(grown, email)}
    assert as_rendered.get("size") != "error"
    (size,) = [f for f in check_email(grown, email, sent_bytes=sent) if f.code == "size"]
    assert size.severity == "error"
    assert f"{sent:,} bytes as sent" in size.message


def test_sent_values_fill_every_merge_tag(config: Config) -> None:
    issue = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    sent = as_sent(issue, render_issue(issue, config), config)
    assert "%%" not in sent.html
    assert "%%" not in sent.text
    assert "?t=" in sent.html  # a sealed unsubscribe link, as long as a subscriber's
    assert "utm_campaign=2020-11" in sent.html


def test_sixty_items_with_thumbnails_stay_under_the_clip_as_sent() -> None:
    """Issue 14's budget: the sample's items grown to 60, each with a picture, alt text and
    credit, tracking on and a sealed unsubscribe link."""
    config = load_config(ROOT / "newsletter.toml", environ={})
    issue = _grown(read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config), 9)
    first, *others = issue.sections
    kept = 59 - sum(len(section.items) for section in others)  # and the lead: 60
    issue = replace(issue, sections=(replace(first, items=first.items[:kept]), *others))
    sections = tuple(
        replace(section, items=tuple(
            replace(item, image=f"https://www.ilo.org/wcmsp5/groups/public/images/{item.uid}.jpg",
                    image_alt=f"Members of a cooperative at work, for the story {item.uid}",
                    image_credit="© ILO/M. Crozet")
            for item in section.items))
        for section in issue.sections
    )  # fmt: skip
    issue = replace(issue, sections=sections)
    assert len(issue.items) == 60
    email = render_issue(issue, config)
    assert email.html.count('class="th"') == len(issue.items) - 1  # all but the lead
    sent = len(as_sent(issue, email, config).html.encode())
    assert sent < CLIP_BYTES, sent
    assert not [f for f in check_email(issue, email, sent_bytes=sent) if f.code == "size"
                and f.severity == "error"]  # fmt: skip
