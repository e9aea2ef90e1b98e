"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1): proofs, bulk sends, retries,
suppressions, and resuming after the sending process is killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.config import SmtpConfig, load_config
from newsletter.export.mime import signed_unsubscribe_url
from newsletter.export.smtp import PermanentFailure, SmtpTransport
from newsletter.pool import Pool
from newsletter.verp import verp_address, verp_token
from tests.export.conftest import SIGNING_KEY, MailServer, set_smtp, write_subscribers

Run = Callable[..., Result]
ISSUE = "ilo-coop-enews/2020-11"
UNSUBSCRIBE = "https://newsletters.example.org/ilo-coop-enews/unsubscribe"


def parsed(data: bytes) -> object:
    return message_from_bytes(data, policy=policy.default)


def ledger_states(workspace: Path) -> dict[str, int]:
    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        return dict(pool.send_states(ISSUE))


def test_a_proof(run: Run, sending_workspace: Path, mail_server: MailServer) -> None:
    result = run("send", ISSUE, "--to", "editor@example.org")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("proof sent to editor@example.org: 250 ")
    (received,) = mail_server.messages
    message = parsed(received.data)
    assert message["Subject"] == "[PROOF] ILO COOP eNews - November issue"  # type: ignore[index]
    assert message["To"] == "editor@example.org"  # type: ignore[index]
    assert ledger_states(sending_workspace) == {}  # proofs are not in the ledger
    # The unsubscribe link the editor would get from a list send: their own, one click.
    own = signed_unsubscribe_url(UNSUBSCRIBE, "editor@example.org", "ilo-coop-enews",
                                 SIGNING_KEY.encode())  # fmt: skip
    assert f"<{own}>" in message["List-Unsubscribe"]  # type: ignore[index]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # type: ignore[index]
    assert received.data.count(b"MIME-Version") == 1


@pytest.mark.usefixtures("sending_workspace")
def test_a_proof_without_the_signing_key_promises_no_one_click(
    run: Run, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSLETTER_SIGNING_KEY")
    assert run("send", ISSUE, "--to", "editor@example.org").exit_code == 0
    (received,) = mail_server.messages
    message = parsed(received.data)
    assert f"<{UNSUBSCRIBE}>" in message["List-Unsubscribe"]  # type: ignore[index]
    assert message["List-Unsubscribe-Post"] is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("pipelining", "connections"), [(True, 1), (False, 1), (True, 4)],
    ids=["pipelined", "one-by-one", "4-connections"],
)  # fmt: skip
def test_a_bulk_send_to_1000_each_with_their_own_unsubscribe_link(
    run: Run, sending_workspace: Path, mail_server: MailServer, pipelining: bool,
    connections: int,
) -> None:  # fmt: skip
    mail_server.pipelining = pipelining
    set_smtp(sending_workspace, connections=connections)
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 1000)
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        f"{ISSUE}: sent 1000, already sent 0, suppressed 0, failed 0, deferred 0, "
        "skipped from the list 0"
    )
    assert sorted(m.recipient for m in mail_server.messages) == addresses
    message_ids = set()
    for received in mail_server.messages:
        message = parsed(received.data)
        expected = signed_unsubscribe_url(UNSUBSCRIBE, received.recipient, "ilo-coop-enews",
                                          SIGNING_KEY.encode())  # fmt: skip
        text = message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
        html = message.get_body(("html",)).get_content()  # type: ignore[attr-defined]
        assert f"Unsubscribe:\n{expected}\n" in text.replace("\r\n", "\n")
        assert f'href="{expected.replace("&", "&amp;")}"' in html
        assert expected in message["List-Unsubscribe"]  # type: ignore[index]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # type: ignore[index]
        assert received.recipient.split("@")[0] not in expected  # the address is not readable
        assert message["To"].addresses[0].addr_spec == received.recipient  # type: ignore[index]
        message_ids.add(message["Message-ID"])  # type: ignore[index]
    assert len(message_ids) == 1000
    assert ledger_states(sending_workspace) == {"sent": 1000}

    again = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert "sent 0, already sent 1000" in again.stdout
    assert len(mail_server.messages) == 1000


def test_a_temporary_failure_is_retried_and_delivered_once(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 3)
    mail_server.replies[addresses[1]] = ["451 4.7.1 Greylisted, try again", "250 OK"]
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0",
                 "--retry-delay", "0.01")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "sent 3" in result.stdout
    assert len(mail_server.for_recipient(addresses[1])) == 1
    assert len(mail_server.messages) == 3


def test_a_permanent_failure_is_recorded_and_not_retried(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 3)
    mail_server.replies[addresses[0]] = ["550 5.1.1 No such user"] * 5
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0",
                 "--retry-delay", "0.01")  # fmt: skip
    assert result.exit_code == 0
    assert "sent 2, already sent 0, suppressed 0, failed 1" in result.stdout
    assert f"failed: {addresses[0]}: 550 5.1.1 No such user" in result.stderr
    assert mail_server.replies[addresses[0]] == ["550 5.1.1 No such user"] * 4  # asked once
    assert ledger_states(sending_workspace) == {"sent": 2, "failed": 1}
    run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert len(mail_server.replies[addresses[0]]) == 4  # not asked again on the next run


def test_temporary_failures_past_the_attempts_are_deferred(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 2)
    mail_server.replies[addresses[0]] = ["451 4.3.2 Busy"] * 2
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0",
                 "--retry-delay", "0.01", "--max-attempts", "2")  # fmt: skip
    assert result.exit_code == 1
    assert "deferred 1" in result.stdout
    assert ledger_states(sending_workspace) == {"sent": 1, "deferred": 1}
    later = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert later.exit_code == 0
    assert "sent 1, already sent 1" in later.stdout
    assert len(mail_server.for_recipient(addresses[0])) == 1


def test_suppressed_addresses_are_not_sent_to(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 4)
    assert run("suppress", "add", addresses[2].upper(), "--reason", "bounced").exit_code == 0
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert "sent 3, already sent 0, suppressed 1" in result.stdout
    assert mail_server.for_recipient(addresses[2]) == []
    listed = run("suppress", "list")
    assert f"{addresses[2]}  bounced" in listed.stdout


def test_a_dry_run_sends_and_records_nothing(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    write_subscribers(sending_workspace / "subscribers.csv", 5, extra="broken,Someone")
    result = run("send", ISSUE, "--list", "subscribers.csv", "--dry-run")
    assert result.exit_code == 0
    assert "would send 5" in result.stdout
    assert "skipped from the list 1" in result.stdout
    assert "subscribers.csv:7: invalid address" in result.stderr
    assert mail_server.messages == []
    assert ledger_states(sending_workspace) == {}


@pytest.mark.parametrize("connections", [1, 4])
def test_killed_sends_resume_without_a_second_message(
    sending_workspace: Path, mail_server: MailServer, connections: int
) -> None:
    """Kill the sending process at several points (once while the server holds a message it
    has not yet acknowledged), then run it again until it finishes. Only the messages in
    flight may arrive twice: one per connection at most."""
    set_smtp(sending_workspace, connections=connections)
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 120)
    kill_after = {15, 50, 51, 90}
    process: list[subprocess.Popen[bytes]] = []

    def kill_at(count: int) -> None:
        if count in kill_after and process and process[-1].poll() is None:
            os.kill(process[-1].pid, signal.SIGKILL)  # before the server says 250
            process[-1].wait()

    mail_server.on_message = kill_at
    command = [sys.executable, "-m", "newsletter", "send", ISSUE, "--list", "subscribers.csv",
               "--rate", "0"]  # fmt: skip
    kills = 0
    for _ in range(10):
        process.append(
            subprocess.Popen(command, cwd=sending_workspace, env=os.environ.copy(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        )  # fmt: skip
        _, err = process[-1].communicate(timeout=120)
        if process[-1].returncode == -signal.SIGKILL:
            kills += 1
            continue
        assert process[-1].returncode == 0, err.decode()
        break
    assert kills >= 3
    ids: dict[str, set[str]] = defaultdict(set)
    for received in mail_server.messages:
        ids[received.recipient].add(str(parsed(received.data)["Message-ID"]))  # type: ignore[index]
    assert sorted(ids) == addresses  # everyone has it
    assert all(len(found) == 1 for found in ids.values())  # never two different messages
    duplicates = len(mail_server.messages) - len(addresses)
    assert 0 <= duplicates <= kills * connections
    assert ledger_states(sending_workspace) == {"sent": 120}
    time.sleep(0)  # (the server thread is stopped by its fixture)


def test_four_connections_are_four_sessions_at_once(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    set_smtp(sending_workspace, connections=4)
    mail_server.hold = 0.05  # long enough for every connection to bring a message meanwhile
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 40)
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert "sent 40, already sent 0" in result.stdout
    assert mail_server.most_at_once == 4
    assert sorted(m.recipient for m in mail_server.messages) == addresses


def test_the_rate_is_for_the_whole_run_whatever_the_connections(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    set_smtp(sending_workspace, connections=4)
    write_subscribers(sending_workspace / "subscribers.csv", 25)
    began = time.monotonic()
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "50")
    elapsed = time.monotonic() - began
    assert result.exit_code == 0, result.stderr
    assert len(mail_server.messages) == 25
    assert elapsed >= 24 / 50  # 24 intervals of 20 ms, not a quarter of them


@pytest.mark.parametrize("connections", [1, 4])
def test_a_recipient_refused_at_rcpt_while_pipelined_fails_alone(
    run: Run, sending_workspace: Path, mail_server: MailServer, connections: int
) -> None:
    """MAIL, RCPT and DATA go together; the RCPT's 550 marks that recipient (the DATA's 503
    after it is no one's), the transaction is reset, and the next ones go through."""
    set_smtp(sending_workspace, connections=connections)
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 12)
    refused = {addresses[1], addresses[6]}
    mail_server.refuse_rcpt = dict.fromkeys(refused, "550 5.1.1 No such user here")
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    assert "sent 10, already sent 0, suppressed 0, failed 2, deferred 0" in result.stdout
    for address in refused:
        assert f"failed: {address}: 550 5.1.1 No such user here" in result.stderr
    assert sorted(m.recipient for m in mail_server.messages) == sorted(set(addresses) - refused)
    assert ledger_states(sending_workspace) == {"sent": 10, "failed": 2}


def test_verp_gives_each_message_its_own_envelope_sender(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    toml = sending_workspace / "newsletter.toml"
    toml.write_text(toml.read_text("utf-8").replace(
        "[newsletters.ilo-coop-enews.sender]\n",
        '[newsletters.ilo-coop-enews.sender]\nverp = true\nreturn_path = "bounces@ilo.org"\n',
    ), "utf-8")  # fmt: skip
    set_smtp(sending_workspace, connections=4)
    write_subscribers(sending_workspace / "subscribers.csv", 30)
    result = run("send", ISSUE, "--list", "subscribers.csv", "--rate", "0")
    assert result.exit_code == 0, result.stderr
    senders = set()
    for received in mail_server.messages:
        message_id = str(parsed(received.data)["Message-ID"])  # type: ignore[index]
        assert received.sender == verp_address("bounces@ilo.org", message_id)
        token = verp_token(received.sender, "bounces@ilo.org")
        assert token is not None
        assert message_id == f"<{token}@newsletters.example.org>"  # the Message-ID's left part
        assert b"Return-Path" not in received.data.split(b"\r\n\r\n")[0]  # the server's to add
        senders.add(received.sender)
    assert len(senders) == 30

    proof = run("send", ISSUE, "--to", "editor@example.org")
    assert proof.exit_code == 0, proof.stderr
    last = mail_server.messages[-1]
    assert verp_token(last.sender, "bounces@ilo.org") is not None  # as the list's would be


def test_pipelined_commands_go_together_and_a_refused_rcpt_is_reset() -> None:
    """A server that answers nothing until MAIL, RCPT and DATA have all come (a client that
    waited for each answer would hang here), refuses the recipient at RCPT and so DATA too:
    that recipient fails alone, RSET clears the transaction, and the next message goes."""
    listener = socket.create_server(("127.0.0.1", 0))
    heard: list[str] = []

    def serve() -> None:
        connection, _ = listener.accept()
        connection.settimeout(10)
        with connection, connection.makefile("rb") as lines:

            def hear(count: int) -> None:
                heard.extend(lines.readline().decode().rstrip("\r\n") for _ in range(count))

            def say(*replies: str) -> None:
                connection.sendall("".join(f"{reply}\r\n" for reply in replies).encode())

            say("220 scripted")
            hear(1)
            say("250-scripted", "250-PIPELINING", "250 HELP")
            hear(3)
            say("250 2.1.0 OK", "550 5.1.1 No such user", "503 5.5.1 No valid recipients")
            hear(1)
            say("250 2.0.0 Reset")
            hear(3)
            say("250 2.1.0 OK", "250 2.1.5 OK", "354 Go ahead")
            while not heard or heard[-1] != ".":
                hear(1)
            say("250 2.0.0 Queued as 1")
            hear(1)
            say("221 Bye")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    transport = SmtpTransport(SmtpConfig(port=port, security="none", timeout=5), None)
    with pytest.raises(PermanentFailure) as refused:
        transport.send("news@example.org", "gone@example.org", b"Subject: 1\r\n\r\nOne\r\n")
    assert (refused.value.code, refused.value.reply) == (550, "5.1.1 No such user")
    reply = transport.send("news@example.org", "here@example.org", b"Subject: 2\r\n\r\n.Two")
    assert reply == (250, "2.0.0 Queued as 1")
    transport.close()
    thread.join(timeout=10)
    listener.close()
    assert heard[1:] == [
        "MAIL FROM:<news@example.org>", "RCPT TO:<gone@example.org>", "DATA",
        "rset",  # as smtplib writes it
        "MAIL FROM:<news@example.org>", "RCPT TO:<here@example.org>", "DATA",
        "Subject: 2", "", "..Two", ".",  # a leading dot doubled, the end of line added
        "quit",
    ]  # fmt: skip
