"""Editing an issue file through its one writer: each edit changes its own lines only (comments,
layout, line ends and a BOM kept byte for byte), checks the result before writing, and never
loses another writer's edit. Random sequences of edits keep the file valid (Hypothesis)."""

from __future__ import annotations

import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.config import Config
from newsletter.draft import edit_item, move_item, remove_item, set_lead
from newsletter.errors import NewsletterError
from newsletter.issue import read_issue
from tests.conftest import ROOT

SAMPLE = ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml"
UIDS = [
    "73f6d1040ab3e0d3", "cc7b3e439af7817e", "bfba60ad2ab07ba7", "adab20757aaf62b9",
    "5ced066eaca1a976", "e5e34339aeb44326", "0b26f7f4508855b5", "78852ccc23b11d5d",
]  # fmt: skip


def changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines taken out and the lines put in."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def test_editing_a_field_changes_that_line_only(issue_file: Path, config: Config) -> None:
    before = issue_file.read_text()
    item = edit_item(config, issue_file, "5ced06", "title", "A shorter title")
    assert item.title == "A shorter title"
    removed, added = changes(before, issue_file.read_text())
    assert removed == [
        'title = "ILO contributes a message on cooperatives at the Urban and Rural Development '
        'Week of EXPO2020 Dubai"'
    ]
    assert added == ['title = "A shorter title"']


def test_a_summary_of_several_paragraphs_is_written_as_a_multiline_string(
    issue_file: Path, config: Config
) -> None:
    edit_item(config, issue_file, "adab20", "summary", "One.\n\nTwo.")
    assert read_issue(issue_file, config).sections[0].items[1].summary == "One.\n\nTwo."
    assert 'summary = """One.\n\nTwo."""' in issue_file.read_text()


def test_setting_the_lead_moves_two_items_and_keeps_every_comment(
    issue_file: Path, config: Config
) -> None:
    before = issue_file.read_text()
    lead, section = set_lead(config, issue_file, "0b26f7")
    assert (lead.title, section) == ("Supporting the cooperative movement in Jordan", "News")
    issue = read_issue(issue_file, config)
    assert issue.lead is not None
    assert issue.lead.uid == "0b26f7f4508855b5"
    news = next(s for s in issue.sections if s.title == "News")
    assert news.items[0].uid == "73f6d1040ab3e0d3"  # the old lead, first in its section
    assert comments(issue_file.read_text()) == comments(before)
    assert sorted(i.uid for i in issue.items) == sorted(i.uid for i in read_issue(
        SAMPLE, config).items)  # fmt: skip


def test_moving_within_and_between_sections(issue_file: Path, config: Config) -> None:
    item, section, place = move_item(config, issue_file, "e5e343", position=1)
    assert (item.uid, section, place) == ("e5e34339aeb44326", "News", 1)
    item, section, place = move_item(config, issue_file, "bfba60", "Articles", 2)
    assert (section, place) == ("Articles", 2)
    issue = read_issue(issue_file, config)
    titles = {s.title: [i.uid[:6] for i in s.items] for s in issue.sections}
    assert titles["News"] == ["e5e343", "adab20", "5ced06"]
    assert titles["Articles"] == ["0b26f7", "bfba60", "78852c"]
    _, _, place = move_item(config, issue_file, "adab20", position=99)
    assert place == 3  # past the end: last


def test_removing_excludes_the_item(issue_file: Path, config: Config) -> None:
    before = issue_file.read_text()
    remove_item(config, issue_file, "adab20")
    issue = read_issue(issue_file, config)
    assert "adab20757aaf62b9" not in {i.uid for i in issue.items}
    assert issue.excluded == ("adab20757aaf62b9",)
    assert comments(issue_file.read_text()) == comments(before)


def test_taking_out_a_sections_last_item_takes_the_section_out_too(
    issue_file: Path, config: Config
) -> None:
    """An empty section is an error in an issue file: removing or moving the last item of one
    must not leave the file unreadable."""
    issue = read_issue(issue_file, config)
    sections = {s.title: [i.uid for i in s.items] for s in issue.sections}
    alone = next(title for title, uids in sections.items() if len(uids) == 1)
    remove_item(config, issue_file, sections[alone][0])
    after = read_issue(issue_file, config)
    assert alone not in [s.title for s in after.sections]
    assert len(after.sections) == len(issue.sections) - 1
    last = after.sections[-1]
    for item in last.items:
        move_item(config, issue_file, item.uid, after.sections[0].title)
    moved = read_issue(issue_file, config)
    assert last.title not in [s.title for s in moved.sections]
    assert len(moved.items) == len(after.items)


def test_crlf_line_ends_and_a_bom_are_kept(issue_file: Path, config: Config) -> None:
    issue_file.write_bytes(b"\xef\xbb\xbf" + SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    edit_item(config, issue_file, "5ced06", "title", "Short")
    data = issue_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.count(b"\r\n") == SAMPLE.read_bytes().count(b"\n")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c, p: edit_item(c, p, "5ced06", "title", "Bad\u2028title"), "U+2028"),
        (lambda c, p: edit_item(c, p, "5ced06", "url", "javascript:alert(1)"), "url"),
        (lambda c, p: edit_item(c, p, "5ced06", "colour", "red"), "not an item field"),
        (lambda c, p: set_lead(c, p, "73f6d1"), "is the lead already"),
        (lambda c, p: remove_item(c, p, "ffffff"), "no item ffffff in the issue"),
        (lambda c, p: move_item(c, p, "5ced06", position=0), "expected 1 or more"),
    ],
)
def test_a_bad_edit_writes_nothing(issue_file: Path, config: Config, edit, message) -> None:  # type: ignore[no-untyped-def]
    before = issue_file.read_bytes()
    with pytest.raises(NewsletterError, match=re.escape(message)):
        edit(config, issue_file)
    assert issue_file.read_bytes() == before


def test_an_ambiguous_uid_is_refused(issue_file: Path, config: Config) -> None:
    text = issue_file.read_text().replace("cc7b3e439af7817e", "5ced066eaca1a977")
    issue_file.write_text(text)
    with pytest.raises(NewsletterError, match="could be any of"):
        edit_item(config, issue_file, "5ced06", "title", "x")


def test_a_file_with_errors_or_a_published_issue_is_not_edited(
    issue_file: Path, config: Config
) -> None:
    issue_file.write_text(issue_file.read_text().replace("date = 2020-11-27", 'date = "soon"'))
    with pytest.raises(NewsletterError, match="date"):
        edit_item(config, issue_file, "5ced06", "title", "x")
    shutil.copy(SAMPLE, issue_file)
    issue_file.write_text(
        issue_file.read_text().replace(
            'status = "draft"', 'status = "published"\nnumber = 1\npublished = 2020-12-01'
        )
    )
    with pytest.raises(NewsletterError, match="only drafts change"):
        edit_item(config, issue_file, "5ced06", "title", "x")


EDITOR = """
import sys
from pathlib import Path
from newsletter.config import load_config
from newsletter.draft import edit_item
config = load_config(Path("newsletter.toml"))
uid, rounds = sys.argv[1], int(sys.argv[2])
for n in range(rounds):
    edit_item(config, Path("issues/ilo-coop-enews/2020-11.toml"), uid, "title", f"{uid} {n}")
"""


def test_two_editors_at_once_lose_nothing(
    issue_file: Path, workspace: Path, config: Config
) -> None:
    editors = [
        subprocess.Popen([sys.executable, "-c", EDITOR, uid, "25"], cwd=workspace)
        for uid in ("5ced066eaca1a976", "78852ccc23b11d5d")
    ]
    assert [editor.wait(timeout=120) for editor in editors] == [0, 0]
    titles = {item.uid: item.title for item in read_issue(issue_file, config).items}
    assert titles["5ced066eaca1a976"] == "5ced066eaca1a976 24"
    assert titles["78852ccc23b11d5d"] == "78852ccc23b11d5d 24"


def test_a_killed_editor_leaves_the_old_or_the_new_file(
    issue_file: Path, workspace: Path, config: Config
) -> None:
    leftover = issue_file.parent / f".{issue_file.name}.k1ll3d00"  # as a killed write leaves it
    leftover.write_text("half a file")
    other = issue_file.parent / "notes.txt"  # not ours: stays
    other.write_text("the editor's own")
    edit_item(config, issue_file, "5ced066eaca1a976", "title", "before")
    assert not leftover.exists()
    assert other.read_text() == "the editor's own"
    other.unlink()
    for delay in (0.3, 0.5, 0.7):
        editor = subprocess.Popen([sys.executable, "-c", EDITOR, "5ced066eaca1a976", "1000"],
                                  cwd=workspace)  # fmt: skip
        time.sleep(delay)
        os.kill(editor.pid, signal.SIGKILL)
        editor.wait()
        issue = read_issue(issue_file, config)  # whole and valid, whichever version
        assert len(issue.items) == len(UIDS)
        # A write killed before its rename leaves its temporary copy; the next edit, under
        # the lock, removes it.
        edit_item(config, issue_file, "5ced066eaca1a976", "title", f"after {delay}")
        assert not [p for p in issue_file.parent.iterdir() if p.name != issue_file.name]
        titles = [item.title for item in read_issue(issue_file, config).items]
        assert f"after {delay}" in titles


EDITS = st.one_of(
    st.tuples(st.just("lead"), st.sampled_from(UIDS)),
    st.tuples(
        st.just("move"),
        st.sampled_from(UIDS),
        st.sampled_from([None, "News", "Articles", "Interviews", "Events"]),
        st.one_of(st.none(), st.integers(1, 6)),
    ),
    st.tuples(st.just("remove"), st.sampled_from(UIDS)),
    st.tuples(st.just("title"), st.sampled_from(UIDS), st.text(min_size=1, max_size=40)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(EDITS, max_size=8))
def test_random_edits_keep_the_file_valid(
    issue_file: Path, config: Config, edits: list[tuple]
) -> None:  # type: ignore[type-arg]
    shutil.copy(SAMPLE, issue_file)
    before = comments(SAMPLE.read_text())
    removed: set[str] = set()
    for edit in edits:
        kind, uid = edit[0], edit[1]
        try:
            if kind == "lead":
                set_lead(config, issue_file, uid)
            elif kind == "move":
                move_item(config, issue_file, uid, edit[2], edit[3])
            elif kind == "remove":
                remove_item(config, issue_file, uid)
                removed.add(uid)
            else:
                edit_item(config, issue_file, uid, "title", edit[2])
        except NewsletterError:
            pass  # refused (an item removed before, a title no header takes): nothing written
        issue = read_issue(issue_file, config)
        uids = [item.uid for item in issue.items]
        assert len(uids) == len(set(uids))  # each uid at most once
        assert set(uids) == set(UIDS) - removed  # nothing lost, nothing doubled
        assert set(issue.excluded) == removed
    assert comments(issue_file.read_text())[:8] == before[:8]  # the head's comments stay


def test_a_manual_item_is_added_checked_and_shown(issue_file: Path, workspace: Path) -> None:
    from click.testing import CliRunner

    from newsletter.cli import cli

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert run("ingest", "--all")[0] == 0
    before = issue_file.read_text()
    event = ("draft", "add-item", "ilo-coop-enews/2020-11", "--type", "Event", "--title",
             "Webinar: cooperatives and the care economy", "--date", "2020-11-25",
             "--end", "2020-11-26", "--place", "Geneva",
             "--link", "https://www.ilo.org/events/care")  # fmt: skip
    code, out, err = run(*event)
    assert code == 0, err
    assert out.startswith("added to More: Webinar: cooperatives and the care economy (")
    removed, added = changes(before, issue_file.read_text())
    assert removed == []
    assert added[-4:] == ["end = 2020-11-26", 'place = "Geneva"', "manual = true", ""]
    assert run("validate", "ilo-coop-enews/2020-11")[0] == 0  # in no pool, and that is fine
    code, _, err = run(*event)
    uid = out.strip()[-17:-1]
    assert code == 1
    assert err.endswith(f"is in the issue already ({uid})\n")
    code, _, err = run(*event[:7], "--date", "2020-11-25", "--end", "2020-11-20")
    assert code == 1
    assert "the item ends (2020-11-20) before it starts (2020-11-25)" in err
    assert run("render", "ilo-coop-enews/2020-11")[0] == 0
    text = (workspace / "build" / "ilo-coop-enews" / "2020-11" / "email.txt").read_text()
    assert "Event · 25 November 2020 – 26 November 2020 · Geneva" in text
    assert run("draft", "refresh", "ilo-coop-enews/2020-11")[0] == 0
    assert "manual = true" in issue_file.read_text()  # refresh leaves the editor's item be


def test_a_new_lead_gets_a_preheader_made_from_it_and_the_editors_own_words_stay(
    issue_file: Path, config: Config
) -> None:
    """A preheader made from the first titles, as drafts of earlier versions wrote it into the
    file: picking another lead empties it, and the email's preview then opens with the new
    lead."""
    from newsletter.issue.preheader import preheader_text
    from newsletter.render import render_issue

    made = ("A two-day symposium is held to celebrate the centennial of the Cooperatives Unit "
            "of the ILO · ILO COOP…")  # fmt: skip
    issue_file.write_text(issue_file.read_text().replace('preheader = ""', f'preheader = "{made}"'))
    assert read_issue(issue_file, config).preheader == made
    set_lead(config, issue_file, "0b26f7")
    issue = read_issue(issue_file, config)
    assert issue.preheader == ""
    assert 'preheader = ""' in issue_file.read_text()
    email = render_issue(issue, config)
    assert email.preheader.startswith("Supporting the cooperative movement in Jordan · ")
    assert email.preheader == preheader_text(issue)
    assert (
        "Supporting the cooperative movement in Jordan" in email.html.split("<table")[0]
        or email.preheader[:40] in email.html
    )

    edit_text = issue_file.read_text().replace('preheader = ""', 'preheader = "Our own words"')
    issue_file.write_text(edit_text)
    set_lead(config, issue_file, "73f6d1")
    assert read_issue(issue_file, config).preheader == "Our own words"
