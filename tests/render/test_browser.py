"""The rendered samples in a real headless Chromium, at phone to desktop widths."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import load_config
from newsletter.issue import IssueItem, read_issue
from newsletter.render import render_issue, write_rendered
from tests.conftest import ROOT

WIDTHS = (320, 375, 600, 800)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[str]]]:
    config = load_config(ROOT / "newsletter.toml", environ={})
    found = {}
    for slug in ("2020-10", "2020-11"):
        issue = read_issue(ROOT / "issues" / "ilo-coop-enews" / f"{slug}.toml", config)
        folder = tmp_path_factory.mktemp(slug)
        write_rendered(render_issue(issue, config), folder)
        found[slug] = (folder / "email.html", [item.title for item in issue.items])
    return found


@pytest.mark.parametrize("slug", ["2020-10", "2020-11"])
@pytest.mark.parametrize("width", WIDTHS)
def test_no_horizontal_scrolling_and_every_title_visible(
    browser: Any, rendered: dict[str, tuple[Path, list[str]]], artifacts: Path, slug: str,
    width: int,
) -> None:  # fmt: skip
    path, titles = rendered[slug]
    page = browser.new_page(viewport={"width": width, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for title in titles:
        heading = page.locator("h2, h3", has_text=title).first
        assert heading.is_visible(), title
        box = heading.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width + 1
    page.screenshot(path=str(artifacts / f"{slug}-{width}.png"), full_page=True)
    assert errors == []
    page.close()


def test_escaped_text_shows_as_text_and_runs_nothing(
    browser: Any, tmp_path: Path, artifacts: Path
) -> None:
    config = load_config(ROOT / "newsletter.toml", environ={})
    issue = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-10.toml", config)
    nasty = IssueItem(
        "5" * 16, "News", 'A title with <b>&"\'', date(2020, 10, 5),
        "A summary with <script>alert('x')</script> and <img src=x onerror=alert(2)>.",
        url="https://ilo.org/a",
    )  # fmt: skip
    section = replace(issue.sections[0], items=(nasty, *issue.sections[0].items))
    email = render_issue(replace(issue, sections=(section,)), config)
    write_rendered(email, tmp_path)
    page = browser.new_page(viewport={"width": 600, "height": 800})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((tmp_path / "email.html").as_uri())
    assert page.get_by_text("A title with <b>&\"'", exact=True).is_visible()
    assert page.get_by_text("A summary with", exact=False).is_visible()
    assert page.locator("script").count() == 0
    assert page.locator("img[src='x']").count() == 0
    page.screenshot(path=str(artifacts / "escaping.png"))
    assert dialogs == []
    page.close()


def test_dark_mode_keeps_text_readable(
    browser: Any, rendered: dict[str, tuple[Path, list[str]]], artifacts: Path
) -> None:
    path, _ = rendered["2020-11"]
    page = browser.new_page(viewport={"width": 375, "height": 800}, color_scheme="dark")
    page.goto(path.as_uri())
    colour = page.locator("h3.ti a").first.evaluate("e => getComputedStyle(e).color")
    card = page.locator(".card > table").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(232, 234, 237)"  # dark_text
    assert card == "rgb(29, 32, 37)"  # dark_content
    page.screenshot(path=str(artifacts / "dark-375.png"))
    page.close()


def test_read_more_links_name_their_item_in_their_own_text_and_items_keep_their_gap(
    browser: Any, rendered: dict[str, tuple[Path, list[str]]]
) -> None:
    """No aria-label (Yahoo and Windows Mail strip it): each "Read more" link's own text holds
    its item's title, hidden from sight; the gap between items is table-cell padding, which
    Outlook for Windows applies (a div's it ignores)."""
    path, titles = rendered["2020-10"]
    page = browser.new_page(viewport={"width": 600, "height": 800})
    page.goto(path.as_uri())
    assert page.locator("a[aria-label]").count() == 0
    links = page.locator("p.mo a")
    assert links.count() >= len(titles) - 1  # every item with a link (the lead's too)
    for index in range(links.count()):
        link = links.nth(index)
        text = " ".join(link.text_content().split())  # type: ignore[union-attr]
        assert text.startswith("Read more: ")
        assert text.removeprefix("Read more: ").removesuffix(" →") in titles
        hidden = link.locator(".vh").bounding_box()
        assert hidden is not None
        assert hidden["width"] <= 1.5
        assert hidden["height"] <= 1.5
        shown = link.bounding_box()
        assert shown is not None
        assert shown["width"] < 200  # "Read more →" alone takes the room
    cells = page.locator("td.it")
    assert cells.count() == len(titles)
    for index in range(cells.count()):
        padding = cells.nth(index).evaluate("cell => getComputedStyle(cell).paddingBottom")
        assert padding == "20px"
        assert "padding:0 0 20px" in (cells.nth(index).get_attribute("style") or "")
    page.close()
