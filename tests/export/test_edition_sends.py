"""Sending a newsletter in several languages through a real SMTP server (aiosmtpd): each
subscriber gets the edition of their language, else the main one, and one edition of an issue
at most, whatever happens between runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.pool import Pool
from tests.conftest import invoke
from tests.editions import SLUG, editions_workspace
from tests.export.conftest import SIGNING_KEY, MailServer, Received

ISSUE = f"{SLUG}/2020-11"
# What tells the editions apart in a message: its subject, its Content-Language, its html lang.
SUBJECTS = {
    "en": "ILO COOP eNews - November issue",
    "fr": "ILO COOP eNews - numéro de novembre",
    "es": "ILO COOP eNews - número de noviembre",
}
SENDERS = {  # each edition's own From name
    "en": "ILO COOP eNews",
    "fr": "ILO COOP eNews (français)",
    "es": "ILO COOP eNews (español)",
}
# Who is on the list, in which language, and the edition each must get.
READERS = {
    "ann@example.org": ("en", "en"),
    "bea@example.org": ("fr", "fr"),
    "carlos@example.org": ("es", "es"),
    "dee@example.org": ("", "en"),  # no language: the newsletter's first
    "dieter@example.org": ("de", "en"),  # a language the newsletter lacks: the main edition
    "elodie@example.org": ("fr-CA", "fr"),  # a regional variant: its language's edition
}


@pytest.fixture
def editions(
    tmp_path: Path, database_url: str, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The editions workspace (the 2020-11 issue in en, fr and es) as the working folder,
    sending through the test server."""
    folder = tmp_path / "editions"
    config = editions_workspace(folder, database_url)
    with config.open("a", encoding="utf-8") as file:
        file.write(f'\n[smtp]\nhost = "127.0.0.1"\nport = {mail_server.port}\nsecurity = "none"\n')
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", database_url)
    monkeypatch.delenv("NEWSLETTER_CONFIG", raising=False)
    monkeypatch.setenv("NEWSLETTER_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.setenv("COLUMNS", "200")
    return folder


def write_list(path: Path, readers: dict[str, tuple[str, str]]) -> None:
    lines = ["email,name,language", *(f"{a},{a.split('@')[0].title()},{language}"
                                      for a, (language, _) in readers.items())]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", "utf-8")


def import_list(folder: Path, readers: dict[str, tuple[str, str]]) -> None:
    write_list(folder / "readers.csv", readers)
    done = invoke("subscribers", "import", "readers.csv", "--status", "active")
    assert done.exit_code == 0, done.output


def edition_of(received: Received) -> str:
    """The edition a message is, by its subject, its Content-Language, its html lang and its
    sender's name, which must agree."""
    message = message_from_bytes(received.data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    by_subject = [language for language, subject in SUBJECTS.items()
                  if message["Subject"] == subject]  # fmt: skip
    assert by_subject, message["Subject"]
    language = by_subject[0]
    assert message["Content-Language"] == language
    assert message["From"].addresses[0].display_name == SENDERS[language]
    html = message.get_body(("html",))
    assert html is not None
    assert f'lang="{language}"' in html.get_content()
    return language


def editions_received(server: MailServer) -> dict[str, list[str]]:
    """Address -> the editions of every message it received, in order."""
    found: dict[str, list[str]] = {}
    for received in server.messages:
        found.setdefault(received.recipient, []).append(edition_of(received))
    return found


def ledger(folder: Path) -> dict[str, tuple[str, str | None]]:
    """Address -> (state, edition) of the issue's ledger rows."""
    config = load_config(folder / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        return {e.recipient: (e.state, e.edition) for e in pool.ledger(ISSUE)}


def test_the_active_subscribers_each_get_their_edition_once(
    editions: Path, mail_server: MailServer
) -> None:
    import_list(editions, READERS)
    result = invoke("send", ISSUE, "--yes", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        f"{ISSUE}: sent 6 (en 3, fr 2, es 1), already sent 0, suppressed 0, failed 0, "
        "deferred 0, skipped from the list 0"
    )
    wanted = {address: [edition] for address, (_, edition) in READERS.items()}
    assert editions_received(mail_server) == wanted
    # One ledger for every edition, under the main slug, each row saying which edition went.
    assert ledger(editions) == {a: ("sent", edition) for a, (_, edition) in READERS.items()}
    config = load_config(editions / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        assert pool.ledger(f"{ISSUE}.fr") == []

    again = invoke("send", ISSUE, "--yes", "--rate", "0")
    assert again.exit_code == 0, again.stderr
    assert f"{ISSUE}: sent 0 (en 0, fr 0, es 0), already sent 6," in again.stdout
    assert len(mail_server.messages) == 6
    # A subscriber's record says which edition of the issue they were sent.
    shown = invoke("subscribers", "show", "elodie@example.org")
    assert f"{ISSUE} (fr)" in shown.stdout, shown.stdout


def test_a_subscriber_whose_language_changed_gets_no_second_edition(
    editions: Path, mail_server: MailServer
) -> None:
    import_list(editions, READERS)
    assert invoke("send", ISSUE, "--yes", "--rate", "0").exit_code == 0
    for address, language in (("ann@example.org", "fr"), ("bea@example.org", "es")):
        done = invoke("subscribers", "add", address, "--language", language)
        assert "language updated" in done.stdout, done.output
    # Nor by a send of the issue, nor by a send of the edition they chose now.
    again = invoke("send", ISSUE, "--yes", "--rate", "0")
    assert "sent 0 (en 0, fr 0, es 0), already sent 6," in again.stdout, again.output
    french = invoke("send", f"{ISSUE}.fr", "--yes", "--rate", "0")
    assert f"{ISSUE}.fr: sent 0 (en 0, fr 0, es 0), already sent 6," in french.stdout
    assert len(mail_server.messages) == 6
    assert ledger(editions)["ann@example.org"] == ("sent", "en")


def test_a_list_file_with_a_language_column_and_its_dry_run(
    editions: Path, mail_server: MailServer
) -> None:
    write_list(editions / "list.csv", READERS)
    dry = invoke("send", ISSUE, "--list", "list.csv", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert f"{ISSUE}: would send 6 (en 3, fr 2, es 1), already sent 0," in dry.stdout
    assert mail_server.messages == []
    assert ledger(editions) == {}

    result = invoke("send", ISSUE, "--list", "list.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert f"{ISSUE}: sent 6 (en 3, fr 2, es 1), already sent 0," in result.stdout
    wanted = {address: [edition] for address, (_, edition) in READERS.items()}
    assert editions_received(mail_server) == wanted

    # Half the list sent already: the dry run counts only the rest, by the rows' editions.
    more = {**READERS, "fanny@example.org": ("fr", "fr"), "gil@example.org": ("es", "es")}
    write_list(editions / "list.csv", more)
    dry = invoke("send", ISSUE, "--list", "list.csv", "--dry-run")
    assert "would send 2 (en 0, fr 1, es 1), already sent 6," in dry.stdout, dry.stdout


def test_an_edition_without_a_good_file_leaves_its_readers_the_main_one(
    editions: Path, mail_server: MailServer
) -> None:
    folder = editions / "issues" / SLUG
    (folder / "2020-11.es.toml").unlink()
    (folder / "2020-11.fr.toml").write_text("title = \n", "utf-8")  # not TOML
    write_list(editions / "list.csv", READERS)
    result = invoke("send", ISSUE, "--list", "list.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert "2020-11.fr.toml:" in result.stderr
    assert "its readers get the en edition" in result.stderr
    assert f"{ISSUE}: sent 6 (en 6, fr 0, es 0)," in result.stdout
    assert set(Counter(e for found in editions_received(mail_server).values() for e in found)) == {
        "en"
    }


def test_an_edition_named_goes_to_everyone_given_and_counts_for_the_issue(
    editions: Path, mail_server: MailServer
) -> None:
    """`send 2020-11.fr` sends the French edition whatever the list's languages; the
    issue's send after it gives those readers nothing more, and the others their own."""
    french = {"bea@example.org": ("", "fr"), "ann@example.org": ("en", "fr")}
    write_list(editions / "french.csv", french)
    result = invoke("send", f"{ISSUE}.fr", "--list", "french.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert f"{ISSUE}.fr: sent 2 (en 0, fr 2, es 0), already sent 0," in result.stdout
    assert editions_received(mail_server) == {a: ["fr"] for a in french}

    write_list(editions / "list.csv", READERS)
    rest = invoke("send", ISSUE, "--list", "list.csv", "--rate", "0")
    assert rest.exit_code == 0, rest.stderr
    assert f"{ISSUE}: sent 4 (en 2, fr 1, es 1), already sent 2," in rest.stdout
    received = editions_received(mail_server)
    assert received["ann@example.org"] == ["fr"]  # once, the edition first sent
    assert received["elodie@example.org"] == ["fr"]
    assert all(len(found) == 1 for found in received.values())


def test_a_proof_of_an_edition_is_that_edition(editions: Path, mail_server: MailServer) -> None:
    result = invoke("send", f"{ISSUE}.es", "--to", "editor@example.org")
    assert result.exit_code == 0, result.stderr
    (received,) = mail_server.messages
    message = message_from_bytes(received.data, policy=policy.default)
    assert message["Subject"] == f"[PROOF] {SUBJECTS['es']}"
    assert message["Content-Language"] == "es"
    assert message["From"].addresses[0].display_name == SENDERS["es"]  # the edition's sender
    assert ledger(editions) == {}


def test_a_killed_send_goes_on_with_each_reader_their_first_edition(
    editions: Path, mail_server: MailServer
) -> None:
    """Killed with the server holding a message not yet acknowledged, then a language changed
    before the next run: that run sends what is left, each row the edition it was planned
    with, so that a message sent twice is the same message (the same Message-ID and edition);
    and nobody gets two editions."""
    readers = {
        f"reader{n:03d}@example.org": (language, language)
        for n, language in enumerate(["en", "fr", "es"] * 20)
    }
    write_list(editions / "list.csv", readers)
    process: list[subprocess.Popen[bytes]] = []

    def kill_at(count: int) -> None:
        if count == 25 and process and process[-1].poll() is None:
            os.kill(process[-1].pid, signal.SIGKILL)  # before the server says 250
            process[-1].wait()

    mail_server.on_message = kill_at
    command = [sys.executable, "-m", "newsletter", "send", ISSUE, "--list", "list.csv",
               "--rate", "0"]  # fmt: skip
    process.append(subprocess.Popen(command, cwd=editions, env=os.environ.copy(),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))  # fmt: skip
    process[-1].communicate(timeout=120)
    assert process[-1].returncode == -signal.SIGKILL
    planned = ledger(editions)
    assert len(planned) == 60  # every row planned, with its edition, before the first send
    # Everyone's language changes: their rows keep the edition they were planned with.
    changed = {a: ({"en": "fr", "fr": "es", "es": "en"}[language], language)
               for a, (language, _) in readers.items()}  # fmt: skip
    write_list(editions / "list.csv", changed)
    finished = subprocess.run(command, cwd=editions, env=os.environ.copy(),
                              capture_output=True, timeout=120, check=False)  # fmt: skip
    assert finished.returncode == 0, finished.stderr.decode()
    assert b"(en " in finished.stdout

    received = editions_received(mail_server)
    assert sorted(received) == sorted(readers)  # everyone has it
    for address, found in received.items():
        assert set(found) == {readers[address][1]}  # only ever their first language's
    ids: dict[str, set[str]] = {}
    for message in mail_server.messages:
        parsed = message_from_bytes(message.data, policy=policy.default)
        ids.setdefault(message.recipient, set()).add(str(parsed["Message-ID"]))
    assert all(len(found) == 1 for found in ids.values())  # never two different messages
    assert len(mail_server.messages) - len(readers) <= 1  # the one in flight, at most
    assert ledger(editions) == {a: ("sent", language) for a, (language, _) in readers.items()}
