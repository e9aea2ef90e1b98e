"""`newsletter bounces read`: the bounce fixtures, answering messages really sent (through
aiosmtpd), suppress whom they should, count soft bounces in a row, and leave the rest alone."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.bounces import Bounce, classify
from newsletter.config import load_config
from newsletter.pool import Pool
from newsletter.verp import verp_address
from tests.conftest import DATA
from tests.export.conftest import MailServer

Run = Callable[..., Result]
FIXTURES = DATA / "bounces"
HARD = (
    "postfix-user-unknown",
    "exim-permanent",
    "office365-recipient-not-found",
    "gmail-no-such-user",
    "qmail-verp",
)
LEFT_ALONE = ("out-of-office", "human-reply", "garbage-truncated")
RETURN_PATH = "coop-enews@newsletters.example.org"  # the sample's From: its VERP base


def recipient_of(name: str) -> str:
    found = classify(message_from_bytes((FIXTURES / f"{name}.eml").read_bytes()), name)
    assert isinstance(found, Bounce), found
    (address,) = found.addresses
    return address


def answering(name: str, message_id: str) -> bytes:
    """The fixture, made to answer the message `message_id` really sent."""
    data = (FIXTURES / f"{name}.eml").read_bytes()
    (token,) = set(re.findall(rb"2020-11\.[0-9a-f]{32}", data))
    verp = verp_address(RETURN_PATH, message_id).encode()
    data = re.sub(rb"bounces\+" + token + rb"@ilo\.org", verp, data)
    return data.replace(b"<" + token + b"@ilo.org>", message_id.encode())


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for data in messages:
        box.add(data)
    box.close()
    return path


@pytest.mark.usefixtures("mail_server")
def test_bounces_and_complaints_suppress_at_once_and_soft_ones_after_some_in_a_row(
    run: Run, sending_workspace: Path
) -> None:
    toml = sending_workspace / "newsletter.toml"
    toml.write_text(toml.read_text() + "\n[bounces]\nsoft_limit = 2\n", "utf-8")
    hard = {name: recipient_of(name) for name in HARD}
    complainant = recipient_of("yahoo-arf-complaint")
    soft = recipient_of("postfix-delayed-mailbox-full")
    staying = "stays@example.org"
    listing = sending_workspace / "list.csv"
    addresses = [*hard.values(), complainant, soft, staying]
    listing.write_text("email\n" + "\n".join(addresses) + "\n", "utf-8")
    assert run("subscribers", "import", str(listing)).exit_code == 0
    for issue in ("ilo-coop-enews/2020-10", "ilo-coop-enews/2020-11"):
        assert run("send", issue, "--rate", "0", "--yes").exit_code == 0
    config = load_config(toml)
    with Pool.open(config.database_url) as pool:
        sent = {
            (e.recipient, slug): e.message_id
            for slug in ("2020-10", "2020-11")
            for e in pool.ledger(f"ilo-coop-enews/{slug}")
        }

    reports = [answering(name, sent[(address, "2020-11")]) for name, address in hard.items()]
    reports.append(answering("yahoo-arf-complaint", sent[(complainant, "2020-11")]))
    reports.append(answering("postfix-delayed-mailbox-full", sent[(soft, "2020-10")]))
    reports += [(FIXTURES / f"{name}.eml").read_bytes() for name in LEFT_ALONE]
    reports.append((FIXTURES / "postfix-user-unknown.eml").read_bytes())  # no send of ours
    box = write_mbox(sending_workspace / "bounces.mbox", reports)

    result = run("bounces", "read", str(box))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "6 suppressed, 1 soft bounce counted, 0 read before, 1 unmatched, 3 left alone"
    )
    for address in [*hard.values(), complainant]:
        assert f"suppressed {address} (ilo-coop-enews/2020-11)" in result.stdout
    assert f"soft bounce {soft} (ilo-coop-enews/2020-10): 1 of 2 in a row" in result.stdout
    assert result.stderr.count("left alone:") == 3
    assert "unmatched:" in result.stderr
    assert "bounces.mbox#" in result.stderr
    with Pool.open(config.database_url) as pool:
        status = {r.address.lower(): r.status for r in pool.subscribers("ilo-coop-enews")}
        suppressed = {address: reason for address, reason, _ in pool.suppressions()}
        story = pool.story(complainant)
    assert {status[a] for a in hard.values()} == {"bounced"}
    assert status[complainant] == "complained"
    assert (status[soft], status[staying]) == ("active", "active")
    assert suppressed == {**dict.fromkeys(hard.values(), "bounced"), complainant: "complained"}
    assert [e.kind for e in story][-1] == "complained"
    assert story[-1].issue == "ilo-coop-enews/2020-11"

    again = run("bounces", "read", str(box))  # a mailbox read twice counts nothing twice
    assert "0 suppressed, 0 soft bounces counted, 7 read before" in again.stdout

    # The next issue's soft bounce is the second in a row: now the address is suppressed.
    maildir = mailbox.Maildir(sending_workspace / "Maildir")
    second = answering("postfix-delayed-mailbox-full", sent[(soft, "2020-11")])
    maildir.add(second.replace(b"<4CV9q02nG1z9sRb@", b"<4CW0a13oH2a0tSc@"))  # another report
    result = run("bounces", "read", str(sending_workspace / "Maildir"))
    assert f"suppressed {soft} (ilo-coop-enews/2020-11): 2 issues in a row" in result.stdout
    with Pool.open(config.database_url) as pool:
        active = [s.address for s in pool.active_subscribers("ilo-coop-enews")]
    assert active == [staying]


def test_bounces_read_names_what_it_cannot_read(run: Run, workspace: Path) -> None:
    folder = workspace / "not-a-mailbox"
    folder.mkdir()
    for given in (folder, workspace / "missing.mbox"):
        result = run("bounces", "read", str(given))
        assert result.exit_code == 1
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1
    assert run("bounces", "read").exit_code == 2  # neither a mailbox nor --imap


def test_a_message_from_the_send_carries_the_id_the_bounce_is_matched_by(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    listing = sending_workspace / "list.csv"
    listing.write_text("email\nana@example.org\n", "utf-8")
    run("subscribers", "import", str(listing))
    run("send", "ilo-coop-enews/2020-11", "--rate", "0", "--yes")
    (received,) = mail_server.messages
    message_id = message_from_bytes(received.data, policy=policy.default)["Message-ID"]
    config = load_config(sending_workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        (entry,) = pool.ledger("ilo-coop-enews/2020-11")
    assert entry.message_id == message_id


@pytest.mark.usefixtures("mail_server")
def test_bounces_read_imap_reads_the_configured_mailbox(
    run: Run, sending_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.imapserver import ImapServer

    address = recipient_of("gmail-no-such-user")
    listing = sending_workspace / "list.csv"
    listing.write_text(f"email\n{address}\n", "utf-8")
    run("subscribers", "import", str(listing))
    run("send", "ilo-coop-enews/2020-11", "--rate", "0", "--yes")
    config = load_config(sending_workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        (entry,) = pool.ledger("ilo-coop-enews/2020-11")
    report = answering("gmail-no-such-user", entry.message_id)
    human = (FIXTURES / "human-reply.eml").read_bytes()
    with ImapServer([report, human]) as server:
        toml = sending_workspace / "newsletter.toml"
        toml.write_text(
            toml.read_text()
            + (
                f'\n[bounces]\nimap_host = "127.0.0.1"\nimap_port = {server.port}\n'
                f'imap_user = "{server.user}"\nimap_security = "none"\n'
            ),
            "utf-8",
        )
        missing = run("bounces", "read", "--imap")
        assert missing.exit_code == 1
        assert "set $NEWSLETTER_IMAP_PASSWORD" in missing.stderr
        monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", server.password)
        result = run("bounces", "read", "--imap")
    assert result.exit_code == 0, result.stderr
    assert f"suppressed {address} (ilo-coop-enews/2020-11)" in result.stdout
    assert "left alone: imap://bounces@127.0.0.1/INBOX#20" in result.stderr
    assert not any("STORE" in command.upper() for command in server.commands)
