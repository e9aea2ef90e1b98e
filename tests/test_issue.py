"""Checking an issue file: every problem named with its line; errors stop, warnings do not."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.config import Config
from newsletter.draft import create_draft
from newsletter.errors import Finding, NewsletterError
from newsletter.ingest import ingest_file
from newsletter.issue import check_issue, find_issue, read_issue
from newsletter.pool import Pool
from tests.conftest import COOPERATIVES, WHATS_NEW


@pytest.fixture
def november(pool: Pool, config: Config, listings: Path) -> Path:
    for name in (COOPERATIVES, WHATS_NEW):
        ingest_file(pool, config, listings / name)
    return create_draft(pool, config, "ilo-coop-enews", date(2020, 11, 1), date(2020, 11, 30)).path


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    numbers = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return numbers[occurrence - 1]


def replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), "utf-8")


def errors(path: Path, config: Config, pool: Pool | None = None) -> list[Finding]:
    issue, findings = check_issue(path, config, pool.known_uids if pool else None)
    found = [f for f in findings if f.severity == "error"]
    assert (issue is None) == bool(found)
    return found


def test_a_fresh_draft_has_no_findings(november: Path, config: Config, pool: Pool) -> None:
    assert check_issue(november, config, pool.known_uids)[1] == []


def test_a_syntax_error_names_its_line(november: Path, config: Config) -> None:
    replace(november, 'status = "draft"', "status = draft")
    with pytest.raises(NewsletterError) as caught:
        check_issue(november, config)
    assert caught.value.line == line_of(november, "status = draft")
    assert caught.value.message.startswith("invalid TOML")


def test_an_impossible_period_date_is_a_syntax_error_at_its_line(
    november: Path, config: Config
) -> None:
    replace(november, "end = 2020-11-30", "end = 2020-11-31")
    with pytest.raises(NewsletterError) as caught:
        read_issue(november, config)
    assert caught.value.line == line_of(november, "period = ")
    assert str(caught.value).startswith(f"{november}:{caught.value.line}: invalid TOML")


def test_a_period_ending_before_it_starts(november: Path, config: Config) -> None:
    replace(november, "end = 2020-11-30", "end = 2020-10-30")
    (found,) = errors(november, config)
    assert found.line == line_of(november, "period = ")
    assert found.message == "the period ends (2020-10-30) before it starts (2020-11-01)"


def test_a_period_date_given_as_text(november: Path, config: Config) -> None:
    replace(november, "end = 2020-11-30", 'end = "2020-11-31"')
    (found,) = errors(november, config)
    assert found.message == "period.end: '2020-11-31' is not a date like 2020-11-30"


def test_an_unknown_uid(november: Path, config: Config, pool: Pool) -> None:
    replace(november, 'uid = "0b26f7f4508855b5"', 'uid = "0b26f7f4508855b6"')
    (found,) = errors(november, config, pool)
    assert found.line == line_of(november, 'uid = "0b26f7f4508855b6"')
    assert found.message == "no item 0b26f7f4508855b6 in the pool"
    assert errors(november, config) == []  # without the pool only the form is checked


def test_a_duplicate_uid(november: Path, config: Config) -> None:
    replace(november, 'uid = "78852ccc23b11d5d"', 'uid = "0b26f7f4508855b5"')
    (found,) = errors(november, config)
    first = line_of(november, 'uid = "0b26f7f4508855b5"')
    assert found.line == line_of(november, 'uid = "0b26f7f4508855b5"', 2)
    assert found.message == f"item 0b26f7f4508855b5 appears twice (first at line {first})"


def test_a_malformed_uid(november: Path, config: Config) -> None:
    replace(november, 'uid = "0b26f7f4508855b5"', 'uid = "jordan"')
    (found,) = errors(november, config)
    assert found.message == "'jordan' is not an item uid (16 hex digits)"


def test_an_empty_section(november: Path, config: Config) -> None:
    text = november.read_text()
    start = text.index('[[sections]]\ntitle = "Interviews"')
    end = text.index("# What `draft`")
    november.write_text(text[:start] + '[[sections]]\ntitle = "Interviews"\n\n' + text[end:])
    (found,) = errors(november, config)
    assert found.line == line_of(november, 'title = "Interviews"') - 1
    assert found.message == "section 'Interviews' is empty: add items or remove it"


def test_a_missing_or_empty_title(november: Path, config: Config) -> None:
    replace(november, 'title = "ILO COOP eNews - November issue"', 'title = " "')
    (found,) = errors(november, config)
    assert (found.line, found.message) == (line_of(november, 'title = " "'), "title is empty")
    replace(november, 'title = " "\n', "")
    assert [f.message for f in errors(november, config)] == ["missing title"]


def test_an_item_without_a_title(november: Path, config: Config) -> None:
    replace(november, 'title = "ILO COOP Chiefs across time"\n', "")
    (found,) = errors(november, config)
    assert found.message == "missing sections[1].items[1].title"


def test_an_unknown_key_suggests_the_right_one(november: Path, config: Config) -> None:
    replace(november, "summary = ", "sumary = ")
    (found,) = errors(november, config)
    assert found.message == "unknown key 'sumary' (did you mean 'summary'?)"
    assert found.line == line_of(november, "sumary = ")


def test_an_unknown_newsletter_or_topic(november: Path, config: Config) -> None:
    replace(november, 'newsletter = "ilo-coop-enews"', 'newsletter = "ilo-enews"')
    replace(november, 'topics = ["cooperatives"]', 'topics = ["fishing"]')
    assert [f.message for f in errors(november, config)] == [
        "unknown newsletter 'ilo-enews' (newsletters: ilo-coop-enews)",
        "unknown topic 'fishing'",
    ]


def test_a_link_that_is_not_http(november: Path, config: Config) -> None:
    replace(november, "listing_url = ", 'url = "javascript:alert(1)"\nlisting_url = ')
    (found,) = errors(november, config)
    assert found.message == "url must be an http(s) address, got 'javascript:alert(1)'"


def test_an_item_outside_the_period_is_a_warning(november: Path, config: Config) -> None:
    replace(november, "date = 2020-11-04", "date = 2020-10-04")
    issue, findings = check_issue(november, config)
    assert issue is not None
    (warning,) = findings
    assert warning.severity == "warning"
    assert warning.line == line_of(november, "date = 2020-10-04")
    assert warning.labelled() == (
        f"{november}:{warning.line}: warning: 'Supporting the cooperative movement in Jordan' "
        "is dated 2020-10-04, outside the period"
    )


def test_read_issue_raises_the_first_error(november: Path, config: Config) -> None:
    replace(november, 'status = "draft"', 'status = "sent"')
    with pytest.raises(NewsletterError) as caught:
        read_issue(november, config)
    assert caught.value.line == line_of(november, 'status = "sent"')
    assert caught.value.message == "status must be one of draft, published, not 'sent'"


def test_find_issue_by_path_reference_or_slug(november: Path, config: Config) -> None:
    assert find_issue(config, str(november)) == november
    assert find_issue(config, "ilo-coop-enews/2020-11") == november
    assert find_issue(config, "2020-11") == november
    with pytest.raises(NewsletterError, match="no issue '2020-12'"):
        find_issue(config, "2020-12")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("date = 2020-11-27", "date = 2020-11-27T10:00:00", "lead.date: "),
        ('topics = ["cooperatives"]', 'topics = [["cooperatives"]]', "topics must be a list"),
        ("offered = [", "offered = 5\nx = [", "selection.offered must be a list"),
    ],
)
def test_values_of_the_wrong_type(
    november: Path, config: Config, old: str, new: str, message: str
) -> None:
    replace(november, old, new)
    found = errors(november, config)
    assert any(message in f.message for f in found), [f.message for f in found]
