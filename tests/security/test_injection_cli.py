"""An issue whose title would inject a header is refused in one line by every command that
writes or sends a message, and nothing reaches the server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.export.conftest import MailServer, write_subscribers

Run = Callable[..., Result]
ISSUE = "ilo-coop-enews/2020-11"
TITLES = [
    "Monthly =?utf-8?q?news=0D=0AX-Injected:_yes=0D=0AReply-To:_attacker@evil.example?=",
    "Monthly\\r\\nX-Injected: yes",
    "Monthly\\u2028X-Injected: yes",
    "Monthly\\u0085X-Injected: yes",
]


def retitle(workspace: Path, title: str) -> None:
    path = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    text = path.read_text("utf-8")
    old = next(line for line in text.splitlines() if line.startswith("title = "))
    path.write_text(text.replace(old, f'title = "{title}"', 1), "utf-8")


@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize(
    "command",
    [
        ("export", ISSUE, "--format", "eml"),
        ("send", ISSUE, "--to", "editor@example.org"),
        ("send", ISSUE, "--list", "subscribers.csv", "--rate", "0"),
    ],
)
def test_an_injecting_title_is_refused_in_one_line(
    run: Run,
    sending_workspace: Path,
    mail_server: MailServer,
    title: str,
    command: tuple[str, ...],
) -> None:
    write_subscribers(sending_workspace / "subscribers.csv", 3)
    retitle(sending_workspace, title)
    result = run(*command)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    assert "title" in line.lower() or "subject" in line.lower()
    assert mail_server.messages == []
    assert not (sending_workspace / "build" / "ilo-coop-enews" / "2020-11" / "email.eml").exists()
