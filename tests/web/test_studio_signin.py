"""Beyond this machine: users (scrypt hashes in the database), signed sessions, a sign-in page
that makes a guesser wait, every other page behind it, and a reviewer who cannot change."""

from __future__ import annotations

import re
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from starlette.testclient import TestClient

from newsletter.passwords import hash_password, password_matches
from newsletter.web.sessions import (
    KEY_FILE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    session_key,
    session_user,
    signed_session,
)
from newsletter.web.studio import make_app
from newsletter.workspace import Workspace
from tests.conftest import ROOT
from tests.web.conftest import served_studio
from tests.web.test_studio_browser import AXE

ISSUE = "/issues/ilo-coop-enews/2020-11"
PASSWORD = "correct horse battery"


@pytest.fixture
def studio(workspace: Path, run: Callable[..., Result]) -> Iterator[TestClient]:
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", folder)
    for name, role in (("ana", "editor"), ("rui", "reviewer")):
        added = run("users", "add", name, "--role", role, input=f"{PASSWORD}\n{PASSWORD}\n")
        assert added.exit_code == 0, added.output
    opened = Workspace(workspace / "newsletter.toml")
    with (
        opened,
        TestClient(make_app(opened, sign_in=True), base_url="https://studio.example") as client,
    ):
        yield client


def token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found[1]


def sign_in(
    client: TestClient, name: str, password: str = PASSWORD, following: str = "/"
) -> Result:
    page = client.get("/login", params={"next": following}).text
    return client.post("/login", data={"csrf": token(page), "name": name, "password": password,
                                       "next": following}, follow_redirects=False)  # fmt: skip


def test_every_page_but_sign_in_needs_a_session(studio: TestClient) -> None:
    for path in ("/", "/pool", ISSUE, f"{ISSUE}/email.html", f"{ISSUE}/export/eml"):
        answer = studio.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")
    assert studio.get("/login").status_code == 200
    assert studio.get("/static/studio.css").status_code == 200
    assert studio.post(f"{ISSUE}/undo", data={}).status_code == 403


def test_an_editor_signs_in_and_out(studio: TestClient) -> None:
    answer = sign_in(studio, "ana", following=ISSUE)
    assert answer.status_code == 303
    assert answer.headers["location"] == ISSUE
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Secure" in cookie  # served as https
    page = studio.get(ISSUE)
    assert page.status_code == 200
    assert "ana (editor)" in page.text
    out = studio.post("/logout", data={"csrf": token(page.text)}, follow_redirects=False)
    assert out.headers["location"] == "/login"
    assert studio.get("/", follow_redirects=False).status_code == 303


def test_a_wrong_password_then_too_many_make_the_guesser_wait(studio: TestClient) -> None:
    for _ in range(5):
        assert sign_in(studio, "ana", "wrong password!").status_code == 403
    assert sign_in(studio, "nobody", "whatever").status_code == 429
    assert sign_in(studio, "ana").status_code == 429  # even the right one, for a while
    assert studio.get("/", follow_redirects=False).status_code == 303


def test_a_reviewer_reads_and_cannot_change(studio: TestClient, workspace: Path) -> None:
    assert sign_in(studio, "rui").status_code == 303
    path = workspace / "issues" / "ilo-coop-enews" / "2020-11.toml"
    before = path.read_bytes()
    page = studio.get(ISSUE)
    assert page.status_code == 200
    assert "rui (reviewer)" in page.text
    assert studio.get(f"{ISSUE}/email.html").status_code == 200
    made_on = re.search(r'name="made_on" value="([0-9a-f]+)"', page.text)
    assert made_on is not None
    refused = studio.post(f"{ISSUE}/undo", data={"csrf": token(page.text), "made_on": made_on[1]})
    assert refused.status_code == 403
    assert "a reviewer reads" in refused.text
    assert path.read_bytes() == before


def test_a_session_ends_with_its_user_its_time_or_a_forged_signature(
    studio: TestClient, run: Callable[..., Result], workspace: Path
) -> None:
    assert sign_in(studio, "ana").status_code == 303
    assert studio.get("/").status_code == 200
    forged = studio.cookies.get(SESSION_COOKIE)
    assert forged is not None
    studio.cookies.set(SESSION_COOKIE, forged[:-1] + ("0" if forged[-1] != "0" else "1"))
    assert studio.get("/", follow_redirects=False).status_code == 303
    studio.cookies.set(SESSION_COOKIE, forged)
    assert run("users", "remove", "ana").exit_code == 0
    assert studio.get("/", follow_redirects=False).status_code == 303
    key = session_key(workspace)
    assert stat.S_IMODE((workspace / KEY_FILE).stat().st_mode) == 0o600
    old = signed_session(key, "rui", now=1_000_000.0)
    assert session_user(key, old, now=1_000_000.0 + SESSION_SECONDS - 1) == "rui"
    assert session_user(key, old, now=1_000_000.0 + SESSION_SECONDS + 1) is None


def test_after_sign_in_the_studio_goes_to_its_own_pages_only(studio: TestClient) -> None:
    assert sign_in(studio, "ana", following="//evil.example/").headers["location"] == "/"


def test_users_from_the_command_line(run: Callable[..., Result]) -> None:
    short = run("users", "add", "eve", input="short\nshort\n")
    assert short.exit_code == 1
    assert "10 characters at least" in short.output
    assert run("users", "add", "eve", "--role", "reviewer",
               input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0  # fmt: skip
    assert run("users", "add", "eve", input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 1
    assert run("users", "list").stdout == "eve\treviewer\n"
    assert run("users", "remove", "eve").exit_code == 0
    assert run("users", "remove", "eve").exit_code == 1


def test_beyond_this_machine_the_studio_needs_users(run: Callable[..., Result]) -> None:
    result = run("studio", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "needs users to sign in, and has none" in result.output


def test_password_hashes_are_salted_scrypt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert first.startswith("scrypt$16384$8$1$")
    assert password_matches(PASSWORD, first)
    assert not password_matches(PASSWORD + "!", first)
    assert not password_matches(PASSWORD, "plain")
    assert not password_matches(PASSWORD, "scrypt$x$y$z$$")


def require_approval(workspace: Path) -> None:
    toml = workspace / "newsletter.toml"
    text = toml.read_text()
    toml.write_text(text.replace("[newsletters.ilo-coop-enews]\n",
                                 "[newsletters.ilo-coop-enews]\napproval = true\n", 1))  # fmt: skip


def test_a_newsletter_that_asks_for_approval_publishes_only_the_approved_version(
    workspace: Path, run: Callable[..., Result]
) -> None:
    require_approval(workspace)
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", folder)
    for name, role in (("ana", "editor"), ("rui", "reviewer")):
        assert run("users", "add", name, "--role", role,
                   input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0  # fmt: skip
    refused = run("publish", "ilo-coop-enews/2020-11")
    assert refused.exit_code == 1
    assert "publishes only approved issues" in refused.output
    opened = Workspace(workspace / "newsletter.toml")
    with opened, TestClient(make_app(opened, sign_in=True), base_url="https://s.example") as client:
        assert sign_in(client, "rui").status_code == 303
        page = client.get(ISSUE).text
        assert "publishes only an approved version" in page
        made_on = re.search(r'name="made_on" value="([0-9a-f]+)"', page)
        assert made_on is not None
        approved = client.post(f"{ISSUE}/approve", data={"csrf": token(page),
                                                         "made_on": made_on[1]})  # fmt: skip
        assert approved.status_code == 200
        assert "Approved by rui, as it is now." in approved.text
    edited = run("draft", "edit", "ilo-coop-enews/2020-11", "5ced066eaca1a976", "title", "New")
    assert edited.exit_code == 0
    assert run("publish", "ilo-coop-enews/2020-11").exit_code == 1  # the edit undid it
    assert run("draft", "undo", "ilo-coop-enews/2020-11").exit_code == 0  # the approved bytes
    published = run("publish", "ilo-coop-enews/2020-11")
    assert published.exit_code == 0, published.output
    assert run("publish", "ilo-coop-enews/2020-11").exit_code == 0  # again: a no-op


def test_signing_in_in_chromium_with_the_keyboard_and_axe_on_the_page(
    browser: Any, workspace: Path, run: Callable[..., Result], artifacts: Path
) -> None:
    assert run("users", "add", "ana", input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0
    with served_studio(workspace, sign_in=True) as address:
        context = browser.new_context(viewport={"width": 1000, "height": 700}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{address}/pool")
        assert page.url.startswith(f"{address}/login?next=")
        page.add_script_tag(content=AXE.read_text())
        found = page.evaluate("axe.run().then(r => r.violations)")
        assert [(v["id"], v["impact"]) for v in found
                if v["impact"] in ("serious", "critical")] == []  # fmt: skip
        page.screenshot(path=str(artifacts / "studio-sign-in.png"))
        page.get_by_label("Name").fill("ana")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{address}/pool"
        assert "ana (editor)" in page.locator("header").inner_text()
        context.close()
