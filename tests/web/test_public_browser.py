"""The public pages in Chromium, served by uvicorn on 127.0.0.1: a visitor subscribes with the
keyboard alone (the hidden field out of reach), axe-core finds nothing serious on any page,
and the pages run under their policy without a violation."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from newsletter import audience
from newsletter.archive.build import build_archive
from newsletter.config import load_config
from newsletter.model import Subscriber
from newsletter.pool.subscribers import ACTIVE
from newsletter.web.public import make_public_app
from newsletter.workspace import Workspace
from tests.archive.test_browser import serve
from tests.conftest import ROOT, invoke
from tests.export.conftest import SIGNING_KEY, MailServer, Received, free_port
from tests.web.conftest import served
from tests.web.test_studio_browser import AXE

SLUG = "ilo-coop-enews"
KEY = SIGNING_KEY.encode()


@pytest.fixture
def public_site(public_workspace: Path, public_port: int) -> Iterator[str]:
    """The public pages of the sample workspace, with one active subscriber, at their address."""
    with Workspace(public_workspace / "newsletter.toml") as opened:
        opened.pool.import_subscribers(SLUG, [Subscriber("ada@example.org", "Ada")], ACTIVE,
                                       ("import", "test"))  # fmt: skip
        with served(make_public_app(opened), public_port) as address:
            yield address


def arrived(mail_server: MailServer, address: str) -> list[Received]:
    """The messages to `address`, once one has come (they go out after the answer is sent)."""
    deadline = time.monotonic() + 10
    while not mail_server.for_recipient(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    return mail_server.for_recipient(address)


def own(page: str) -> str:
    return f"/{SLUG}/{page}?t={audience.own_token(SLUG, 'ada@example.org', KEY)}"


def test_a_visitor_subscribes_with_the_keyboard_alone(
    browser: Any, public_site: str, mail_server: MailServer, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(f"{public_site}/{SLUG}/subscribe")
    page.screenshot(path=str(artifacts / "public-subscribe-375.png"), full_page=True)
    reached = []
    for _ in range(3):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.name || document.activeElement.type"))
    assert reached == ["email", "name", "submit"]  # never the field robots fill
    assert not page.locator("#website").is_visible() or page.locator("#website").evaluate(
        "e => e.getBoundingClientRect().right <= 0"
    )
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("grace@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("Grace Hopper")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Check your inbox"
    [message] = arrived(mail_server, "grace@example.org")
    assert b"Grace Hopper" in message.data
    page.close()


def _subscribe_with_error(page: Any, site: str) -> None:
    page.goto(f"{site}/{SLUG}/subscribe")
    page.get_by_label("Email address").fill("not-an-address@")
    page.locator("form").evaluate("f => f.noValidate = true")  # the server's own check
    with page.expect_navigation():
        page.get_by_role("button", name="Subscribe").click()


def _sent(page: Any, site: str) -> None:
    page.goto(f"{site}/{SLUG}/subscribe")
    page.get_by_label("Email address").fill("lin@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Subscribe").click()


def _confirm(page: Any, site: str) -> None:
    token = audience.confirmation_token(SLUG, "ada@example.org", KEY)
    page.goto(f"{site}/{SLUG}/confirm?t={token}")


def _subscribed(page: Any, site: str) -> None:
    _confirm(page, site)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm my subscription").click()


def _unsubscribed(page: Any, site: str) -> None:
    page.goto(f"{site}{own('unsubscribe')}")
    with page.expect_navigation():
        page.get_by_role("button", name="Unsubscribe").click()


PAGES: dict[str, Callable[[Any, str], None]] = {
    "subscribe": lambda page, site: page.goto(f"{site}/{SLUG}/subscribe"),
    "subscribe-error": _subscribe_with_error,
    "sent": _sent,
    "confirm": _confirm,
    "subscribed": _subscribed,
    "unsubscribe": lambda page, site: page.goto(f"{site}{own('unsubscribe')}"),
    "unsubscribed": _unsubscribed,
    "preferences": lambda page, site: page.goto(f"{site}{own('preferences')}"),
    "invalid": lambda page, site: page.goto(f"{site}/{SLUG}/unsubscribe?t=forged"),
    "not-found": lambda page, site: page.goto(f"{site}/no-such-newsletter/subscribe"),
}
TITLES = {
    "subscribe-error": "Subscribe to ILO COOP eNews",
    "sent": "Check your inbox",
    "subscribed": "You're subscribed",
    "unsubscribed": "You're unsubscribed",
    "preferences": "Your subscription",
    "invalid": "Link not valid",
    "not-found": "Not found",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_nothing_serious_on_the_public_pages(
    browser: Any, public_site: str, name: str, artifacts: Path
) -> None:
    assert AXE.is_file(), "axe-core is missing: `make test` installs it from the npm registry"
    context = browser.new_context(viewport={"width": 1024, "height": 800}, bypass_csp=True)
    page = context.new_page()
    PAGES[name](page, public_site)
    if name in TITLES:
        assert page.locator("h1").inner_text() == TITLES[name]
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("axe.run().then(r => r.violations)")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found
               if v["impact"] in ("serious", "critical")]  # fmt: skip
    assert serious == []
    page.screenshot(path=str(artifacts / f"public-{name}.png"), full_page=False)
    context.close()


def test_the_pages_load_under_their_policy_without_a_violation(
    browser: Any, public_site: str
) -> None:
    """With the CSP enforced (no bypass): the style sheet loads and nothing is refused."""
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    for name in ("subscribe", "unsubscribe", "preferences", "invalid"):
        PAGES[name](page, public_site)
        page.wait_for_load_state("networkidle")
        size = page.evaluate("getComputedStyle(document.body).fontSize")
        assert size == "17px"  # the sheet's, not the browser's 16px
    assert violations == []
    page.close()


def test_the_archive_page_s_form_subscribes_through_the_public_pages(
    browser: Any, public_workspace: Path, public_port: int, mail_server: MailServer,
    artifacts: Path,
) -> None:  # fmt: skip
    """The archive's own policy lets its form post to the public pages, which know the
    archive by its Origin (its pages cannot carry their cookie)."""
    archive_port = free_port()
    toml = public_workspace / "newsletter.toml"
    toml.write_text(toml.read_text("utf-8")
                    + f'allowed_origins = ["http://127.0.0.1:{archive_port}"]\n')  # fmt: skip
    shutil.copytree(ROOT / "issues" / SLUG, public_workspace / "issues" / SLUG,
                    ignore=shutil.ignore_patterns("20*-*[0-9]"))  # fmt: skip
    assert invoke("ingest", "--all").exit_code == 0
    assert invoke("publish", f"{SLUG}/2020-11").exit_code == 0
    build_archive(load_config(toml), public_workspace / "site")
    with (
        contextmanager(serve)(public_workspace / "site", archive_port) as archive,
        Workspace(toml) as opened,
        served(make_public_app(opened), public_port),
    ):
        page = browser.new_page(viewport={"width": 375, "height": 800})
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)  # fmt: skip
        page.goto(f"{archive}{SLUG}/2020-11/index.html")
        form = page.locator("form.subscribe")
        form.get_by_label("Get each issue by email").fill("reader@example.org")
        form.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "archive-subscribe-375.png"))
        with page.expect_navigation():
            form.get_by_role("button", name="Subscribe").click()
        assert page.url == f"http://127.0.0.1:{public_port}/{SLUG}/subscribe"
        assert page.locator("h1").inner_text() == "Check your inbox"
        assert violations == []
        assert len(arrived(mail_server, "reader@example.org")) == 1
        page.close()
