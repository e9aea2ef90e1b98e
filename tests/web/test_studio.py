"""The studio through its HTTP interface: its pages, each edit through the issue writer, the
refusals (a forged POST, an edit made on an older file, a path out of the workspace) and the
headers every answer carries."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from starlette.testclient import TestClient

from newsletter.config import load_config
from newsletter.draft import edit_item
from newsletter.issue import read_issue
from newsletter.web.security import CSRF_COOKIE, EMAIL_POLICY, PAGE_POLICY
from newsletter.web.studio import make_app
from newsletter.workspace import Workspace
from tests.conftest import DATA, ROOT, invoke
from tests.export.conftest import MailServer

ISSUE = "/issues/ilo-coop-enews/2020-11"


@pytest.fixture
def issue_file(workspace: Path, run: Callable[..., Result]) -> Path:
    """The sample pool, and the November sample issue in the workspace."""
    assert run("ingest", "--all").exit_code == 0
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "issues" / "ilo-coop-enews" / "2020-11.toml", folder)
    return folder / "2020-11.toml"


@pytest.fixture
def client(workspace: Path, issue_file: Path) -> Iterator[TestClient]:  # noqa: ARG001
    opened = Workspace(workspace / "newsletter.toml")
    with opened, TestClient(make_app(opened), base_url="http://127.0.0.1:8030") as test_client:
        yield test_client


def form_of(page: str, action: str, uid: str = "") -> dict[str, str]:
    """The hidden fields of the page's form for `action` (on item `uid`)."""
    for match in re.finditer(r'<form method="post" action="[^"]*/(\w+)"[^>]*>(.*?)</form>', page,
                             re.DOTALL):  # fmt: skip
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', match[2]))
        if match[1] == action and fields.get("uid", "") == uid:
            return fields
    raise AssertionError(f"no {action} form for {uid!r}")


def test_the_pages_show_the_issues_the_pool_and_the_editor(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200
    assert f'href="{ISSUE}">ILO COOP eNews - November issue</a>' in home.text
    pool = client.get("/pool", params={"month": "2020-11", "topic": "cooperatives"})
    assert pool.status_code == 200
    assert "A two-day symposium is held to celebrate the centennial" in pool.text
    assert "ilo-coop-enews/2020-11" in pool.text  # the item is already in an issue
    assert "2020-10-" not in pool.text.split("<tbody>")[1]  # November only
    editor = client.get(ISSUE)
    assert editor.status_code == 200
    assert editor.text.count('class="item') == len(read_issue_items(client))
    assert "bytes of HTML as sent" in editor.text
    email = client.get(f"{ISSUE}/email.html")
    assert email.status_code == 200
    assert email.headers["content-security-policy"] == EMAIL_POLICY
    assert "<mjml" not in email.text
    assert "ILO COOP eNews - November issue" in email.text
    text = client.get(f"{ISSUE}/email.txt")
    assert text.headers["content-type"].startswith("text/plain")


def read_issue_items(client: TestClient) -> list[str]:
    page = client.get(ISSUE).text
    return re.findall(r'<article class="item[^"]*" id="item-([0-9a-f]{16})"', page)


def test_every_page_carries_a_policy_without_inline_scripts(client: TestClient) -> None:
    for path in ("/", "/pool", ISSUE, "/static/studio.css", "/issues/x/y"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert policy == PAGE_POLICY
        assert "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", client.get(ISSUE).text, re.DOTALL)
    assert scripts == [""]  # one, from a file the app serves: no inline code
    assert client.get("/static/studio.js").status_code == 200


def test_an_edit_goes_through_the_issue_writer_and_brings_the_focus_back(
    client: TestClient, issue_file: Path, workspace: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    before = read_issue(issue_file, config)
    chosen = before.sections[0].items[1]
    page = client.get(ISSUE).text
    answer = client.post(f"{ISSUE}/lead", data=form_of(page, "lead", chosen.uid),
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, re.findall(r"<p class=\"error\"[^>]*>(.*?)</p>", answer.text)
    assert answer.headers["location"] == f"{ISSUE}#item-{chosen.uid}"
    after = read_issue(issue_file, config)
    assert after.lead is not None
    assert after.lead.uid == chosen.uid
    assert before.lead is not None
    assert after.sections[0].items[0].uid == before.lead.uid  # the old lead tops its section
    assert "# The lead story, shown first and largest." in issue_file.read_text()  # comments kept


def test_up_down_another_section_remove_and_words(
    client: TestClient, issue_file: Path, workspace: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    first, second = read_issue(issue_file, config).sections[0].items[:2]

    def post(action: str, uid: str = "", **fields: str) -> None:
        data = {**form_of(client.get(ISSUE).text, action if action != "issue" else "issue", uid),
                **fields}  # fmt: skip
        assert client.post(f"{ISSUE}/{action}", data=data).status_code == 200

    post("down", first.uid)
    assert [i.uid for i in read_issue(issue_file, config).sections[0].items[:2]] == [
        second.uid, first.uid]  # fmt: skip
    post("up", first.uid)
    assert read_issue(issue_file, config).sections[0].items[0].uid == first.uid
    target = read_issue(issue_file, config).sections[-1].title
    post("section", first.uid, section=target)
    assert read_issue(issue_file, config).sections[-1].items[-1].uid == first.uid
    post("edit", first.uid, field="title", value="A title written in the studio")
    assert 'title = "A title written in the studio"' in issue_file.read_text()
    post("issue", field="intro", value="First paragraph.\r\n\r\nSecond paragraph.")
    assert read_issue(issue_file, config).intro == "First paragraph.\n\nSecond paragraph."
    post("remove", first.uid)
    issue = read_issue(issue_file, config)
    assert first.uid not in {i.uid for i in issue.items}
    assert first.uid in issue.excluded


def test_a_post_without_the_token_or_from_another_site_is_refused(
    client: TestClient, issue_file: Path
) -> None:
    before = issue_file.read_bytes()
    page = client.get(ISSUE).text
    fields = form_of(page, "remove", read_issue_items(client)[1])
    without = {k: v for k, v in fields.items() if k != "csrf"}
    assert client.post(f"{ISSUE}/remove", data=without).status_code == 403
    wrong = {**fields, "csrf": "x" * 43}
    assert client.post(f"{ISSUE}/remove", data=wrong).status_code == 403
    other_site = client.post(f"{ISSUE}/remove", data=fields,
                             headers={"Origin": "https://evil.example"})  # fmt: skip
    assert other_site.status_code == 403
    cookieless = TestClient(client.app, base_url="http://127.0.0.1:8030")
    assert cookieless.post(f"{ISSUE}/remove", data=fields).status_code == 403
    assert issue_file.read_bytes() == before
    assert client.cookies.get(CSRF_COOKIE)


def test_an_edit_made_on_an_older_file_is_refused_and_nothing_is_lost(
    client: TestClient, issue_file: Path, workspace: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    page = client.get(ISSUE).text
    uid = read_issue_items(client)[2]
    fields = form_of(page, "edit", uid)
    edit_item(config, issue_file, uid, "title", "Changed from the command line")
    answer = client.post(f"{ISSUE}/edit", data={**fields, "field": "title",
                                                "value": "Changed in the browser"})  # fmt: skip
    assert answer.status_code == 409
    assert "changed since this page was loaded" in answer.text
    assert "Changed from the command line" in answer.text  # the page shows the file as it is
    titles = [i.title for i in read_issue(issue_file, config).items]
    assert "Changed from the command line" in titles
    assert "Changed in the browser" not in titles


def test_item_text_is_shown_as_text(client: TestClient, issue_file: Path, workspace: Path) -> None:
    config = load_config(workspace / "newsletter.toml")
    uid = read_issue_items(client)[1]
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    edit_item(config, issue_file, uid, "title", hostile)
    edit_item(config, issue_file, uid, "summary", 'See <a href="javascript:alert(3)">this</a>')
    page = client.get(ISSUE).text
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    email = client.get(f"{ISSUE}/email.html").text
    assert "<script>alert(1)" not in email
    assert "javascript:" not in email


@pytest.mark.parametrize(
    "path",
    [
        "/issues/ilo-coop-enews/..%2F..%2Fetc%2Fpasswd",
        "/issues/ilo-coop-enews/.hidden",
        "/issues/..%2F..%2Fetc/passwd",
        "/issues/nope/2020-11",
    ],
)
def test_a_path_out_of_the_issues_is_not_found(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/email.html").status_code == 404


def test_on_this_machine_no_one_signs_in(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert "Sign out" not in client.get("/").text


def test_an_editor_adds_a_pool_item_and_an_event_that_is_in_no_source(
    client: TestClient, issue_file: Path, workspace: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    uid = read_issue_items(client)[1]
    page = client.get(ISSUE).text
    assert client.post(f"{ISSUE}/remove", data=form_of(page, "remove", uid)).status_code == 200
    found = client.get(ISSUE, params={"find": ""}).text
    assert f'name="uid" value="{uid}"' in found.split('id="add"')[1]  # offered again
    answer = client.post(f"{ISSUE}/add", data=form_of(found, "add", uid), follow_redirects=False)
    assert answer.headers["location"] == f"{ISSUE}#item-{uid}"
    assert uid in {i.uid for i in read_issue(issue_file, config).items}

    page = client.get(ISSUE).text
    fields = {k: v for k, v in form_of(page, "edit", uid).items() if k in ("csrf", "made_on")}
    event = {**fields, "type": "Event", "title": "Cooperatives week in Geneva",
             "date": "2020-11-24", "end": "2020-11-26", "place": "Geneva", "section": "",
             "url": "https://www.ilo.org/coop/week", "summary": "Three days."}  # fmt: skip
    answer = client.post(f"{ISSUE}/manual", data=event, follow_redirects=False)
    assert answer.status_code == 303
    added = next(i for i in read_issue(issue_file, config).items
                 if i.title == "Cooperatives week in Geneva")  # fmt: skip
    assert (added.place, added.end, added.manual) == ("Geneva", date(2020, 11, 26), True)
    bad = client.post(f"{ISSUE}/manual", data={**event, "made_on": answer_digest(client),
                                               "date": "27/11/2020"})  # fmt: skip
    assert bad.status_code == 400
    assert "is not a date like 2020-11-27" in bad.text, re.findall(
        r'<p class="error"[^>]*>(.*?)</p>', bad.text
    )


def answer_digest(client: TestClient) -> str:
    return form_of(client.get(ISSUE).text, "edit", read_issue_items(client)[0])["made_on"]


def test_the_undo_button_puts_the_file_back(client: TestClient, issue_file: Path) -> None:
    original = issue_file.read_bytes()
    uid = read_issue_items(client)[1]
    page = client.get(ISSUE).text
    client.post(f"{ISSUE}/edit", data={**form_of(page, "edit", uid), "field": "title",
                                       "value": "Changed in the studio"})  # fmt: skip
    assert issue_file.read_bytes() != original
    answer = client.post(f"{ISSUE}/undo", data=form_of(client.get(ISSUE).text, "undo"))
    assert answer.status_code == 200
    assert issue_file.read_bytes() == original


def test_a_new_issue_is_shown_before_it_is_written_then_opened_in_the_editor(
    client: TestClient, issue_file: Path, workspace: Path
) -> None:
    issue_file.unlink()
    shown = client.get("/new", params={"newsletter": "ilo-coop-enews", "month": "2020-11"})
    assert shown.status_code == 200
    assert "<strong>Lead:</strong> 2020-11-27 · News · A two-day symposium" in shown.text
    assert not issue_file.exists()  # only shown
    create_form = shown.text.split('<form method="post" action="/new">')[1]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', create_form))
    created = client.post("/new", data=fields, follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] == ISSUE
    config = load_config(workspace / "newsletter.toml")
    issue = read_issue(issue_file, config)
    assert issue.lead is not None
    assert issue.lead.title.startswith("A two-day symposium")
    again = client.post("/new", data=fields)
    assert again.status_code == 400
    assert "exists" in again.text
    unsigned = client.post("/new", data={k: v for k, v in fields.items() if k != "csrf"})
    assert unsigned.status_code == 403


def test_a_proof_goes_out_through_the_smtp_server_and_the_page_says_so(
    mail_server: MailServer, client: TestClient
) -> None:
    page = client.get(ISSUE).text
    to = "editor@example.org, chief@example.org"
    answer = client.post(f"{ISSUE}/proof", data={**form_of(page, "proof"), "to": to})
    assert answer.status_code == 200
    assert "proof sent to editor@example.org: 250" in answer.text
    received = mail_server.for_recipient("chief@example.org")
    assert len(received) == 1
    assert b"Subject: [PROOF] ILO COOP eNews - November issue" in received[0].data
    bad = client.post(f"{ISSUE}/proof", data={**form_of(client.get(ISSUE).text, "proof"),
                                              "to": "not an address"})  # fmt: skip
    assert bad.status_code == 400
    assert len(mail_server.messages) == 2


def test_exports_download_as_files(client: TestClient) -> None:
    eml = client.get(f"{ISSUE}/export/eml")
    assert eml.status_code == 200
    assert eml.headers["content-type"].startswith("message/rfc822")
    assert 'attachment; filename="email.eml"' in eml.headers["content-disposition"]
    assert b"Subject: ILO COOP eNews - November issue" in eml.content
    assert client.get(f"{ISSUE}/export/bundle").content[:2] == b"PK"
    assert client.get(f"{ISSUE}/export/mailchimp").json()["settings"]
    assert client.get(f"{ISSUE}/export/nothing").status_code == 404


def test_publish_asks_first_then_says_the_number(client: TestClient, issue_file: Path) -> None:
    confirm = client.get(f"{ISSUE}/publish")
    assert "It will be <strong>no. 1</strong>" in confirm.text
    assert issue_file.read_text().count('status = "draft"') == 1
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', confirm.text))
    answer = client.post(f"{ISSUE}/publish", data=fields)
    assert answer.status_code == 200
    assert re.search(r"published as no\. 1 on \d{4}-\d\d-\d\d", answer.text)
    assert 'status = "published"' in issue_file.read_text()
    assert (issue_file.parent / "2020-11" / "v1" / "email.html").is_file()
    assert "this one will be" not in client.get(f"{ISSUE}/publish").text  # published already
    assert (
        '<a href="https://newsletters.example.org/ilo-coop-enews/2020-11/">its page in the '
        "archive</a>" in client.get(ISSUE).text
    )


def test_refresh_marks_what_is_new_and_a_removed_item_can_be_put_back(
    client: TestClient, issue_file: Path, workspace: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    uid = read_issue_items(client)[2]
    client.post(f"{ISSUE}/remove", data=form_of(client.get(ISSUE).text, "remove", uid))
    page = client.get(ISSUE).text
    assert f'name="uid" value="{uid}"' in page.split('id="removed"')[1].split('id="add"')[0]
    refreshed = client.post(f"{ISSUE}/refresh", data=form_of(page, "refresh"))
    assert "refreshed from the pool:" in refreshed.text
    assert uid not in {i.uid for i in read_issue(issue_file, config).items}  # stays out
    back = client.post(f"{ISSUE}/restore", data=form_of(client.get(ISSUE).text, "restore", uid),
                       follow_redirects=False)  # fmt: skip
    assert back.headers["location"] == f"{ISSUE}#item-{uid}"
    assert uid in {i.uid for i in read_issue(issue_file, config).items}
    text = client.get(f"{ISSUE}/email.txt")
    assert text.headers["content-security-policy"] == EMAIL_POLICY  # framed by the editor


def titles_on(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    cell = r"<td>(?:<img [^>]*>)?(?:<a href=\"[^\"]*\">)?([^<]+)(?:</a>)?(?: <span|<br>)"
    return re.findall(cell, body)


def test_the_pool_pages_through_its_items_and_filters_by_source_and_picture(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    everything = titles_on(client.get("/pool").text)
    assert len(everything) > 6
    monkeypatch.setattr("newsletter.web.studio.POOL_PAGE", 4)
    seen, page, address = [], 1, "/pool?"
    while address:
        text = client.get(address).text
        seen += titles_on(text)
        older = re.search(r'<a href="(/pool\?[^"]*)" rel="next">Older</a>', text)
        address = older[1].replace("&amp;", "&") if older else ""
        page += 1
    assert seen == everything  # every item once, newest first, across the pages
    assert page - 1 == -(-len(everything) // 4)
    assert 'rel="prev">Newer</a>' in client.get("/pool", params={"page": 2}).text

    config = load_config(workspace / "newsletter.toml")
    source = sorted(config.sources)[-1]
    from_one = client.get("/pool", params={"source": source}).text
    assert 0 < len(titles_on(from_one)) < len(everything)
    assert all(row.count(source) for row in from_one.split("<tbody>")[1].split("<tr>")[1:])
    assert invoke("ingest", str(DATA / "feeds" / "coop-news-feed.rss")).exit_code == 0
    pictured = client.get("/pool", params={"picture": "1"}).text
    assert len(titles_on(pictured)) > 0
    assert pictured.count('<span class="tag">picture</span>') == len(titles_on(pictured))
    assert pictured.count('<img class="thumb"') == len(titles_on(pictured))
    assert client.get("/pool", params={"language": "xx"}).text.count("<tr><td>") == 0


def test_an_item_is_tagged_and_untagged_from_the_pool_page(
    client: TestClient, workspace: Path
) -> None:
    page = client.get("/pool", params={"month": "2020-11"}).text
    uid = re.findall(r'<tr id="row-([0-9a-f]{16})">', page)[0]
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf": token[1], "uid": uid, "topic": "informality", "back": "/pool?month=2020-11"}
    answer = client.post("/pool/tag", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/pool?month=2020-11#row-{uid}"
    with Workspace(workspace / "newsletter.toml") as opened:
        assert "informality" in opened.pool.item(uid).topics
    assert client.post("/pool/untag", data=form).status_code == 200
    with Workspace(workspace / "newsletter.toml") as opened:
        assert "informality" not in opened.pool.item(uid).topics
    assert client.post("/pool/tag", data={**form, "topic": "nope"}).status_code == 400
    assert client.post("/pool/tag", data={**form, "csrf": ""}).status_code == 403
    away = client.post("/pool/tag", data={**form, "back": "//evil.example/"},
                       follow_redirects=False)  # fmt: skip
    assert away.headers["location"].startswith("/pool#row-")


def test_a_finding_about_an_item_links_to_it(
    client: TestClient, issue_file: Path, workspace: Path
) -> None:
    config = load_config(workspace / "newsletter.toml")
    uid = read_issue_items(client)[3]
    edit_item(config, issue_file, uid, "image", "https://www.ilo.org/images/x.jpg")
    page = client.get(ISSUE).text
    finding = page.split('<ul class="findings">')[1].split("</ul>")[0]
    assert f'has no image_alt: say what it shows, or write image_alt = &#34;&#34; if it only ' \
           f'decorates <a href="#item-{uid}">go to the item</a>' in finding  # fmt: skip


@pytest.mark.parametrize(("action", "said"), [("merge", "merged into"), ("apart", "kept apart")])
def test_possible_duplicates_are_merged_or_kept_apart(
    client: TestClient, action: str, said: str
) -> None:
    assert invoke("ingest", str(DATA / "feeds" / "coop-news-feed.rss")).exit_code == 0
    page = client.get("/duplicates").text
    assert "ILO COOP 100 interview with Mounir Kleibo, ILO Representative in Jerusalem" in page
    forms = re.findall(rf'<form method="post" action="/duplicates/{action}"[^>]*>(.*?)</form>',
                       page, re.DOTALL)  # fmt: skip
    assert len(forms) == 1
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', forms[0]))
    answer = client.post(f"/duplicates/{action}", data=fields)
    assert answer.status_code == 200
    assert said in answer.text
    assert "No possible duplicate is waiting." in client.get("/duplicates").text
    again = client.post(f"/duplicates/{action}", data=fields)
    assert again.status_code == (400 if action == "merge" else 200)


def test_a_new_issue_may_cover_days_rather_than_a_month(
    client: TestClient, issue_file: Path
) -> None:
    issue_file.unlink()
    params = {"newsletter": "ilo-coop-enews", "from": "2020-11-01", "to": "2020-11-12"}
    shown = client.get("/new", params=params).text
    listed = re.findall(r"(2020-\d\d-\d\d) · ", shown.split("What the draft would hold")[1])
    assert listed
    assert all("2020-11-01" <= day <= "2020-11-12" for day in listed)
    backwards = client.get("/new", params={**params, "to": "2020-10-01"}).text
    assert "What the draft would hold" in backwards
    assert "The pool has nothing" in backwards
