"""The `newsletter` command as an editor uses it: output, exit statuses, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import COOPERATIVES, ROOT

Run = Callable[..., Result]


@pytest.fixture
def ingested(run: Run) -> Run:
    assert run("ingest", "--all").exit_code == 0
    return run


def items_json(run: Run, *args: str) -> list[dict[str, object]]:
    result = run("items", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_ingest_all_reports_new_updated_and_duplicates(run: Run) -> None:
    result = run("ingest", "--all")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "examples/ilo/listings/ilo-cooperatives-news-2020-11.txt (ilo-cooperatives, listing): "
        "10 entries: 10 new, 0 updated, 0 unchanged, 0 duplicates",
        "examples/ilo/listings/ilo-whats-new-2020-11.txt (ilo-whats-new, listing): "
        "10 entries: 5 new, 0 updated, 4 unchanged, 1 duplicate",
    ]
    again = run("ingest", "--all")
    assert "0 new, 0 updated, 10 unchanged" in again.stdout
    assert "0 new, 0 updated, 9 unchanged, 1 duplicate" in again.stdout


def test_items_of_a_month_and_topic(ingested: Run) -> None:
    november = items_json(ingested, "--month", "2020-11", "--topic", "cooperatives")
    october = items_json(ingested, "--month", "2020-10", "--topic", "cooperatives")
    assert len(november) == 8
    assert len(october) == 3
    colombia = next(i for i in october if "Colombia" in str(i["title"]))
    assert colombia["sources"] == ["ilo-whats-new"]  # found by keyword, not by its source
    assert set(november[0]) == {
        "uid", "date", "type", "title", "summary", "url", "language", "image", "topics",
        "sources", "first_seen", "updated",
    }  # fmt: skip


def test_items_from_to_type_and_search(ingested: Run) -> None:
    briefs = items_json(ingested, "--from", "2020-10-27", "--to", "2020-11-02", "--type", "Brief")
    assert [i["title"] for i in briefs] == ["Formally Challenged", "Getting Beyond Tier 1"]
    assert len(items_json(ingested, "--search", "SCORE")) == 2


def test_items_table_and_csv(ingested: Run) -> None:
    table = ingested("items", "--month", "2020-10", "--topic", "cooperatives")
    assert table.exit_code == 0
    assert "ILO COOP eNews - October issue" in table.stdout
    assert table.stdout.rstrip().endswith("3 items")
    csv = ingested("items", "--month", "2020-10", "--format", "csv")
    lines = csv.stdout.splitlines()
    assert lines[0] == (
        "uid,date,type,title,summary,url,language,image,topics,sources,first_seen,updated"
    )
    assert len(lines) == 1 + 4


def test_topics(ingested: Run) -> None:
    result = ingested("topics", "--format", "json")
    counts = {t["slug"]: t["items"] for t in json.loads(result.stdout)}
    assert counts["cooperatives"] == 11
    table = ingested("topics")
    assert "Supply chains" in table.stdout


def test_tag_untag_retag(ingested: Run) -> None:
    (tier,) = items_json(ingested, "--search", "Tier 1")
    uid = str(tier["uid"])
    tagged = ingested("tag", uid[:8], "cooperatives")
    assert tagged.exit_code == 0
    assert tagged.stdout.splitlines()[-1] == "topics: cooperatives, supply-chains"
    untagged = ingested("untag", uid, "supply-chains")
    assert untagged.stdout.splitlines()[-1] == "topics: cooperatives"
    retagged = ingested("retag")
    assert retagged.stdout.startswith("retagged 15 items: 0 topic links added, 0 removed")


def test_db_upgrade(run: Run) -> None:
    from newsletter.pool.database import head_revision

    head = head_revision()
    first = run("db", "upgrade")
    assert first.exit_code == 0
    assert f"schema upgraded from empty to revision {head}" in first.stdout
    assert f"schema already at revision {head}" in run("db", "upgrade").stdout


def test_a_bad_listing_is_one_line_and_exit_1(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Heading\n\n1. News\n\nTitle\n\n31 February 2020\n", "utf-8")
    result = run("ingest", str(bad))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {bad}:7: no complete entry (each needs a type, a title and a date); "
        "entry 1 ('Title'): impossible date '31 February 2020': day is out of range for month "
        "(nothing stored)\n"
    )
    assert result.stdout == ""
    assert items_json(run) == []


def test_one_bad_file_among_several(run: Run, tmp_path: Path, listings: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01\x02")
    result = run("ingest", str(listings / COOPERATIVES), str(bad))
    assert result.exit_code == 1
    assert f"error: {bad}:1: binary data" in result.stderr
    assert "Error: 1 of 2 sources failed; the others were stored" in result.stderr
    assert len(items_json(run)) == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("items", "--topic", "fishing"), "unknown topic 'fishing'"),
        (("ingest", "nope.txt"), "nope.txt: cannot read"),
        (("tag", "0000000000", "cooperatives"), "no item with uid '0000000000'"),
        (("ingest", "x.txt", "--source", "nope"), "unknown source 'nope'"),
        (("ingest", "x.txt", "--lang", "en-x-" + "long" * 10), "expected a language code"),
        (
            ("ingest", "examples/ilo/listings/ilo-whats-new-2020-11.txt", "--topic", "fish"),
            "unknown topic 'fish'",
        ),
    ],
)
def test_user_errors_exit_1_with_one_line(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("items", "--month", "November"),
        ("items", "--month", "2020-11", "--from", "2020-11-01"),
        ("items", "--from", "2020-11-30", "--to", "2020-11-01"),
        ("items", "--format", "xml"),
        ("ingest",),
        ("ingest", "--all", "--source", "ilo-whats-new"),
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2(run: Run, args: tuple[str, ...]) -> None:
    assert run(*args).exit_code == 2


def test_no_config_anywhere(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    result = run("items")
    assert result.exit_code == 1
    assert "no newsletter.toml in" in result.stderr


def test_invalid_config_names_file_line_and_key(run: Run, workspace: Path) -> None:
    toml = workspace / "newsletter.toml"
    toml.write_text(toml.read_text().replace('format = "listing"', 'format = "rss"', 1), "utf-8")
    result = run("items")
    assert result.exit_code == 1
    line = next(n for n, t in enumerate(toml.read_text().splitlines(), 1) if t == 'format = "rss"')
    assert result.stderr.startswith(
        f"Error: newsletter.toml:{line}: sources.ilo-cooperatives.format: unknown format 'rss'"
    )


def test_config_option_and_environment(
    run: Run, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert run("--config", str(workspace / "newsletter.toml"), "topics").exit_code == 0
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(workspace / "newsletter.toml"))
    assert run("topics").exit_code == 0


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from newsletter.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "heavy = ['sqlalchemy', 'alembic', 'rich', 'babel', 'premailer', 'mjml', 'jinja2']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert loaded.stdout.strip() == ""


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "newsletter, version 0.1.0"


def test_warnings_go_to_stderr_and_the_rest_is_stored(run: Run, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.txt"
    text = "Heading\n\n1. News\n\nKept\n\n09 November 2020\n\n2. News\n\nCut\n"
    truncated.write_text(text, "utf-8")
    result = run("ingest", str(truncated))
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        f"warning: {truncated}:9: entry 2 ('Cut'): cut short by the end of the page: it has "
        "no date; skipped"
    )
    assert "2 entries: 1 new, 0 updated, 0 unchanged, 0 duplicates, 1 skipped (see the " in (
        result.stdout
    )
    strict = run("ingest", str(truncated), "--strict")
    assert strict.exit_code == 1
    assert f"{truncated}:9: entry 2 ('Cut'): cut short" in strict.stderr
    assert [item["title"] for item in items_json(run)] == ["Kept"]


def test_a_file_named_like_another_source_is_refused(run: Run, tmp_path: Path) -> None:
    other = tmp_path / "ilo-cooperatives.txt"
    other.write_text("Heading\n\n1. News\n\nUnrelated\n\n09 November 2020\n", "utf-8")
    result = run("ingest", str(other))
    assert result.exit_code == 1
    assert "is not the file of source 'ilo-cooperatives' but has its name" in result.stderr


def test_database_and_file_failures_are_one_line(
    run: Run, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{workspace / 'newsletter.toml'}")
    broken = run("items")
    assert broken.exit_code == 1
    assert broken.stderr == "Error: database error: file is not a database\n"
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL")
    (workspace / "issues").write_text("not a folder")
    run("ingest", "--all")
    blocked = run("draft", "ilo-coop-enews", "--month", "2020-11")
    assert blocked.exit_code == 1
    assert blocked.stderr.strip().endswith("issues/ilo-coop-enews: Not a directory")
    assert "Traceback" not in blocked.stderr
