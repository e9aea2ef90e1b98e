"""The preview server: the page, the email, its text part, and reloading on changes."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.render.preview import serve_preview
from tests.conftest import ROOT


@pytest.fixture
def served(workspace: Path) -> Iterator[tuple[str, Path]]:
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    issue = folder / "2020-10.toml"
    issue.write_text((ROOT / "issues" / "ilo-coop-enews" / "2020-10.toml").read_text())
    ready = threading.Event()
    servers: list[Any] = []

    def on_ready(server: Any) -> None:
        servers.append(server)
        ready.set()

    thread = threading.Thread(
        target=serve_preview,
        args=(issue, workspace / "newsletter.toml", 0),
        kwargs={"on_ready": on_ready},
        daemon=True,
    )
    thread.start()
    assert ready.wait(10)
    host, port = servers[0].server_address
    assert host == "127.0.0.1"
    yield f"http://127.0.0.1:{port}/", issue
    servers[0].shutdown()
    thread.join(5)


def get(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


def state(base: str) -> dict[str, Any]:
    return json.loads(get(base + "state")[1])  # type: ignore[no-any-return]


def test_the_page_shows_both_widths_and_the_text_part(served: tuple[str, Path]) -> None:
    base, _ = served
    kind, page = get(base)
    assert kind == "text/html; charset=utf-8"
    assert 'width="800"' in page
    assert 'width="375"' in page
    assert "ILO COOP eNews - October issue" in page
    assert "ILO COOP 100 Interview with Colombia" in get(base + "email.html")[1]
    kind, text = get(base + "email.txt")
    assert kind.startswith("text/plain")
    assert text.startswith("ILO COOP eNews - October issue\n")


def wait_for(base: str, version: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = state(base)
        if current["version"] > version:
            return current
        time.sleep(0.1)
    raise AssertionError("the preview did not notice the change")


def test_an_edit_of_the_issue_file_re_renders(served: tuple[str, Path]) -> None:
    base, issue = served
    before = state(base)
    assert before["error"] is None
    time.sleep(0.05)  # a different modification time
    issue.write_text(issue.read_text().replace("October issue", "October special issue"))
    after = wait_for(base, before["version"])
    assert after["subject"] == "ILO COOP eNews - October special issue"
    assert "October special issue" in get(base + "email.html")[1]


def test_a_broken_edit_shows_the_error_and_keeps_the_last_email(
    served: tuple[str, Path],
) -> None:
    base, issue = served
    before = state(base)
    issue.write_text(issue.read_text().replace('status = "draft"', "status = draft"))
    after = wait_for(base, before["version"])
    assert after["error"].startswith(f"{issue}:")
    assert "invalid TOML" in after["error"]
    assert "ILO COOP 100 Interview" in get(base + "email.html")[1]
