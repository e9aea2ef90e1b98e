"""Each newsletter's list in the pool: import, list, export, show, remove, forget, and the
sends that read it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.config import load_config
from newsletter.export.subscribers import checked_address
from newsletter.pool import Pool
from newsletter.pool.subscribers import hashed
from tests.export.conftest import MailServer

Run = Callable[..., Result]
ISSUE = "ilo-coop-enews/2020-11"


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def open_pool(workspace: Path) -> Pool:
    return Pool.open(load_config(workspace / "newsletter.toml").database_url)


def test_import_adds_the_good_rows_and_names_each_bad_one_with_its_line(
    run: Run, workspace: Path
) -> None:
    csv_file = write(
        workspace / "list.csv",
        (
            "email,name,language,organisation\n"
            "ana@example.org,Ana,fr,Coop A\n"
            "not-an-address,Bob,,\n"
            "Ana@EXAMPLE.org,Ana again,,\n"
            'carl@example.org,"Carl\r\nBcc: x@example.org",,\n'
            "dora@example.org,Dora,xx_not_a_tag!,\n"
            "eve@Example.ORG,Eve,es,\n"
        ),
    )
    result = run("subscribers", "import", str(csv_file))
    assert result.exit_code == 0, result.stderr
    assert "list.csv:3: invalid address" in result.stderr
    assert "list.csv:4: the same address as line 2" in result.stderr
    assert "list.csv:5: the name" in result.stderr
    assert "list.csv:7: not a language tag" in result.stderr
    assert result.stdout.strip() == (
        "ilo-coop-enews: 2 added (active), 0 already on the list, 4 rows skipped, 0 suppressed"
    )
    with open_pool(workspace) as pool:
        (ana,) = pool.subscriber("ANA@example.org")
        assert (ana.address, ana.name, ana.language, ana.status) == (
            "ana@example.org",
            "Ana",
            "fr",
            "active",
        )
        assert ana.attributes == {"organisation": "Coop A"}
        assert ana.consent_method == "import"
        assert ana.consent_source.endswith("list.csv")
        assert ana.consent_at is not None
        (eve,) = pool.subscriber("eve@example.org")
        assert eve.address == "eve@example.org"  # the domain's case is not the address's
        assert pool.subscriber("carl@example.org") == []


def test_an_import_that_cannot_read_its_file_to_the_end_imports_nothing(
    run: Run, workspace: Path
) -> None:
    rows = "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(12000))
    path = workspace / "broken.csv"
    path.write_bytes(b"email,name\n" + rows.encode() + b"last@example.org,\xff\xfe broken\n")
    result = run("subscribers", "import", str(path))
    assert result.exit_code == 1
    assert "broken.csv: cannot read the subscriber list" in result.stderr
    assert "Traceback" not in result.stderr
    with open_pool(workspace) as pool:
        assert pool.subscriber_counts() == {}  # not the first 10,000 (two batches) either


def test_an_import_never_brings_back_someone_who_left(run: Run, workspace: Path) -> None:
    first = write(workspace / "a.csv", "email,name\nana@example.org,Ana\nbob@example.org,Bob\n")
    assert run("subscribers", "import", str(first)).exit_code == 0
    with open_pool(workspace) as pool:
        pool.set_subscriber_status(
            "ilo-coop-enews",
            pool.active_subscribers("ilo-coop-enews")[0],
            "unsubscribed",
            "unsubscribed",
            "test",
        )
    again = write(workspace / "b.csv", "email,name\nANA@example.org,Ana B\nbob@example.org,\n")
    result = run("subscribers", "import", str(again))
    assert "0 added (active), 2 already on the list" in result.stdout
    with open_pool(workspace) as pool:
        (ana,) = pool.subscriber("ana@example.org")
        (bob,) = pool.subscriber("bob@example.org")
    assert (ana.status, ana.name) == ("unsubscribed", "Ana B")
    assert (bob.status, bob.name) == ("active", "Bob")  # an empty cell keeps the name
    # An import may take someone off (an old ESP's unsubscribes), never put them back.
    left = write(workspace / "c.csv", "email\nbob@example.org\n")
    run("subscribers", "import", str(left), "--status", "unsubscribed")
    with open_pool(workspace) as pool:
        assert pool.subscriber("bob@example.org")[0].status == "unsubscribed"


def test_list_filters_and_prints_json_and_csv_and_export_imports_again(
    run: Run, workspace: Path
) -> None:
    source = write(
        workspace / "list.csv",
        (
            "email,name,lang,city\nana@example.org,Ana,fr,Genève\nbob@example.org,=cmd(),en,\n"
            "cleo@example.org,Cleo,fr,Lima\n"
        ),
    )
    run("subscribers", "import", str(source))
    table = run("subscribers", "list", "--language", "fr")
    assert table.stdout.splitlines() == [
        "ana@example.org  active  ilo-coop-enews  Ana",
        "cleo@example.org  active  ilo-coop-enews  Cleo",
        "2 subscribers shown",
    ]
    assert run("subscribers", "list").stdout.splitlines()[-1] == "3 on the list (active 3)"
    misspelt = run("subscribers", "list", "--newsletter", "ilo-coop-enwes")
    assert misspelt.exit_code == 1
    assert "ilo-coop-enews" in misspelt.stderr
    listed = json.loads(run("subscribers", "list", "--search", "ANA", "--format", "json").stdout)
    assert [(r["email"], r["attributes"]) for r in listed] == [
        ("ana@example.org", {"city": "Genève"})
    ]
    rows = list(csv.reader(io.StringIO(run("subscribers", "list", "--format", "csv").stdout)))
    assert rows[0][:4] == ["email", "name", "language", "status"]
    assert rows[2][1] == "'=cmd()"  # never a formula in a spreadsheet
    exported = workspace / "out" / "export.csv"
    result = run("subscribers", "export", "-o", str(exported))
    assert result.stdout.strip() == "wrote out/export.csv (3 subscribers)"
    header, *lines = list(csv.reader(exported.open(encoding="utf-8")))
    assert header[-1] == "city"
    assert lines[0][-1] == "Genève"
    # The export is a list that imports again, into another newsletter's list as it is.
    with open_pool(workspace) as pool:
        pool.remove_subscribers(
            "ilo-coop-enews", ["ana@example.org", "bob@example.org", "cleo@example.org"]
        )
    again = run("subscribers", "import", str(exported))
    assert "3 added (active)" in again.stdout
    with open_pool(workspace) as pool:
        assert pool.subscriber("ana@example.org")[0].attributes["city"] == "Genève"


def test_show_tells_the_story_of_one_address_and_forget_leaves_only_a_hash(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    source = write(sending_workspace / "l.csv", "email,name\nana@example.org,Ana\n")
    run("subscribers", "import", str(source))
    assert run("send", ISSUE, "--rate", "0", "--yes").exit_code == 0
    assert [m.recipient for m in mail_server.messages] == ["ana@example.org"]
    run("subscribers", "remove", "ana@example.org")
    story = run("subscribers", "show", "ana@example.org").stdout
    assert "  sent ilo-coop-enews/2020-11" in story
    assert ISSUE in story
    assert "removed" in story
    database = load_config(sending_workspace / "newsletter.toml").database_url
    files = sorted(Path(database.removeprefix("sqlite:///")).parent.glob("pool.db*"))
    if database.startswith("sqlite"):  # the test below could fail: the address is there now
        assert any(b"ana@example.org" in file.read_bytes().lower() for file in files)
    result = run("subscribers", "forget", "ANA@example.org", "--yes")
    assert result.stdout.startswith("forgot ANA@example.org: 2 records erased")
    shown = run("subscribers", "show", "ana@example.org")
    assert shown.exit_code == 1
    assert "not on any list, and nothing recorded" in shown.stderr
    with open_pool(sending_workspace) as pool:
        assert pool.suppressions() == [
            (hashed("ana@example.org"), "forgotten", pool.suppressions()[0][2])
        ]
    if database.startswith("sqlite"):
        for file in files:  # the database and its write-ahead log: not even in free pages
            assert b"ana@example.org" not in file.read_bytes().lower(), file.name
    # Whoever imports it again, or sends to it from a file, never reaches it.
    again = run("subscribers", "import", str(source))
    assert "1 suppressed" in again.stdout
    assert "forgotten" in again.stderr
    listed = run("send", "ilo-coop-enews/2020-10", "--list", str(source), "--rate", "0")
    assert "sent 0" in listed.stdout
    assert "suppressed 1" in listed.stdout
    assert len(mail_server.messages) == 1


def test_send_goes_to_the_active_subscribers_and_a_list_file_skips_who_left(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    empty = run("send", ISSUE)
    assert empty.exit_code == 1
    assert "has no active subscribers" in empty.stderr
    source = write(
        sending_workspace / "l.csv",
        ("email,name\nana@example.org,Ana\nbob@example.org,Bob\ncleo@example.org,Cleo\n"),
    )
    run("subscribers", "import", str(source))
    with open_pool(sending_workspace) as pool:
        bob = next(s for s in pool.active_subscribers("ilo-coop-enews") if s.name == "Bob")
        pool.set_subscriber_status("ilo-coop-enews", bob, "unsubscribed", "unsubscribed", "t")
        cleo = next(s for s in pool.active_subscribers("ilo-coop-enews") if s.name == "Cleo")
        pool.set_subscriber_status("ilo-coop-enews", cleo, "paused", "paused", "t")
    declined = run("send", ISSUE, "--rate", "0", input="n\n")
    assert (
        "send ilo-coop-enews/2020-11 to the 1 active subscriber of ilo-coop-enews?"
        in declined.stdout
    )
    assert declined.exit_code == 1
    assert mail_server.messages == []
    result = run("send", ISSUE, "--rate", "0", input="y\n")
    assert result.exit_code == 0, result.stderr
    assert [m.recipient for m in mail_server.messages] == ["ana@example.org"]
    # A send to the same people from a file: Bob left this newsletter, so he is skipped.
    result = run("send", "ilo-coop-enews/2020-10", "--list", str(source), "--rate", "0")
    assert "sent 2" in result.stdout
    assert "suppressed 1" in result.stdout
    assert "bob@example.org" not in [m.recipient for m in mail_server.messages]


def test_add_one_subscriber_by_hand(run: Run, workspace: Path) -> None:
    result = run("subscribers", "add", "Zoe@Example.org", "--name", "Zoé", "--language", "es")
    assert result.stdout.strip() == "ilo-coop-enews: added Zoe@example.org (active)"
    again = run("subscribers", "add", "zoe@example.org")
    assert "already on the list" in again.stdout
    bad = run("subscribers", "add", "x@example.org", "--name", "A\r\nBcc: y@example.org")
    assert bad.exit_code == 1
    assert "Traceback" not in bad.stderr
    with open_pool(workspace) as pool:
        (zoe,) = pool.subscriber("zoe@example.org")
        assert (zoe.name, zoe.language, zoe.consent_method) == ("Zoé", "es", "cli")


_LOCAL = st.text("aZ09_%+-.", min_size=1, max_size=70)
_LABEL = st.text("aZ09-x", min_size=1, max_size=8)
_TLD = st.sampled_from(["org", "ORG", "c", "test", "local", "x1", "co", "onion", "Int"])


@settings(max_examples=3000, deadline=None)
@given(_LOCAL, st.lists(_LABEL, min_size=1, max_size=3), _TLD)
def test_the_quick_address_check_gives_what_email_validator_gives(
    local: str, labels: list[str], tld: str
) -> None:
    from email_validator import EmailNotValidError, validate_email

    raw = f"{local}@{'.'.join(labels)}.{tld}"
    try:
        checked = validate_email(raw, check_deliverability=False)
        expected: tuple[str, str | None] | str = (checked.normalized, checked.ascii_email)
    except EmailNotValidError as error:
        expected = str(error)
    try:
        found: tuple[str, str | None] | str = checked_address(raw)
    except EmailNotValidError as error:
        found = str(error)
    assert found == expected


@pytest.mark.parametrize(
    "raw",
    [
        "a@münchen.de",
        "A@xn--mnchen-3ya.de",
        "a..b@example.org",
        "a@-x.org",
        "a@x.test",
        '"q"@example.org',
        "a@b",
    ],
)
def test_what_the_quick_check_leaves_to_email_validator_it_answers_alike(raw: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(raw, check_deliverability=False)
        expected: object = (checked.normalized, checked.ascii_email)
    except EmailNotValidError as error:
        expected = str(error)
    try:
        found: object = checked_address(raw)
    except EmailNotValidError as error:
        found = str(error)
    assert found == expected
