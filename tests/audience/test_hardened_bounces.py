"""Found in review: bounces matched by a VERP token read as a LIKE pattern."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.config import load_config
from newsletter.pool import Pool

Run = Callable[..., Result]
FROM = "coop-enews@newsletters.example.org"  # the sample's From, the VERP base by default


def forged_dsn(to: str) -> bytes:
    """A delivery report anyone can mail to the From address's plus-address: it quotes no
    Message-ID of ours, only the (made-up) VERP token in its To."""
    return (
        "From: MAILER-DAEMON@mx.attacker.example\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <forged-1@attacker.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.attacker.example\r\n\r\n"
        "Final-Recipient: rfc822; nobody@attacker.example\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        "--b--\r\n"
    ).encode()


@pytest.mark.usefixtures("mail_server")
def test_a_forged_bounce_with_underscores_in_its_verp_token_suppresses_no_one(
    run: Run, sending_workspace: Path
) -> None:
    listing = sending_workspace / "list.csv"
    listing.write_text("email\nana@example.org\nbob@example.org\n", "utf-8")
    assert run("subscribers", "import", str(listing)).exit_code == 0
    assert run("send", "ilo-coop-enews/2020-11", "--rate", "0", "--yes").exit_code == 0
    config = load_config(sending_workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        ids = [e.message_id for e in pool.ledger("ilo-coop-enews/2020-11")]
    # <2020-11.<32 hex>@domain>: the attacker knows the slug, not the random part.
    length = len(ids[0].strip("<>").partition("@")[0])
    local, _, domain = FROM.partition("@")
    box = mailbox.mbox(sending_workspace / "forged.mbox")
    box.add(forged_dsn(f"{local}+{'_' * length}@{domain}"))
    box.close()

    result = run("bounces", "read", str(sending_workspace / "forged.mbox"))

    assert result.exit_code == 0, result.stderr
    with Pool.open(config.database_url) as pool:
        status = {r.address: r.status for r in pool.subscribers("ilo-coop-enews")}
    # No send of ours has this token: nobody should be suppressed.
    assert status == {"ana@example.org": "active", "bob@example.org": "active"}, result.stdout


@pytest.mark.usefixtures("mail_server")
def test_a_mailbox_read_twice_counts_nothing_twice_when_an_address_bounced_two_issues(
    run: Run, sending_workspace: Path
) -> None:
    from tests.audience.test_bounces_applied import answering, recipient_of, write_mbox

    address = recipient_of("postfix-user-unknown")
    listing = sending_workspace / "list.csv"
    listing.write_text(f"email\n{address}\n", "utf-8")
    assert run("subscribers", "import", str(listing)).exit_code == 0
    for issue in ("ilo-coop-enews/2020-10", "ilo-coop-enews/2020-11"):
        assert run("send", issue, "--rate", "0", "--yes").exit_code == 0
    config = load_config(sending_workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        ids = [pool.ledger(f"ilo-coop-enews/{s}")[0].message_id for s in ("2020-10", "2020-11")]
    first = answering("postfix-user-unknown", ids[0])
    second = answering("postfix-user-unknown", ids[1]).replace(
        b"Message-Id: <", b"Message-Id: <other-"
    )
    assert first != second
    box = write_mbox(sending_workspace / "b.mbox", [first, second])
    assert run("bounces", "read", str(box)).exit_code == 0

    again = run("bounces", "read", str(box))

    assert again.stdout.splitlines()[-1].startswith("0 suppressed"), again.stdout


@pytest.mark.usefixtures("mail_server")
def test_a_bounce_for_another_address_than_the_one_sent_to_does_not_suppress_it(
    run: Run, sending_workspace: Path
) -> None:
    """A message to a list address (team@) expanded to its members, or to an address that
    forwards elsewhere: one member's mailbox is gone, the DSN quotes our Message-ID and names
    that member, not team@."""
    from tests.audience.test_bounces_applied import answering, recipient_of, write_mbox

    member = recipient_of("postfix-user-unknown")
    listing = sending_workspace / "list.csv"
    listing.write_text("email\nteam@example.org\n", "utf-8")
    assert run("subscribers", "import", str(listing)).exit_code == 0
    assert run("send", "ilo-coop-enews/2020-11", "--rate", "0", "--yes").exit_code == 0
    config = load_config(sending_workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        (entry,) = pool.ledger("ilo-coop-enews/2020-11")
    box = write_mbox(
        sending_workspace / "b.mbox", [answering("postfix-user-unknown", entry.message_id)]
    )

    result = run("bounces", "read", str(box))

    assert member != "team@example.org"
    with Pool.open(config.database_url) as pool:
        (record,) = pool.subscribers("ilo-coop-enews")
    assert record.status == "active", result.stdout
