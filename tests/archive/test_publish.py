"""Publishing: numbers, dates, frozen copies, and never changing what went out by accident."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import pytest

from newsletter.archive.publish import publish_issue, read_frozen, versions
from newsletter.config import Config
from newsletter.draft import refresh_draft
from newsletter.errors import NewsletterError
from newsletter.pool import Pool

OCTOBER_DAY, NOVEMBER_DAY = date(2020, 11, 2), date(2020, 12, 1)


def test_publishing_numbers_dates_and_freezes(samples: Path, config: Config, pool: Pool) -> None:
    october = publish_issue(pool, config, samples / "2020-10.toml", today=OCTOBER_DAY)
    november = publish_issue(pool, config, samples / "2020-11.toml", today=NOVEMBER_DAY)
    assert (october.frozen.number, november.frozen.number) == (1, 2)
    assert november.frozen.published == NOVEMBER_DAY
    assert not november.unchanged
    folder = samples / "2020-11" / "v1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "email.html", "email.txt", "issue.toml", "publication.json"
    ]  # fmt: skip
    data = tomllib.loads((samples / "2020-11.toml").read_text())
    assert (data["status"], data["number"], data["published"]) == ("published", 2, NOVEMBER_DAY)
    assert (folder / "issue.toml").read_text() == (samples / "2020-11.toml").read_text()
    record = json.loads((folder / "publication.json").read_text())
    assert record["topics"]["0b26f7f4508855b5"] == ["cooperatives"]
    assert "ILO COOP eNews - November issue" in (folder / "email.html").read_text()
    assert [(p.slug, p.number, p.version) for p in pool.publications()] == [
        ("2020-10", 1, 1), ("2020-11", 2, 1)
    ]  # fmt: skip


def test_publishing_again_unchanged_does_nothing(samples: Path, config: Config, pool: Pool) -> None:
    first = publish_issue(pool, config, samples / "2020-11.toml", today=NOVEMBER_DAY)
    again = publish_issue(pool, config, samples / "2020-11.toml", today=date(2021, 1, 1))
    assert again.unchanged
    assert again.frozen == first.frozen
    assert len(pool.publications()) == 1


def test_changed_content_needs_force_and_keeps_the_earlier_version(
    samples: Path, config: Config, pool: Pool
) -> None:
    path = samples / "2020-11.toml"
    publish_issue(pool, config, path, today=NOVEMBER_DAY)
    first_email = (samples / "2020-11" / "v1" / "email.html").read_text()
    path.write_text(path.read_text().replace("ILO COOP Chiefs across time", "The chiefs"))
    with pytest.raises(NewsletterError, match="has changed since: --force publishes it again"):
        publish_issue(pool, config, path)
    assert [p.name for p in versions(path)] == ["v1"]
    second = publish_issue(pool, config, path, force=True, today=date(2021, 1, 1))
    assert (second.frozen.version, second.frozen.number) == (2, 1)
    assert second.frozen.published == NOVEMBER_DAY  # the date it first went out
    assert [p.name for p in versions(path)] == ["v1", "v2"]
    assert (samples / "2020-11" / "v1" / "email.html").read_text() == first_email
    assert "The chiefs" in (samples / "2020-11" / "v2" / "email.html").read_text()
    assert read_frozen(samples / "2020-11" / "v1", config).version == 1


def test_a_published_issue_is_no_draft_any_more(samples: Path, config: Config, pool: Pool) -> None:
    path = samples / "2020-10.toml"
    publish_issue(pool, config, path)
    with pytest.raises(NewsletterError, match="the issue is published; only drafts change"):
        refresh_draft(pool, config, path)


def test_an_issue_with_errors_is_not_published(samples: Path, config: Config, pool: Pool) -> None:
    path = samples / "2020-10.toml"
    path.write_text(path.read_text().replace('title = "ILO COOP eNews', 'title = "" # "'))
    with pytest.raises(NewsletterError, match="title is empty"):
        publish_issue(pool, config, path)
    assert versions(path) == []
    assert pool.publications() == []


def test_a_back_issue_keeps_its_real_date_and_number(samples: Path, config: Config) -> None:
    from click.testing import CliRunner

    from newsletter.cli import cli

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["publish", *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    october, november = "ilo-coop-enews/2020-10", "ilo-coop-enews/2020-11"
    assert run(october, "--date", "2020-11-02", "--number", "7") == (
        0, "published ilo-coop-enews/2020-10 as no. 7 on 2020-11-02: "
        "issues/ilo-coop-enews/2020-10/v1\n", ""
    )  # fmt: skip
    refusals = {
        ("--date", "2020-10-01"): "no. 7 (2020-10) is dated 2020-11-02, after 2020-10-01: "
        "give --number to publish a back issue",
        ("--date", "2020-10-01", "--number", "8"): "no. 8 dated 2020-10-01 is out of order "
        "with no. 7 (2020-10, 2020-11-02): numbers follow dates, so give one below 7",
        ("--date", "2020-12-01", "--number", "6"): "no. 6 dated 2020-12-01 is out of order "
        "with no. 7 (2020-10, 2020-11-02): numbers follow dates, so give one above 7",
        ("--date", "2020-12-01", "--number", "7"): "no. 7 is 2020-10 already",
    }
    path = samples / "2020-11.toml"
    before = path.read_text()
    for options, message in refusals.items():
        code, out, err = run(november, *options)
        assert (code, out) == (1, ""), options
        assert err == f"Error: issues/ilo-coop-enews/2020-11.toml: {message}\n"
        assert path.read_text() == before  # nothing marked
        assert not (samples / "2020-11").exists()  # nothing frozen
    code, _, err = run(november, "--date", "0001-01-01")
    assert code == 1
    assert err.count("\n") == 1
    assert "--date" in err
    assert run(november, "--date", "2020-12-01")[:2] == (
        0, "published ilo-coop-enews/2020-11 as no. 8 on 2020-12-01: "
        "issues/ilo-coop-enews/2020-11/v1\n"
    )  # fmt: skip
    frozen = read_frozen(samples / "2020-10" / "v1", config)
    assert (frozen.number, frozen.published) == (7, date(2020, 11, 2))
