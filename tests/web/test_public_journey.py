"""A reader's whole story with real parts: `newsletter serve` under uvicorn on 127.0.0.1 (a
process of its own), aiosmtpd, Chromium. They subscribe on the form, follow the link the
confirmation email brings, get the issue `send` delivers, and leave in one click from the
List-Unsubscribe link of that very issue, as a mail provider posts it; the next send skips
them. Back on the list, a GET of the same link (what a link scanner does) takes no one off it:
only the page's button does."""

from __future__ import annotations

import re
import shutil
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from newsletter import audience
from newsletter.model import Subscriber
from newsletter.pool.subscribers import ACTIVE, UNSUBSCRIBED
from newsletter.workspace import Workspace
from tests.conftest import ROOT, invoke
from tests.export.conftest import MailServer
from tests.web.conftest import serving

SLUG = "ilo-coop-enews"
VISITOR = "vera@example.org"


def messages_to(mail_server: MailServer, address: str, subject: str) -> list[EmailMessage]:
    found = [message_from_bytes(m.data, policy=policy.default)  # type: ignore[misc]
             for m in mail_server.for_recipient(address)]  # fmt: skip
    return [m for m in found if m["Subject"] == subject]


def arriving(mail_server: MailServer, address: str, subject: str, count: int) -> EmailMessage:
    """The `count`th message with this subject to `address`, once it has arrived."""
    deadline = time.monotonic() + 10
    while len(messages_to(mail_server, address, subject)) < count:
        assert time.monotonic() < deadline, f"no message {count} {subject!r} for {address}"
        time.sleep(0.05)
    return messages_to(mail_server, address, subject)[count - 1]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def subscribe_and_confirm(page: Any, site: str, mail_server: MailServer, count: int) -> None:
    page.goto(f"{site}/{SLUG}/subscribe")
    page.get_by_label("Email address").fill(VISITOR)
    page.get_by_label("Name").fill("Vera Visitor")
    with page.expect_navigation():
        page.get_by_role("button", name="Subscribe").click()
    assert page.locator("h1").inner_text() == "Check your inbox"
    confirmation = arriving(mail_server, VISITOR, "Confirm your subscription to ILO COOP eNews",
                            count)  # fmt: skip
    assert confirmation["To"] == f"Vera Visitor <{VISITOR}>"
    found = re.search(rf"{re.escape(site)}/{SLUG}/confirm\?t=\S+", text_of(confirmation))
    assert found, text_of(confirmation)
    page.goto(found.group(0))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm my subscription").click()
    assert page.locator("h1").inner_text() == "You're subscribed"


def test_a_reader_subscribes_gets_the_issue_and_leaves_in_one_click(
    browser: Any, public_workspace: Path, public_port: int, mail_server: MailServer,
    artifacts: Path,
) -> None:  # fmt: skip
    folder = public_workspace / "issues" / SLUG
    folder.mkdir(parents=True)
    for slug in ("2020-10", "2020-11"):
        shutil.copy(ROOT / "issues" / SLUG / f"{slug}.toml", folder)
    with Workspace(public_workspace / "newsletter.toml") as opened:
        opened.pool.import_subscribers(SLUG, [Subscriber("stays@example.org", "Stays")],
                                       ACTIVE, ("import", "test"))  # fmt: skip

        def status() -> str | None:
            record = audience.record_of(opened.pool, SLUG, VISITOR)
            return record.status if record else None

        with serving(public_workspace, public_port) as site:
            page = browser.new_page(viewport={"width": 1024, "height": 800})
            subscribe_and_confirm(page, site, mail_server, 1)
            page.screenshot(path=str(artifacts / "public-subscribed.png"))
            assert status() == ACTIVE

            sent = invoke("send", f"{SLUG}/2020-11", "--yes")
            assert sent.exit_code == 0, sent.output
            [issue] = messages_to(mail_server, VISITOR, "ILO COOP eNews - November issue")
            links = re.findall(r"<([^>]+)>", str(issue["List-Unsubscribe"]))
            url = next(link for link in links if link.startswith("http"))
            assert url.startswith(f"{site}/{SLUG}/unsubscribe?t=")
            assert VISITOR.split("@")[0] not in url  # an opaque token, no address
            assert issue["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

            # The mail provider's one click: a POST of RFC 8058's body, from its own servers.
            left = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
            assert left.status_code == 200
            assert status() == UNSUBSCRIBED
            again = invoke("send", f"{SLUG}/2020-10", "--yes")
            assert again.exit_code == 0, again.output
            assert messages_to(mail_server, "stays@example.org", "ILO COOP eNews - October issue")
            assert messages_to(mail_server, VISITOR, "ILO COOP eNews - October issue") == []

            # Back on the list; then the same link opened (GET): nothing until the button.
            subscribe_and_confirm(page, site, mail_server, 2)
            assert status() == ACTIVE
            page.goto(url)
            assert page.locator("h1").inner_text() == "Unsubscribe"
            page.screenshot(path=str(artifacts / "public-unsubscribe.png"))
            assert status() == ACTIVE
            with page.expect_navigation():
                page.get_by_role("button", name="Unsubscribe").click()
            assert page.locator("h1").inner_text() == "You're unsubscribed"
            assert status() == UNSUBSCRIBED
            page.close()
