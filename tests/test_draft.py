"""Issue drafts: selection into a file, the editor's edits, refresh and add."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Config, load_config
from newsletter.draft import (
    DraftReport,
    add_to_draft,
    create_draft,
    earlier_issue_patterns,
    issue_title,
    refresh_draft,
)
from newsletter.errors import NewsletterError
from newsletter.ingest import ingest_file
from newsletter.issue import check_issue, read_issue
from newsletter.model import ItemQuery
from newsletter.pool import Pool
from tests.conftest import COOPERATIVES, WHATS_NEW

NOVEMBER = (date(2020, 11, 1), date(2020, 11, 30))
OCTOBER = (date(2020, 10, 1), date(2020, 10, 31))
LATE_ITEM = (
    "Late listing\n\n  1. News\n\n    ILO COOP takes part in the Global Cooperative Conference\n\n"
    "    30 November 2020\n\n    A late item, ingested after the draft was written.\n"
)


@pytest.fixture
def filled(pool: Pool, config: Config, listings: Path) -> Pool:
    for name in (COOPERATIVES, WHATS_NEW):
        ingest_file(pool, config, listings / name)
    return pool


def draft(
    pool: Pool, config: Config, period: tuple[date, date] = NOVEMBER, **options: Any
) -> DraftReport:
    return create_draft(pool, config, "ilo-coop-enews", *period, **options)


def test_november_draft_holds_the_8_cooperative_items_in_sections(
    filled: Pool, config: Config, workspace: Path
) -> None:
    report = draft(filled, config)
    issue = report.issue
    assert report.path == workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    assert issue.title == "ILO COOP eNews - November issue"
    assert len(issue.items) == 8
    assert issue.lead is not None
    assert issue.lead.title.startswith("A two-day symposium")
    assert [(s.title, len(s.items)) for s in issue.sections] == [
        ("News", 4),
        ("Articles", 2),
        ("Interviews", 1),
    ]
    for section in issue.sections:
        dates = [item.date for item in section.items]
        assert dates == sorted(dates, reverse=True)
    assert read_issue(report.path, config) == issue  # the file says what was meant
    assert check_issue(report.path, config, filled.known_uids)[1] == []


def test_october_draft_leaves_out_the_earlier_issue(filled: Pool, config: Config) -> None:
    report = draft(filled, config, OCTOBER)
    assert report.issue.title == "ILO COOP eNews - October issue"
    assert len(report.issue.items) == 2
    assert "ILO COOP eNews - October issue" not in {i.title for i in report.issue.items}
    assert report.earlier_issues == ("ILO COOP eNews - October issue",)


def test_the_file_is_self_contained(filled: Pool, config: Config) -> None:
    path = draft(filled, config).path
    data = tomllib.loads(path.read_text("utf-8"))
    assert data["newsletter"] == "ilo-coop-enews"
    assert data["status"] == "draft"
    assert data["period"] == {"start": NOVEMBER[0], "end": NOVEMBER[1]}
    assert data["topics"] == ["cooperatives"]
    assert data["intro"] == ""
    assert data["preheader"] == ""  # made from the lead when rendered, never stale
    from newsletter.issue import read_issue
    from newsletter.render import render_issue

    email = render_issue(read_issue(path, config), config)
    assert email.preheader.startswith("A two-day symposium")
    jordan = next(
        item
        for section in data["sections"]
        for item in section["items"]
        if "Jordan" in item["title"]
    )
    assert set(jordan) == {"uid", "type", "date", "title", "summary", "listing_url"}
    assert jordan["listing_url"].startswith("https://www.ilo.org/")  # the sample has no URLs


def test_titles_in_french_and_spanish(config: Config, workspace: Path) -> None:
    toml = workspace / "newsletter.toml"
    toml.write_text(
        toml.read_text()
        + '\n[newsletters.enews-fr]\nname = "ILO COOP eNews"\ntopics = ["cooperatives"]\n'
        'language = "fr"\ntitle_pattern = "{name} - numéro de {month} {year}"\n'
        '\n[newsletters.enews-es]\nname = "ILO COOP eNews"\ntopics = ["cooperatives"]\n'
        'language = "es"\ntitle_pattern = "{name} - edición de {month} de {year}"\n',
        "utf-8",
    )
    newsletters = load_config(toml).newsletters
    assert issue_title(newsletters["enews-fr"], NOVEMBER[0]) == (
        "ILO COOP eNews - numéro de novembre 2020"
    )
    assert issue_title(newsletters["enews-es"], NOVEMBER[0]) == (
        "ILO COOP eNews - edición de noviembre de 2020"
    )
    assert issue_title(config.newsletters["ilo-coop-enews"], OCTOBER[0]) == (
        "ILO COOP eNews - October issue"
    )


def test_earlier_issue_titles(config: Config) -> None:
    patterns = earlier_issue_patterns(config.newsletters["ilo-coop-enews"])

    def earlier(title: str) -> bool:
        return any(pattern.fullmatch(title) for pattern in patterns)

    assert earlier("ILO COOP eNews - October issue")
    assert earlier("ilo coop enews -  March issue")
    assert earlier("ILO COOP eNewsUpdate No. 8, August 2020")  # as real pages name them
    assert earlier("ILO COOP eNews No 12 - December 2019")
    assert earlier("Issue No 5, May 2019")
    assert not earlier("ILO E-news Special Issue for ILO COOP 100 Symposium")
    assert not earlier("ILO COOP eNews - October issue, and more")
    assert not earlier("ILO COOP eNews celebrates 100 issues")
    assert not earlier("Cooperatives issue a call for 25 proposals")


def test_earlier_issue_titles_can_be_configured(config: Config) -> None:
    newsletter = replace(config.newsletters["ilo-coop-enews"], earlier_issues=(r"Bulletin \d+",))
    patterns = earlier_issue_patterns(newsletter)
    assert any(p.fullmatch("bulletin 12") for p in patterns)
    assert not any(p.fullmatch("Issue No 5, May 2019") for p in patterns)  # defaults replaced
    assert any(p.fullmatch("ILO COOP eNews - May issue") for p in patterns)  # the pattern stays


def edit(path: Path) -> str:
    """An editor's morning: reorder, delete, retitle, write an intro with a comment."""
    text = path.read_text("utf-8")
    blocks = text.split("\n\n[[sections.items]]\n")
    # blocks[1..4] are the News items: delete "E-news Special", swap the two that follow it.
    assert "ILO E-news Special Issue" in blocks[2]
    del blocks[2]
    blocks[2], blocks[3] = blocks[3], blocks[2]
    text = "\n\n[[sections.items]]\n".join(blocks)
    text = text.replace(
        'title = "ILO COOP Chiefs across time"', 'title = "The chiefs of ILO COOP, 1920-2020"'
    )
    text = text.replace(
        'intro = """\n"""',
        "# Written by Simel on Monday; to be checked by the unit.\n"
        'intro = """\nA centenary month for the Cooperatives Unit.\n\nRead on.\n"""',
    )
    path.write_text(text, "utf-8")
    return text


def test_refresh_keeps_every_edit_and_comment_byte_for_byte(
    filled: Pool, config: Config, tmp_path: Path
) -> None:
    path = draft(filled, config).path
    edited = edit(path)
    late = tmp_path / "late.txt"
    late.write_text(LATE_ITEM, "utf-8")
    ingest_file(filled, config, late, source_name="ilo-cooperatives")

    report = refresh_draft(filled, config, path)

    refreshed = path.read_text("utf-8")
    assert [(section, item.title) for section, item in report.added] == [
        ("News", "ILO COOP takes part in the Global Cooperative Conference")
    ]
    assert len(report.newly_excluded) == 1
    # Only insertions: every line of the edited file is still there, in order.
    changes = difflib.SequenceMatcher(None, edited.splitlines(), refreshed.splitlines())
    assert {op for op, *_ in changes.get_opcodes()} == {"equal", "insert"}
    issue = read_issue(path, config)
    titles = [item.title for item in issue.items]
    assert "ILO COOP takes part in the Global Cooperative Conference" in titles
    assert "ILO E-news Special Issue for ILO COOP 100 Symposium" not in titles
    assert "The chiefs of ILO COOP, 1920-2020" in titles
    assert issue.intro == "A centenary month for the Cooperatives Unit.\n\nRead on.\n"
    news = issue.sections[0].items
    assert news[0].title.startswith("ILO COOP takes part")  # newest first, flagged
    assert news[0].new
    assert report.newly_excluded[0] in issue.excluded

    again = refresh_draft(filled, config, path)
    assert (again.added, again.newly_excluded) == ((), ())
    assert path.read_text("utf-8") == refreshed


def test_a_removed_item_never_comes_back(filled: Pool, config: Config) -> None:
    path = draft(filled, config).path
    edit(path)
    refresh_draft(filled, config, path)
    refresh_draft(filled, config, path)
    titles = [item.title for item in read_issue(path, config).items]
    assert "ILO E-news Special Issue for ILO COOP 100 Symposium" not in titles


def test_add_by_uid_brings_back_an_excluded_item(filled: Pool, config: Config) -> None:
    path = draft(filled, config).path
    edit(path)
    (removed,) = refresh_draft(filled, config, path).newly_excluded
    section, item = add_to_draft(filled, config, path, removed[:8])
    assert (section, item.uid) == ("News", removed)
    issue = read_issue(path, config)
    assert removed in {i.uid for i in issue.items}
    assert removed not in issue.excluded
    with pytest.raises(NewsletterError, match="already in the issue"):
        add_to_draft(filled, config, path, removed)


def test_add_an_item_from_outside_the_selection_to_a_named_section(
    filled: Pool, config: Config
) -> None:
    path = draft(filled, config).path
    (tier,) = filled.select_items(ItemQuery(search="Tier 1"))
    section, _ = add_to_draft(filled, config, path, tier.uid, section="Supply chains")
    assert section == "Supply chains"
    issue = read_issue(path, config)
    assert [s.title for s in issue.sections][-1] == "Supply chains"
    assert any(f.severity == "warning" for f in check_issue(path, config)[1])  # 27 October


def test_nothing_matches_writes_nothing(filled: Pool, config: Config, workspace: Path) -> None:
    december = (date(2020, 12, 1), date(2020, 12, 31))
    with pytest.raises(NewsletterError) as caught:
        draft(filled, config, december)
    assert str(caught.value) == (
        "no cooperatives items between 2020-12-01 and 2020-12-31; nothing written "
        "(--allow-empty writes an empty draft)"
    )
    assert not (workspace / "issues").exists()
    empty = draft(filled, config, december, allow_empty=True)
    assert empty.issue.items == ()


def test_an_existing_draft_is_not_overwritten(filled: Pool, config: Config) -> None:
    path = draft(filled, config).path
    edit(path)
    edited = path.read_text("utf-8")
    with pytest.raises(NewsletterError, match=r"exists and is not overwritten: `newsletter draft "
                       r"refresh ilo-coop-enews/2020-11`"):  # fmt: skip
        draft(filled, config)
    assert path.read_text("utf-8") == edited
    draft(filled, config, force=True)
    assert path.read_text("utf-8") != edited


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    filled: Pool, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = draft(filled, config).path
    before = path.read_text("utf-8")

    def broken_replace(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        draft(filled, config, force=True, title="Another title")
    assert path.read_text("utf-8") == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_custom_period_slug_and_title(filled: Pool, config: Config) -> None:
    report = draft(filled, config, (date(2020, 11, 1), date(2020, 11, 12)), title="Centenary")
    assert report.path.name == "2020-11-01--2020-11-12.toml"
    assert report.issue.title == "Centenary"
    assert len(report.issue.items) == 5
    special = draft(filled, config, slug="centenary-special", topics=["supply-chains"])
    assert special.path.name == "centenary-special.toml"
    assert {item.type for item in special.issue.items} == {"Press release", "Publication"}


def test_refresh_refuses_a_published_issue(filled: Pool, config: Config) -> None:
    path = draft(filled, config).path
    path.write_text(path.read_text().replace('status = "draft"', 'status = "published"'))
    with pytest.raises(NewsletterError, match="the issue is published; only drafts change"):
        refresh_draft(filled, config, path)


def test_refresh_keeps_windows_line_ends(filled: Pool, config: Config, tmp_path: Path) -> None:
    path = draft(filled, config).path
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    late = tmp_path / "late.txt"
    late.write_text(LATE_ITEM, "utf-8")
    ingest_file(filled, config, late, source_name="ilo-cooperatives")
    assert refresh_draft(filled, config, path).added
    data = path.read_bytes()
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_force_never_overwrites_a_published_issue(filled: Pool, config: Config) -> None:
    path = draft(filled, config).path
    path.write_text(path.read_text().replace('status = "draft"', 'status = "published"'))
    with pytest.raises(NewsletterError, match="is a published issue: --force does not"):
        draft(filled, config, force=True)
    with pytest.raises(NewsletterError, match="the title must be one line"):
        draft(filled, config, OCTOBER, title='Hello\nstatus = "published"')
