"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1): proofs, bulk sends, retries,
suppressions, and resuming after the sending process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import Result

from newsletter.config import load_config
from newsletter.export.mime import signed_unsubscribe_url
from newsletter.pool import Pool
from tests.export.conftest import SIGNING_KEY, MailServer, write_subscribers

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


def test_a_bulk_send_to_1000_each_with_their_own_unsubscribe_link(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
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


def test_killed_sends_resume_without_a_second_message(
    sending_workspace: Path, mail_server: MailServer
) -> None:
    """Kill the sending process at several points (once while the server holds a message it
    has not yet acknowledged), then run it again until it finishes."""
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
    assert 0 <= duplicates <= kills
    assert ledger_states(sending_workspace) == {"sent": 120}
    time.sleep(0)  # (the server thread is stopped by its fixture)
