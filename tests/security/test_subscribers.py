"""Subscriber lists read by the csv module as a whole: a line separator inside a name makes no
extra recipient, rows keep their true line numbers, the dialect comes from the rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from newsletter.export.subscribers import read_subscribers
from tests.export.conftest import MailServer

Run = Callable[..., Result]
ISSUE = "ilo-coop-enews/2020-11"


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8", newline="")
    return path


def test_a_line_separator_in_a_name_makes_no_second_recipient(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "email,name\r\n"
                 "alice@example.com,Alice\u2028extra@attacker.example\r\n"
                 "bob@example.com,Bob\u0085carol@attacker.example\r\n"
                 "dave@example.com,Dave\u2029\r\n"
                 "erin@example.com,Erin\r\n")  # fmt: skip
    found, problems = read_subscribers(path)
    assert [s.address for s in found] == ["erin@example.com"]
    assert [(p.line, p.code) for p in problems] == [(2, "skipped"), (3, "skipped"), (4, "skipped")]
    assert "U+2028 (LINE SEPARATOR) cannot go into a mail header" in problems[0].message
    assert all("attacker" not in s.address for s in found)


def test_rows_keep_their_true_line_numbers_after_a_quoted_multi_line_name(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "s.csv", 'email,name\n"a@example.org","One\nTwo\nThree"\n'
                 "not-an-address,X\n")  # fmt: skip
    _, problems = read_subscribers(path)
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (2, "the name"),
        (5, "invalid address"),
    ]


def test_the_dialect_is_sniffed_from_the_rows_not_only_the_header(tmp_path: Path) -> None:
    rows = "".join(f"reader{n}@example.org;Reader {n}\n" for n in range(5))
    found, problems = read_subscribers(write(tmp_path / "s.csv", "email\n" + rows))
    assert problems == []
    assert [s.address for s in found] == [f"reader{n}@example.org" for n in range(5)]


def test_a_send_with_an_injected_row_reaches_only_the_real_subscribers(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    write(sending_workspace / "subscribers.csv",
          "email,name\nalice@example.com,Alice\u2028extra@attacker.example\n"
          "bob@example.com,Bob\n")  # fmt: skip
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert "subscribers.csv:2: the name: U+2028" in result.stderr
    assert [m.recipient for m in mail_server.messages] == ["bob@example.com"]
