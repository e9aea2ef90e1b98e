"""The front door the CLI and the studio share: parts opened on first use, closed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.errors import NewsletterError
from newsletter.workspace import Workspace


def test_the_config_is_read_without_touching_the_database(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql+psycopg://nobody@/x?host=/nowhere")
    with Workspace(workspace / "newsletter.toml") as opened:
        assert "ilo-coop-enews" in opened.config.newsletters
        assert opened.root == workspace
        with pytest.raises(NewsletterError, match="cannot open the database"):
            _ = opened.pool


def test_the_pool_opens_once_and_closes(workspace: Path) -> None:
    opened = Workspace(workspace / "newsletter.toml")
    pool = opened.pool
    assert opened.pool is pool
    assert pool.count_items() == 0
    opened.close()
    opened.close()  # twice is fine
    assert opened.pool is not pool  # opened again on the next use
    opened.close()


def test_issues_are_found_by_name(workspace: Path) -> None:
    issue = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    issue.parent.mkdir(parents=True)
    issue.write_text("")
    with Workspace(workspace / "newsletter.toml") as opened:
        assert opened.issue_path("ilo-coop-enews/2020-11") == issue
        with pytest.raises(NewsletterError):
            opened.issue_path("ilo-coop-enews/1999-01")
