"""`check`: what would get an email clipped, broken, unreadable or unlawful to send."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.config import Config, load_config
from newsletter.issue import Issue, IssueItem, Section, read_issue
from newsletter.model import RenderedEmail
from newsletter.render import render_issue
from newsletter.render.checks import check_email
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def sample_config() -> Config:
    return load_config(ROOT / "newsletter.toml", environ={})


@pytest.fixture(scope="module")
def october(sample_config: Config) -> Issue:
    return read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-10.toml", sample_config)


def codes(issue: Issue, email: RenderedEmail) -> dict[str, str]:
    return {c.code: c.severity for c in check_email(issue, email)}


def test_the_samples_pass(sample_config: Config, october: Issue) -> None:
    assert check_email(october, render_issue(october, sample_config)) == []
    november = read_issue(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", sample_config)
    (finding,) = check_email(november, render_issue(november, sample_config))
    assert (finding.severity, finding.code) == ("warning", "duplicate-link")
    assert finding.message == (
        "8 items link to the same page "
        "https://www.ilo.org/global/topics/cooperatives/news/lang--en/index.htm"
    )


def with_html(email: RenderedEmail, body: str) -> RenderedEmail:
    return replace(email, html=email.html.replace("</body>", body + "</body>"))


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('<a href="javascript:alert(1)">x</a>', "link with a javascript: address"),
        ('<a href="/archive/2020-10/">x</a>', "relative link '/archive/2020-10/'"),
        ('<a href="">x</a>', "a link without an address"),
        ('<a href="%%subscriber_age%%">x</a>', "unknown merge tag %%subscriber_age%%"),
        ('<a href="data:text/html,hi">x</a>', "link with a data: address"),
    ],
)
def test_bad_links_are_errors(
    sample_config: Config, october: Issue, snippet: str, message: str
) -> None:
    email = with_html(render_issue(october, sample_config), snippet)
    errors = [c.message for c in check_email(october, email) if c.severity == "error"]
    assert any(message in error for error in errors), errors


def test_an_image_without_alt(sample_config: Config, october: Issue) -> None:
    email = with_html(render_issue(october, sample_config), '<img src="https://a.org/x.png">')
    assert codes(october, email)["alt"] == "error"


def test_size_against_the_clipping_limit(sample_config: Config, october: Issue) -> None:
    email = render_issue(october, sample_config)
    near = with_html(email, "<p>" + "x" * (92 * 1024 - len(email.html)) + "</p>")
    over = with_html(email, "<p>" + "x" * (103 * 1024 - len(email.html)) + "</p>")
    assert codes(october, near)["size"] == "warning"
    assert codes(october, over)["size"] == "error"


def test_missing_unsubscribe_and_web_version(sample_config: Config, october: Issue) -> None:
    email = render_issue(october, sample_config)
    stripped = replace(
        email,
        html=email.html.replace("%%unsubscribe_url%%", "https://ilo.org/").replace(
            "Unsubscribe", "Bye"
        ),
        web_version_url=None,
    )
    found = codes(october, stripped)
    assert found["unsubscribe"] == "error"
    assert found["web-version"] == "error"


def test_subject_preheader_and_text_part(sample_config: Config, october: Issue) -> None:
    long_title = replace(october, title="A" * 95, preheader="")
    email = render_issue(long_title, sample_config)
    found = codes(long_title, replace(email, text=email.text.replace("GSEF", "")))
    assert found["subject"] == "warning"
    assert "preheader" not in found  # an empty one is made from the lead at render time
    assert found["text-part"] == "error"
    short = replace(october, preheader="Short")
    assert codes(short, render_issue(short, sample_config))["preheader"] == "warning"
    nothing = replace(october, preheader="", lead=None, sections=())
    assert codes(nothing, render_issue(nothing, sample_config))["preheader"] == "error"


def test_a_preheader_made_of_titles_that_left_the_issue_is_a_warning(
    sample_config: Config, october: Issue
) -> None:
    """As drafts used to write it: the titles of the first items, one since taken out."""
    gone = "An item the editor has since taken out of the issue"
    assert october.lead is not None
    stale = replace(october, preheader=f"{october.lead.title} · {gone} · More…")
    findings = [f for f in check_email(stale, render_issue(stale, sample_config))
                if f.code == "preheader"]  # fmt: skip
    assert [f.severity for f in findings] == ["warning"]
    assert repr(gone) in findings[0].message
    own_words = replace(october, preheader="Our centennial month, in twelve stories and more")
    assert "preheader" not in codes(own_words, render_issue(own_words, sample_config))


def test_an_empty_section(sample_config: Config, october: Issue) -> None:
    item = IssueItem("4" * 16, "News", "Kept", date(2020, 10, 2), url="https://a.org/k")
    emptied = replace(october, sections=(Section("News", (item,)), Section("Empty", ())))
    assert codes(emptied, render_issue(emptied, sample_config))["section"] == "error"


Run = Callable[..., Result]


def test_check_command_json_and_exit_status(run: Run, workspace: Path) -> None:
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    for slug in ("2020-10", "2020-11"):
        (folder / f"{slug}.toml").write_text(
            (ROOT / "issues" / "ilo-coop-enews" / f"{slug}.toml").read_text()
        )
    result = run("check", "ilo-coop-enews/2020-10", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["html_bytes"] > 5000
    assert report["findings"] == []

    path = folder / "2020-11.toml"
    path.write_text(path.read_text().replace('preheader = "A two', 'preheader = ""\n#"'))
    made = run("check", "2020-11")  # an empty preheader is made from the lead
    assert made.exit_code == 0, made.stdout
    assert "preheader" not in made.stdout
    path.write_text(path.read_text().replace('status = "draft"', 'status = "drafty"'))
    failed = run("check", "2020-11")
    assert failed.exit_code == 1
    assert "error issue:" in failed.stdout
