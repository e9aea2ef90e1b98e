"""An editor's whole month in the studio, in Chromium: from the sample pool to a published
issue, with the mouse and the keyboard; the issue file it leaves is the expected one, byte for
byte, and `newsletter validate` passes on it.

Regenerate the expected file on purpose only: NEWSLETTER_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from newsletter.config import load_config
from newsletter.issue import read_issue
from tests.conftest import DATA
from tests.export.conftest import MailServer
from tests.web.conftest import served_studio

GOLDEN = DATA / "golden" / "studio" / "2020-11.toml"
UPDATE = os.environ.get("NEWSLETTER_UPDATE_GOLDEN") == "1"
ISSUE = "/issues/ilo-coop-enews/2020-11"


@pytest.fixture
def studio(workspace: Path, run: Callable[..., Result], mail_server: MailServer) -> Iterator[str]:
    assert mail_server.port
    assert run("ingest", "--all").exit_code == 0
    with served_studio(workspace) as address:
        yield address


def test_an_editor_makes_the_november_issue_in_the_studio_and_publishes_it(
    browser: Any,
    studio: str,
    workspace: Path,
    mail_server: MailServer,
    run: Callable[..., Result],
    artifacts: Path,
) -> None:
    config = load_config(workspace / "newsletter.toml")
    path = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    page = browser.new_page(viewport={"width": 1280, "height": 3000})

    # A new issue: what it would hold, then the draft.
    page.goto(f"{studio}/new")
    page.get_by_label("Month").fill("2020-11")
    page.get_by_role("button", name="Show what it would hold").click()
    assert "Lead:" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Create the draft").click()
    drafted = read_issue(path, config)
    news, articles = drafted.sections[0], drafted.sections[1]

    # Drag the second news item before the first article.
    dragged = news.items[1]
    corner = {"x": 12, "y": 12}
    with page.expect_navigation():
        page.locator(f"#item-{dragged.uid}").drag_to(
            page.locator(f"#item-{articles.items[0].uid}"), source_position=corner,
            target_position=corner)  # fmt: skip

    # With the keyboard: move the first news item down, and make another item the lead.
    first = news.items[0]
    page.get_by_role("button", name=f"Move down: {first.title}").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    lead = news.items[2]
    page.get_by_role("button", name=f"Make lead: {lead.title}").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The intro, an event that is in no source, and an item taken out.
    page.get_by_label("Intro").fill("A centenary month for the Cooperatives Unit.\n\nRead on.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save intro").click()
    page.get_by_text("An item that is in no source").click()
    page.locator("#manual select[name=type]").select_option("Event")
    manual = page.locator("#manual")
    manual.get_by_label("Title", exact=True).fill("Cooperatives week in Geneva")
    manual.get_by_label("Date", exact=True).fill("2020-11-24")
    manual.get_by_label("Last day").fill("2020-11-26")
    manual.get_by_label("Place").fill("Geneva")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the item").click()
    removed = articles.items[-1]
    with page.expect_navigation():
        page.get_by_role("button", name=f"Remove: {removed.title}").click()

    # The preview at a phone's width: the email fits its frame.
    page.set_viewport_size({"width": 390, "height": 1600})
    phone = page.frame_locator('iframe[title="The email at phone width"]')
    assert phone.locator("h1").inner_text() == drafted.title
    scrolled, shown = phone.locator("html").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert scrolled <= shown  # no sideways scrolling in the phone's frame
    page.screenshot(path=str(artifacts / "studio-phone.png"), full_page=False)

    # A proof, and publishing.
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.get_by_label("to", exact=True).fill("editor@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Send a proof").click()
    assert "proof sent to editor@example.org: 250" in page.locator(".notice").inner_text()
    [proof] = mail_server.for_recipient("editor@example.org")
    assert b"[PROOF] ILO COOP eNews - November issue" in proof.data
    with page.expect_navigation():
        page.get_by_role("link", name="Publish…").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Publish it").click()
    assert f"published as no. 1 on {date.today()}" in page.locator(".notice").inner_text()
    page.screenshot(path=str(artifacts / "studio-published.png"), full_page=False)
    page.close()

    made = path.read_text(encoding="utf-8").replace(str(date.today()), "PUBLISHED")
    if UPDATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(made, encoding="utf-8")
    assert made == GOLDEN.read_text(encoding="utf-8")
    assert run("validate", "ilo-coop-enews/2020-11").exit_code == 0
    issue = read_issue(path, config)
    assert issue.lead is not None
    assert issue.lead.uid == lead.uid
    assert removed.uid in issue.excluded
    assert "Cooperatives week in Geneva" in {item.title for item in issue.items}
