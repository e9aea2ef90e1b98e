"""`newsletter draft`, `validate` and `issues` as an editor types them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Run = Callable[..., Result]


@pytest.fixture
def ingested(run: Run) -> Run:
    assert run("ingest", "--all").exit_code == 0
    return run


def test_draft_writes_the_issue_file(ingested: Run, workspace: Path) -> None:
    result = ingested("draft", "ilo-coop-enews", "--month", "2020-11")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "wrote issues/ilo-coop-enews/2020-11.toml: ILO COOP eNews - November issue"
    assert lines[1].startswith("8 items; lead: 'A two-day symposium")
    assert lines[1].endswith("; News 4, Articles 2, Interviews 1")
    assert (workspace / "issues" / "ilo-coop-enews" / "2020-11.toml").is_file()


def test_draft_october_says_what_it_left_out(ingested: Run) -> None:
    result = ingested("draft", "new", "ilo-coop-enews", "--month", "2020-10")
    assert result.exit_code == 0
    assert "2 items" in result.stdout
    assert (
        "left out 'ILO COOP eNews - October issue': an earlier issue of this newsletter"
        in result.stdout
    )


def test_draft_refuses_to_overwrite_then_refresh_and_validate(ingested: Run) -> None:
    assert ingested("draft", "ilo-coop-enews", "--month", "2020-11").exit_code == 0
    again = ingested("draft", "ilo-coop-enews", "--month", "2020-11")
    assert again.exit_code == 1
    assert "`newsletter draft refresh ilo-coop-enews/2020-11`" in again.stderr
    refreshed = ingested("draft", "refresh", "ilo-coop-enews/2020-11")
    assert refreshed.stdout.strip() == "nothing new since the draft was written"
    valid = ingested("validate", "2020-11")
    assert valid.exit_code == 0
    assert valid.stdout.strip() == "issues/ilo-coop-enews/2020-11.toml: ok, 8 items in 3 sections"


def test_draft_add_by_uid(ingested: Run) -> None:
    ingested("draft", "ilo-coop-enews", "--month", "2020-10")
    (tier,) = json.loads(ingested("items", "--search", "Tier 1", "--format", "json").stdout)
    added = ingested("draft", "add", "ilo-coop-enews/2020-10", str(tier["uid"])[:6])
    assert added.exit_code == 0
    assert added.stdout.startswith("added to Articles: Getting Beyond Tier 1")


def test_validate_reports_each_problem_with_its_line(ingested: Run, workspace: Path) -> None:
    ingested("draft", "ilo-coop-enews", "--month", "2020-11")
    path = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    text = path.read_text().replace('uid = "78852ccc23b11d5d"', 'uid = "0b26f7f4508855b5"')
    path.write_text(text.replace("date = 2020-11-27", "date = 2020-12-27"))
    result = ingested("validate", "ilo-coop-enews/2020-11")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("issues/ilo-coop-enews/2020-11.toml:")
    assert ": warning: " in lines[0]
    assert lines[1].startswith("issues/ilo-coop-enews/2020-11.toml:")
    assert ": error: item 0b26f7f4508855b5 appears twice" in lines[1]
    assert lines[2] == "Error: 1 error in issues/ilo-coop-enews/2020-11.toml"


def test_nothing_to_draft_is_exit_1_and_no_file(ingested: Run, workspace: Path) -> None:
    result = ingested("draft", "ilo-coop-enews", "--month", "2020-12")
    assert result.exit_code == 1
    assert "no cooperatives items between 2020-12-01 and 2020-12-31" in result.stderr
    assert not (workspace / "issues").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("draft", "ilo-coop-enews"),
        ("draft", "ilo-coop-enews", "--from", "2020-11-01"),
        ("draft", "ilo-coop-enews", "--month", "2020-11-31"),
    ],
)
def test_draft_usage_errors(ingested: Run, args: tuple[str, ...]) -> None:
    assert ingested(*args).exit_code == 2


def test_issues_lists_drafts(ingested: Run) -> None:
    ingested("draft", "ilo-coop-enews", "--month", "2020-10")
    ingested("draft", "ilo-coop-enews", "--month", "2020-11")
    records = json.loads(ingested("issues", "--format", "json").stdout)
    assert [(r["issue"], r["status"], r["items"], r["start"]) for r in records] == [
        ("ilo-coop-enews/2020-10", "draft", 2, "2020-10-01"),
        ("ilo-coop-enews/2020-11", "draft", 8, "2020-11-01"),
    ]
    table = ingested("issues")
    assert "ILO COOP eNews - November issue" in table.stdout
    assert table.stdout.rstrip().endswith("2 issues")
