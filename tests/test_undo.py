"""Undo: the issue writer keeps each version before an edit under .newsletter/history/, and
`draft undo` (or the studio's button) puts them back one by one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.config import Config, load_config
from newsletter.draft import edit_item, set_lead
from newsletter.errors import NewsletterError
from newsletter.issue.writing import (
    KEPT_VERSIONS,
    ChangedMeanwhile,
    file_digest,
    history_folder,
    undo_edit,
)

UID = "5ced066eaca1a976"


@pytest.fixture
def config(workspace: Path) -> Config:
    return load_config(workspace / "newsletter.toml")


def test_each_undo_goes_one_edit_back_to_the_very_bytes(issue_file: Path, config: Config) -> None:
    original = issue_file.read_bytes()
    edit_item(config, issue_file, UID, "title", "First change")
    after_first = issue_file.read_bytes()
    set_lead(config, issue_file, UID)
    assert undo_edit(issue_file, config).lead is not None
    assert issue_file.read_bytes() == after_first
    undo_edit(issue_file, config)
    assert issue_file.read_bytes() == original
    with pytest.raises(NewsletterError, match="no edit to undo"):
        undo_edit(issue_file, config)
    assert history_folder(issue_file, config).is_relative_to(config.root / ".newsletter")


def test_an_undo_made_on_an_older_file_changes_nothing(issue_file: Path, config: Config) -> None:
    edit_item(config, issue_file, UID, "title", "First change")
    seen = file_digest(issue_file)
    edit_item(config, issue_file, UID, "title", "Second change, from elsewhere")
    before = issue_file.read_bytes()
    with pytest.raises(ChangedMeanwhile):
        undo_edit(issue_file, config, made_on=seen)
    assert issue_file.read_bytes() == before
    undo_edit(issue_file, config, made_on=file_digest(issue_file))
    assert b"First change" in issue_file.read_bytes()


def test_the_history_keeps_the_latest_versions_only(issue_file: Path, config: Config) -> None:
    for n in range(KEPT_VERSIONS + 5):
        edit_item(config, issue_file, UID, "title", f"Title {n}")
    kept = sorted(history_folder(issue_file, config).glob("*.toml"))
    assert len(kept) == KEPT_VERSIONS
    assert b"Title 53" in kept[-1].read_bytes()


def test_draft_undo_from_the_command_line(issue_file: Path, run: Callable[..., Result]) -> None:
    original = issue_file.read_bytes()
    assert run("draft", "edit", "ilo-coop-enews/2020-11", UID, "title", "Changed").exit_code == 0
    result = run("draft", "undo", "ilo-coop-enews/2020-11")
    assert result.exit_code == 0
    assert "undid the last edit of ilo-coop-enews/2020-11" in result.stdout
    assert issue_file.read_bytes() == original
    again = run("draft", "undo", "ilo-coop-enews/2020-11")
    assert again.exit_code == 1
    assert again.output.count("\n") == 1
    assert "no edit to undo" in again.output
