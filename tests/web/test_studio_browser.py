"""The studio in Chromium, served by uvicorn on 127.0.0.1: an editor works the issue with the
keyboard alone, and axe-core finds nothing serious on any page."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from newsletter.config import load_config
from newsletter.issue import read_issue
from tests.conftest import ROOT
from tests.web.conftest import served_studio

AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ISSUE = "/issues/ilo-coop-enews/2020-11"


@pytest.fixture
def studio(workspace: Path, run: Callable[..., Result]) -> Iterator[str]:
    """The studio of a sample workspace (pool ingested, November issue), at its address."""
    assert run("ingest", "--all").exit_code == 0
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", folder)
    with served_studio(workspace) as address:
        yield address


def test_an_editor_makes_a_lead_and_reorders_with_the_keyboard_alone(
    browser: Any, studio: str, workspace: Path, artifacts: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    path = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    second = read_issue(path, config).sections[0].items[1]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{studio}{ISSUE}")
    button = page.get_by_role("button", name=f"Make lead: {second.title}")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{ISSUE}#item-{second.uid}")
    lead = read_issue(path, config).lead
    assert lead is not None
    assert lead.uid == second.uid
    assert page.locator("article.lead h4").inner_text() == second.title
    # The page came back to the item acted on: it is the fragment's target, in view.
    assert page.evaluate("location.hash") == f"#item-{second.uid}"
    assert page.locator(f"#item-{second.uid}").is_visible()

    first = read_issue(path, config).sections[0].items[0]
    page.get_by_role("button", name=f"Move down: {first.title}").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**#item-{first.uid}")
    assert read_issue(path, config).sections[0].items[1].uid == first.uid
    frames = page.locator("iframe")
    assert frames.count() == 4  # desktop, phone, phone in dark mode, the text part
    assert page.frame_locator("iframe").first.locator("h1").inner_text() == (
        "ILO COOP eNews - November issue"
    )
    page.screenshot(path=str(artifacts / "studio-editor.png"), full_page=False)
    page.close()


def test_an_item_dragged_onto_another_section_goes_where_it_was_dropped(
    browser: Any, studio: str, workspace: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    path = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    before = read_issue(path, config)
    moved, target = before.sections[0].items[1], before.sections[1].items[0]
    page = browser.new_page(viewport={"width": 1280, "height": 3000})  # no scrolling mid-drag
    page.goto(f"{studio}{ISSUE}")
    corner = {"x": 12, "y": 12}  # the card's type and date line, not one of its buttons
    page.drag_and_drop(f"#item-{moved.uid}", f"#item-{target.uid}", source_position=corner,
                       target_position=corner)  # fmt: skip
    page.wait_for_url(f"**#item-{moved.uid}")
    after = read_issue(path, config)
    assert [i.uid for i in after.sections[1].items[:2]] == [moved.uid, target.uid]
    assert moved.uid not in {i.uid for i in after.sections[0].items}
    heading = page.locator("h3.section", has_text=after.sections[0].title)
    with page.expect_navigation():
        page.locator(f"#item-{moved.uid}").drag_to(heading, source_position=corner)
    assert read_issue(path, config).sections[0].items[-1].uid == moved.uid
    page.close()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/pool?month=2020-11",
        ISSUE,
        f"{ISSUE}/publish",
        "/duplicates",
        "/new?newsletter=ilo-coop-enews&month=2020-12",
    ],
)
def test_axe_finds_nothing_serious_on_the_studio_pages(
    browser: Any, studio: str, path: str, artifacts: Path
) -> None:
    assert AXE.is_file(), "axe-core is missing: `make test` installs it from the npm registry"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)  # fmt: skip
    page.goto(f"{studio}{path}")
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("axe.run({exclude: [['iframe']]}).then(r => r.violations)")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found
               if v["impact"] in ("serious", "critical")]  # fmt: skip
    assert serious == []
    name = path.strip("/").split("?")[0].replace("/", "-") or "home"
    page.screenshot(path=str(artifacts / f"studio-{name}.png"), full_page=False)
    context.close()


def test_the_pages_run_no_inline_script_under_their_policy(browser: Any, studio: str) -> None:
    """With the CSP enforced (no bypass), the pages load without a policy violation."""
    page = browser.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    for path in ("/", "/pool", ISSUE):
        page.goto(f"{studio}{path}")
        page.wait_for_load_state("networkidle")
    assert violations == []
    page.close()


def test_the_dark_mode_preview_shows_the_email_as_dark_clients_do(
    browser: Any, studio: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1600}, color_scheme="light")
    page.goto(f"{studio}{ISSUE}")
    dark = page.frame_locator('iframe[title="The email at phone width, in dark mode"]')
    light = page.frame_locator('iframe[title="The email at phone width"]')
    colour = "e => getComputedStyle(e).color"
    assert dark.locator("h1").evaluate(colour) == "rgb(232, 234, 237)"  # the theme's dark_text
    assert light.locator("h1").evaluate(colour) != "rgb(232, 234, 237)"
    page.close()
