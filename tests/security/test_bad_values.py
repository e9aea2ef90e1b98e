"""Every bad value the review found: one line naming the file and line, exit status 1, never a
traceback, and nothing written or sent. Each test drives the `newsletter` command."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import COOPERATIVES

Run = Callable[..., Result]

ISSUE = "issues/ilo-coop-enews/2020-11.toml"


def shown(path: Path) -> Path:
    """A path as errors show it: relative to the working folder (the workspace)."""
    return path.resolve().relative_to(Path.cwd())


NAME = "ilo-coop-enews/2020-11"
TITLE = 'title = "ILO COOP eNews - November issue"'
INJECTED = "Monthly =?utf-8?q?news=0D=0AX-Injected:_yes=0D=0AReply-To:_attacker@evil.example?="


@pytest.fixture
def issue(run: Run, workspace: Path) -> Path:
    """The November draft, as `newsletter draft` writes it, with the pool it came from."""
    assert run("ingest", "--all").exit_code == 0
    assert run("draft", "ilo-coop-enews", "--month", "2020-11").exit_code == 0
    return workspace / ISSUE


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in the file; the line the replacement starts on."""
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return text[: text.index(old)].count("\n") + 1


def refusal(result: Result) -> str:
    """The one line a refused command prints: exit 1, nothing else on stderr, no traceback."""
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def validate_finding(run: Run, name: str = NAME, path: str = ISSUE) -> str:
    """`validate`'s one finding, after which it says how many errors it found."""
    result = run("validate", name)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exit_code == 1, result.stdout + result.stderr
    finding, summary = result.stderr.splitlines()
    assert summary == f"Error: 1 error in {path}"
    return finding


def assert_refused_everywhere(run: Run, workspace: Path, line: int, message: str) -> None:
    """`validate` and `check` name the line; `render` and `export` stop there in one line."""
    assert validate_finding(run) == f"{ISSUE}:{line}: error: {message}"
    check = run("check", NAME)
    assert "Traceback" not in check.stdout + check.stderr
    assert check.exit_code == 1
    assert f"error issue: {ISSUE}:{line}: {message}" in check.stdout
    for stage in ("render", "export"):
        assert refusal(run(stage, NAME)) == f"Error: {ISSUE}:{line}: {message}"
    assert not (workspace / "build").exists()


def test_the_fresh_draft_passes_every_stage(run: Run, issue: Path) -> None:
    """The baseline that makes the refusals below mean something."""
    assert issue.is_file()
    assert run("validate", NAME).exit_code == 0
    assert run("check", NAME).exit_code == 0
    assert run("export", NAME).exit_code == 0


# Header values in an issue


def test_an_encoded_word_injecting_headers_in_the_title_is_refused(
    run: Run, issue: Path, workspace: Path
) -> None:
    line = edit(issue, TITLE, f'title = "{INJECTED}"')
    message = "title: looks like an encoded word (=?charset?q?...?=): write the text itself"
    assert_refused_everywhere(run, workspace, line, message)


@pytest.mark.parametrize(
    ("escape", "shown"),
    [
        ("\\r", "U+000D"),
        ("\\n", "U+000A"),
        ("\\u2028", "U+2028 (LINE SEPARATOR)"),
        ("\\u0085", "U+0085"),
        ("\\u0000", "U+0000"),
    ],
)
def test_a_line_break_or_nul_in_the_title_is_refused_at_its_line(
    run: Run, issue: Path, workspace: Path, escape: str, shown: str
) -> None:
    line = edit(issue, TITLE, f'title = "ILO COOP eNews{escape}X-Injected: yes"')
    assert_refused_everywhere(run, workspace, line, f"title: {shown} cannot go into a mail header")


def test_a_header_in_the_language_is_refused(run: Run, issue: Path, workspace: Path) -> None:
    line = edit(issue, 'language = "en"', 'language = "en\\nBcc: x@evil.example"')
    assert_refused_everywhere(run, workspace, line, "language: U+000A cannot go into a mail header")


def test_a_language_babel_does_not_know_is_refused(run: Run, issue: Path, workspace: Path) -> None:
    line = edit(issue, 'language = "en"', 'language = "xx"')
    message = "language: 'xx' is not a language tag Babel knows, such as 'en', 'fr' or 'pt-BR'"
    assert_refused_everywhere(run, workspace, line, message)


def test_a_language_that_is_a_number_is_refused(run: Run, issue: Path, workspace: Path) -> None:
    line = edit(issue, 'language = "en"', "language = 5")
    assert_refused_everywhere(run, workspace, line, "language must be text")


# Other values in an issue


def test_new_must_be_true_or_false(run: Run, issue: Path, workspace: Path) -> None:
    line = edit(issue, "listing_url = ", 'new = "yes"\nlisting_url = ')
    assert_refused_everywhere(run, workspace, line, "lead.new must be true or false, not 'yes'")


def test_a_nul_in_an_item_title_is_named_at_its_line_not_in_the_template(
    run: Run, issue: Path, workspace: Path
) -> None:
    line = edit(issue, 'title = "A two-day', 'title = "A\\u0000two-day')
    message = "lead.title: U+0000 is a control character: remove it"
    assert_refused_everywhere(run, workspace, line, message)


def test_an_intro_may_hold_line_breaks_and_tabs_but_no_nul(run: Run, issue: Path) -> None:
    edit(issue, 'intro = """\n', 'intro = """\nFirst line,\tthen a tab.\r\n\nA paragraph.\n')
    assert run("validate", NAME).exit_code == 0
    line = edit(issue, "First line,", "First\\u0000 line,")
    finding = validate_finding(run)
    assert finding == f"{ISSUE}:{line - 1}: error: intro: U+0000 is a control character: remove it"


# Depth


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_value_nested_5000_deep_is_one_line(run: Run, issue: Path) -> None:
    line = edit(issue, "topics = ", f"deep = {nested(5000)}\ntopics = ")
    message = "invalid TOML: nested too deeply (more than 10 levels)"
    for stage in ("validate", "render", "check"):
        assert refusal(run(stage, NAME)) == f"Error: {ISSUE}:{line}: {message}"


def test_a_value_nested_eleven_deep_is_refused_too(run: Run, issue: Path) -> None:
    line = edit(issue, "topics = ", f"deep = {nested(11)}\ntopics = ")
    assert refusal(run("validate", NAME)) == (
        f"Error: {ISSUE}:{line}: invalid TOML: nested too deeply (more than 10 levels)"
    )


def test_issues_lists_a_file_nested_5000_deep_beside_the_good_ones(run: Run, issue: Path) -> None:
    assert run("draft", "ilo-coop-enews", "--month", "2020-10").exit_code == 0
    (issue.parent / "deep.toml").write_text(f"deep = {nested(5000)}\n", "utf-8")
    result = run("issues", "--format", "json")
    assert result.exit_code == 0
    assert "Traceback" not in result.stderr
    rows = {row["issue"]: row for row in json.loads(result.stdout)}
    assert [rows[name]["status"] for name in sorted(rows)] == ["draft", "draft", "invalid"]
    assert rows["ilo-coop-enews/deep"]["title"] == (
        "line 1: invalid TOML: nested too deeply (more than 10 levels)"
    )
    table = run("issues")
    assert table.exit_code == 0
    assert "ILO COOP eNews - November issue" in table.stdout
    assert table.stdout.rstrip().endswith("3 issues")


def test_a_config_nested_5000_deep_is_one_line(run: Run, workspace: Path) -> None:
    config = workspace / "newsletter.toml"
    line = edit(config, "[database]", f"deep = {nested(5000)}\n[database]")
    assert refusal(run("issues")) == (
        f"Error: {shown(config)}:{line}: invalid TOML: nested too deeply (more than 10 levels)"
    )


def test_a_theme_label_file_nested_5000_deep_is_one_line(
    run: Run, issue: Path, workspace: Path
) -> None:
    assert issue.is_file()
    labels = workspace / "theme" / "labels.toml"
    labels.parent.mkdir()
    labels.write_text(f"\ufeff[en]\ndeep = {nested(5000)}\n", "utf-8")
    config = workspace / "newsletter.toml"
    edit(config, 'date_format = "d MMMM y"', 'templates = "theme"\ndate_format = "d MMMM y"')
    assert refusal(run("render", NAME)) == (
        f"Error: {shown(labels)}:2: invalid TOML: nested too deeply (more than 10 levels)"
    )


# Byte order marks and file names


def test_a_byte_order_mark_is_accepted_and_kept(run: Run, issue: Path, workspace: Path) -> None:
    bom = b"\xef\xbb\xbf"
    issue.write_bytes(bom + issue.read_bytes())
    config = workspace / "newsletter.toml"
    config.write_bytes(bom + config.read_bytes())
    assert run("validate", NAME).exit_code == 0
    assert run("render", NAME).exit_code == 0
    # `draft add` edits the file with tomlkit: the mark stays, and so does every other byte
    (october, *_) = json.loads(run("items", "--month", "2020-10", "--format", "json").stdout)
    before = issue.read_bytes()
    added = run("draft", "add", NAME, str(october["uid"]))
    assert added.exit_code == 0, added.stderr
    after = issue.read_bytes()
    assert after.startswith(bom + before[len(bom) : before.index(b"[lead]")])
    assert run("validate", NAME).exit_code == 0
    published = run("publish", NAME)
    assert published.exit_code == 0, published.stderr
    assert 'status = "published"' in issue.read_text("utf-8-sig")
    assert run("validate", NAME).exit_code == 0


@pytest.mark.parametrize(("name", "suggested"), [("été", "ete"), ("a b", "a-b")])
def test_an_issue_file_name_that_is_no_slug_is_refused(
    run: Run, issue: Path, name: str, suggested: str
) -> None:
    renamed = issue.parent / f"{name}.toml"
    shutil.copy(issue, renamed)
    shown = f"issues/ilo-coop-enews/{name}.toml"
    message = (
        f"the file name '{name}.toml' cannot be an issue's: it goes into message ids and web "
        "addresses, so use lower-case letters, digits, '.', '-' and '_' (rename it, e.g. to "
        f"{suggested}.toml)"
    )
    finding = validate_finding(run, f"ilo-coop-enews/{name}", shown)
    assert finding == f"{shown}: error: {message}"
    for stage in ("render", "export"):
        assert refusal(run(stage, f"ilo-coop-enews/{name}")) == f"Error: {shown}: {message}"
    rows = json.loads(run("issues", "--format", "json").stdout)
    assert [(r["issue"], r["status"]) for r in rows] == [
        ("ilo-coop-enews/2020-11", "draft"),
        (f"ilo-coop-enews/{name}", "invalid"),
    ]


# Dates


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("start = 2020-11-01", "start = 0001-01-01", "period.start: 0001-01-01"),
        ("end = 2020-11-30", "end = 9999-12-31", "period.end: 9999-12-31"),
        ("date = 2020-11-27", "date = 9999-12-31", "lead.date: 9999-12-31"),
    ],
)
def test_a_date_out_of_range_in_an_issue_is_refused(
    run: Run, issue: Path, old: str, new: str, key: str
) -> None:
    line = edit(issue, old, new)
    message = f"{key} is outside the dates newsletter works with (1900-01-01 to 2999-12-31)"
    assert validate_finding(run) == f"{ISSUE}:{line}: error: {message}"
    assert refusal(run("render", NAME)) == f"Error: {ISSUE}:{line}: {message}"
    assert refusal(run("draft", "refresh", NAME)).startswith(f"Error: {ISSUE}:{line}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("items", "--from", "0001-01-01"), "--from: 0001-01-01"),
        (("items", "--to", "9999-12-31"), "--to: 9999-12-31"),
        (("items", "--month", "9999-12"), "--month: 9999-12-01"),
        (("draft", "ilo-coop-enews", "--from", "0001-01-01", "--to", "2020-11-30"),
         "--from: 0001-01-01"),
        (("draft", "ilo-coop-enews", "--from", "2020-11-01", "--to", "9999-12-31"),
         "--to: 9999-12-31"),
    ],
)  # fmt: skip
def test_a_date_option_out_of_range_is_one_line(
    run: Run, workspace: Path, args: tuple[str, ...], message: str
) -> None:
    assert run("ingest", "--all").exit_code == 0
    assert refusal(run(*args)) == (
        f"Error: {message} is outside the dates newsletter works with (1900-01-01 to 2999-12-31)"
    )
    assert not (workspace / "issues").exists()


def test_dates_out_of_range_at_ingest_leave_out_their_entries_only(
    run: Run, listings: Path
) -> None:
    listing = listings / COOPERATIVES
    text = listing.read_text("utf-8")
    listing.write_text(
        text.replace("27 November 2020", "1 January 0001").replace(
            "19 November 2020", "31 December 9999"
        ),
        "utf-8",
    )
    result = run("ingest", str(listing))
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exit_code == 0, result.stderr
    lines = [
        n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(("1. ", "2. "))
    ]
    notices = result.stderr.splitlines()
    assert len(notices) == 2
    for notice, line, day in zip(notices, lines, ("0001-01-01", "9999-12-31"), strict=True):
        assert notice.startswith(f"warning: {listing}:{line}: entry ")
        assert notice.endswith(
            f"{day} is outside the dates newsletter works with (1900-01-01 to 2999-12-31); skipped"
        )
    assert "10 entries: 8 new" in result.stdout
    stored = json.loads(run("items", "--format", "json").stdout)
    assert len(stored) == 8
    assert all("1900" < item["date"] < "3000" for item in stored)


def test_dates_out_of_range_in_a_spreadsheet_leave_out_their_rows_only(
    run: Run, workspace: Path
) -> None:
    sheet = workspace / "partners.csv"
    sheet.write_text("title,date\nKept,2020-11-02\nAncient,0001-01-01\nFuture,9999-12-31\n")
    result = run("ingest", str(sheet))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"warning: {sheet}:{line}: row {row} ({title!r}): {day} is outside the dates newsletter "
        "works with (1900-01-01 to 2999-12-31); skipped"
        for line, row, title, day in (
            (3, 2, "Ancient", "0001-01-01"),
            (4, 3, "Future", "9999-12-31"),
        )
    ]
    assert [item["title"] for item in json.loads(run("items", "--format", "json").stdout)] == [
        "Kept"
    ]


# The config's header values


def config_refusal(run: Run, workspace: Path, old: str, new: str, message: str) -> None:
    config = workspace / "newsletter.toml"
    line = edit(config, old, new)
    assert refusal(run("issues")) == f"Error: {shown(config)}:{line}: {message}"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (
            "ILO =?utf-8?q?x=0D=0ABcc:_a@evil.example?=",
            "looks like an encoded word (=?charset?q?...?=): write the text itself",
        ),
        ("ILO\\u2029eNews", "U+2029 (PARAGRAPH SEPARATOR) cannot go into a mail header"),
        ("", "expected a non-empty string"),
    ],
)
def test_a_newsletter_name_that_cannot_go_into_list_id_is_refused(
    run: Run, workspace: Path, name: str, problem: str
) -> None:
    config_refusal(
        run,
        workspace,
        'name = "ILO COOP eNews"',
        f'name = "{name}"',
        f"newsletters.ilo-coop-enews.name: {problem}",
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "https://newsletters.example.org/u>,<https://evil.example/",
            "not a link that can stand in <...>: no spaces, quotes, commas or angle brackets",
        ),
        (
            "https://newsletters.example.org/désabonner",
            "a link in a header must be ASCII: percent-encode other characters (%C3%A9)",
        ),
    ],
)
def test_an_unsubscribe_url_that_cannot_stand_in_a_header_is_refused(
    run: Run, workspace: Path, url: str, problem: str
) -> None:
    config_refusal(
        run,
        workspace,
        'unsubscribe_url = "https://newsletters.example.org/ilo-coop-enews/unsubscribe"',
        f'unsubscribe_url = "{url}"',
        f"newsletters.ilo-coop-enews.unsubscribe_url: {problem}",
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'from = "ILO COOP eNews <',
            'from = "ILO =?utf-8?b?QQ==?= <',
            "newsletters.ilo-coop-enews.sender.from: looks like an encoded word "
            "(=?charset?q?...?=): write the text itself",
        ),
        (
            'reply_to = "coop@ilo.org"',
            'reply_to = "coop@ilo.org\\r\\nBcc: x@evil.example"',
            "newsletters.ilo-coop-enews.sender.reply_to: an address may not span lines",
        ),
        (
            'reply_to = "coop@ilo.org"',
            'reply_to = "coop@ilo.org\\u2028Bcc: x@evil.example"',
            "newsletters.ilo-coop-enews.sender.reply_to: U+2028 (LINE SEPARATOR) cannot go into "
            "a mail header",
        ),
        (
            'reply_to = "coop@ilo.org"',
            'reply_to = "A <a@ilo.org>, B <b@evil.example>"',
            "newsletters.ilo-coop-enews.sender.reply_to: expected one address such as "
            "'Name <name@example.org>', got 'A <a@ilo.org>, B <b@evil.example>'",
        ),
        (
            'unsubscribe_mailto = "unsubscribe-coop-enews@newsletters.example.org"',
            'unsubscribe_mailto = "unsubscribe@localhost"',
            "newsletters.ilo-coop-enews.sender.unsubscribe_mailto: expected an address such as "
            "'Name <name@example.org>', got 'unsubscribe@localhost': The part after the @-sign "
            "is not valid. It should have a period.",
        ),
        (
            'list_id = "coop-enews.newsletters.example.org"',
            'list_id = "coop-enews.example.org> <x"',
            "newsletters.ilo-coop-enews.sender.list_id: not a dotted name such as "
            "'enews.example.org'",
        ),
        (
            'title_pattern = "{name} - {month} issue"',
            'title_pattern = "{name}\\nBcc: x@evil.example"',
            "newsletters.ilo-coop-enews.title_pattern: the titles it makes: U+000A cannot go "
            "into a mail header",
        ),
    ],
)
def test_sender_values_that_cannot_go_into_a_header_are_refused(
    run: Run, workspace: Path, old: str, new: str, message: str
) -> None:
    config_refusal(run, workspace, old, new, message)


def test_a_sender_name_with_accents_or_a_comma_is_accepted(run: Run, workspace: Path) -> None:
    config = workspace / "newsletter.toml"
    edit(config, 'from = "ILO COOP eNews <', 'from = "\\"OIT, Genève\\" <')
    assert run("issues").exit_code == 0
