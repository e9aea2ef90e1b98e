"""The French and Spanish editions of an issue in a real headless Chromium: the page's language,
the kept stories' own, nothing serious for axe-core, and links to the other editions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsletter.config import load_config
from newsletter.issue import read_issue
from newsletter.render import render_issue, write_rendered
from tests.editions import SLUG, editions_workspace
from tests.render.test_pictures import AXE


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("editions")
    config_path = editions_workspace(folder / "workspace")
    config = load_config(config_path, environ={})
    found = {}
    for language in ("fr", "es"):
        issue = read_issue(folder / "workspace" / "issues" / SLUG / f"2020-11.{language}.toml",
                           config)  # fmt: skip
        write_rendered(render_issue(issue, config), folder / language)
        found[language] = folder / language / "email.html"
    return found


@pytest.mark.parametrize("language", ["fr", "es"])
def test_an_edition_reads_in_its_language_and_axe_finds_nothing_serious(
    browser: Any, rendered: dict[str, Path], artifacts: Path, language: str
) -> None:
    assert AXE.is_file(), "axe-core is missing: `make test` installs it from the npm registry"
    context = browser.new_context(viewport={"width": 600, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(rendered[language].as_uri())
    assert page.evaluate("document.documentElement.lang") == language
    # Each kept story says its language, in words a reader sees and in `lang` for machines.
    tags = page.locator("span.lg")
    assert tags.count() >= 2
    for index in range(tags.count()):
        assert tags.nth(index).is_visible()
        assert tags.nth(index).get_attribute("lang") in ("en", "fr")
    kept = page.locator("h2[lang] a[hreflang], h3[lang] a[hreflang]")
    assert kept.count() == tags.count()
    # The other editions, by their own names, at their pages.
    others = page.locator("p.ft a[lang]")
    names = {others.nth(i).inner_text(): others.nth(i).get_attribute("href")
             for i in range(others.count())}  # fmt: skip
    assert names["English"] == f"https://newsletters.example.org/{SLUG}/2020-11/"
    assert len(names) == 2
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate("axe.run().then(r => r.violations)")
    serious = [(v["id"], v["impact"]) for v in found if v["impact"] in ("serious", "critical")]
    assert serious == []
    page.screenshot(path=str(artifacts / f"edition-{language}-600.png"), full_page=True)
    context.close()
