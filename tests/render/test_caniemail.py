"""caniemail.com's data (the doiuse-email npm package, which `make test` installs) on the
rendered email for Gmail, Outlook for Windows, Apple Mail and Yahoo: every feature one of them
lacks is listed here with why the layout does not depend on it; a new one fails the test
until someone decides. The findings go to build/test-artifacts/caniemail.json."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.config import Config, load_config
from newsletter.issue import read_issue
from newsletter.render import render_issue
from tests.conftest import ARTIFACTS, ROOT
from tests.render.test_pictures import with_pictures

DOIUSE = ROOT / "build" / "doiuse" / "node_modules" / "doiuse-email" / "bin" / "cli.js"
CLIENTS = "gmail.desktop-webmail,outlook.windows,apple-mail.macos,yahoo.desktop-webmail"

# (feature, client) -> why nothing a reader needs depends on it.
NOT_LAYOUT_CRITICAL = {
    ("@media", "outlook.windows"): "phone stacking and dark mode; Outlook for Windows is a "
        "desktop client, and it shows the desktop layout",
    ("Attribute selector", "outlook.windows"): "[data-ogsc] dark-mode rules, which only "
        "Outlook.com and the Outlook apps apply",
    ("Chaining selectors", "outlook.windows"): "dark-mode rules (.card > table)",
    ("Child combinator", "outlook.windows"): "dark-mode rules (.card > table)",
    ("aria-label attribute", "yahoo.desktop-webmail"): "MJML's role=article wrapper; links "
        "say what they open in their own text",
    ("clip-path", "gmail.desktop-webmail"): "the hidden title of Read more is hidden by its "
        "1 px box already; clip-path only trims the last pixel",
    ("clip-path", "outlook.windows"): "the hidden title: mso-hide:all hides it in Outlook",
    ("clip-path", "yahoo.desktop-webmail"): "the hidden title, hidden by its 1 px box",
    ("overflow", "outlook.windows"): "the hidden title: mso-hide:all hides it in Outlook",
    ("white-space", "outlook.windows"): "the hidden title: mso-hide:all hides it in Outlook",
    ("outline", "outlook.windows"): "MJML's reset of link outlines",
    ("word-break", "yahoo.desktop-webmail"): "MJML's column style: long words still wrap at "
        "the column's width",
}  # fmt: skip


def lacking(html: str, tmp_path: Path) -> set[tuple[str, str]]:
    node = shutil.which("node")
    assert node, "no node: `make test` installs Node.js"
    assert DOIUSE.is_file(), "doiuse-email is missing: `make test` installs it from npm"
    page = tmp_path / "email.html"
    page.write_text(html, encoding="utf-8")
    done = subprocess.run([node, str(DOIUSE), "-e", CLIENTS, str(page)], capture_output=True,
                          text=True, check=True, timeout=120)  # fmt: skip
    found = set()
    for error in json.loads(done.stdout)["errors"]:
        match = re.fullmatch(r"`(.+)` is not supported by `(.+)`", error)
        assert match, error
        found.add((match.group(1), match.group(2)))
    return found


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "newsletter.toml", environ={})


def test_nothing_layout_critical_depends_on_what_the_four_clients_lack(
    config: Config, tmp_path: Path
) -> None:
    sample = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    emails = {
        "2020-11": render_issue(sample, config).html,
        "2020-11 with pictures": render_issue(
            with_pictures(sample, "https://www.ilo.org/images/"), config
        ).html,
    }
    report = {name: sorted(lacking(html, tmp_path)) for name, html in emails.items()}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "caniemail.json").write_text(json.dumps(report, indent=2) + "\n")
    found = {tuple(pair) for pairs in report.values() for pair in pairs}
    assert found - NOT_LAYOUT_CRITICAL.keys() == set()
    assert found  # the tool ran and found what Outlook lacks: the list above is not vacuous
