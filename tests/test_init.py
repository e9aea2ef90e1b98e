"""`newsletter init`: a workspace that works at once, never written over an existing one."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import load_config


def run(folder: Path, *args: str) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("NEWSLETTER_DATABASE_URL", raising=False)
        patch.delenv("NEWSLETTER_CONFIG", raising=False)
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def last_month() -> str:
    return (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def test_init_writes_a_workspace_whose_next_commands_work(tmp_path: Path) -> None:
    result = run(tmp_path, "init", "news", "--name", "Coop Weekly")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "news"
    assert result.stdout.splitlines()[:3] == [
        "wrote news/newsletter.toml",
        "wrote news/sources/example-listing.txt",
        "wrote news/issues/",
    ]
    month = last_month()
    assert result.stdout.endswith(
        "Next:\n  cd news\n  newsletter ingest --all\n"
        f"  newsletter draft coop-weekly --month {month}\n"
        f"  newsletter preview coop-weekly/{month}\n"
    )
    config = load_config(folder / "newsletter.toml")
    assert config.newsletters["coop-weekly"].name == "Coop Weekly"
    assert "# logo_url" in (folder / "newsletter.toml").read_text()  # commented, to be filled
    ingested = run(folder, "ingest", "--all")
    assert "4 entries: 4 new" in ingested.stdout, ingested.stderr
    drafted = run(folder, "draft", "coop-weekly", "--month", month)
    assert drafted.exit_code == 0, drafted.stderr
    assert "4 items" in drafted.stdout
    rendered = run(folder, "render", f"coop-weekly/{month}")
    assert rendered.exit_code == 0, rendered.stderr
    text = (folder / "build" / "coop-weekly" / month / "email.txt").read_text()
    assert "Members vote for a new board at the annual meeting" in text


def test_init_never_writes_over_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "newsletter.toml").write_text("# mine\n")
    result = run(tmp_path, "init")
    assert result.exit_code == 1
    assert result.stderr == "Error: newsletter.toml: a workspace already: nothing written\n"
    assert (tmp_path / "newsletter.toml").read_text() == "# mine\n"
    assert not (tmp_path / "sources").exists()


def test_init_with_the_theme_copies_it_and_uses_the_copy(tmp_path: Path) -> None:
    assert run(tmp_path, "init", "--theme").exit_code == 0
    theme = tmp_path / "theme"
    assert (theme / "email.mjml.j2").is_file()
    assert 'templates = "theme"' in (tmp_path / "newsletter.toml").read_text()
    text_template = theme / "email.txt.j2"
    text_template.write_text(text_template.read_text() + "\nPrinted by our own theme.\n")
    month = last_month()
    run(tmp_path, "ingest", "--all")
    run(tmp_path, "draft", "our-newsletter", "--month", month)
    assert run(tmp_path, "render", f"our-newsletter/{month}").exit_code == 0
    text = (tmp_path / "build" / "our-newsletter" / month / "email.txt").read_text()
    assert "Printed by our own theme." in text


@pytest.mark.parametrize("name", ["Weekly\nBcc: x@evil.example", 'Say "hi"', "x" * 201])
def test_a_name_that_cannot_be_a_header_is_refused(tmp_path: Path, name: str) -> None:
    result = run(tmp_path, "init", "--name", name)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --name: ")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
