"""When the server fails rather than a recipient, the run stops soon with exit 1 and a ledger
to resume from; only a recipient's own refusal marks them; internationalised addresses and
odd names never stop a send (a real aiosmtpd server, and raw sockets for a hung one)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_string, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import Result

from newsletter.config import load_config
from newsletter.pool import Pool
from tests.export.conftest import MailServer, free_port, set_smtp, write_subscribers

Run = Callable[..., Result]
ISSUE = "ilo-coop-enews/2020-11"
FAST = ("--rate", "0", "--retry-delay", "0.01")


def ledger_states(workspace: Path) -> dict[str, int]:
    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        return dict(pool.send_states(ISSUE))


def one_line(result: Result) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def hung_server() -> Iterator[int]:
    """Accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_starttls_required_but_not_offered_stops_at_once_and_marks_nobody(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    write_subscribers(sending_workspace / "subscribers.csv", 50)
    set_smtp(sending_workspace, security="starttls")
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST)
    assert result.exit_code == 1
    assert "does not offer STARTTLS" in one_line(result)
    assert mail_server.messages == []
    assert ledger_states(sending_workspace) == {"pending": 50}  # resumable, nobody failed
    proof = run("send", ISSUE, "--to", "editor@example.org")
    assert proof.exit_code == 1
    assert "does not offer STARTTLS" in one_line(proof)


@pytest.mark.parametrize("connections", [1, 4])
def test_a_hung_server_stops_the_run_within_seconds(
    run: Run, sending_workspace: Path, hung_server: int, connections: int
) -> None:
    write_subscribers(sending_workspace / "subscribers.csv", 2000)
    set_smtp(sending_workspace, port=hung_server, timeout=0.5, connections=connections)
    began = time.monotonic()
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST, "--max-attempts", "3")
    elapsed = time.monotonic() - began
    assert result.exit_code == 1
    line = one_line(result)
    assert "no answer in time (3 attempts)" in line
    assert "run the same command to go on" in line
    assert elapsed < 30  # three timeouts of 0.5 s and short pauses, not hours
    assert ledger_states(sending_workspace) == {"pending": 2000}


def test_a_refused_connection_stops_the_run(run: Run, sending_workspace: Path) -> None:
    write_subscribers(sending_workspace / "subscribers.csv", 20)
    set_smtp(sending_workspace, port=free_port())  # nobody listens there
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST, "--max-attempts", "2")
    assert result.exit_code == 1
    assert "cannot reach 127.0.0.1" in one_line(result)
    assert ledger_states(sending_workspace) == {"pending": 20}


@pytest.mark.parametrize("connections", [1, 4])
def test_the_same_refusal_for_every_message_stops_the_run_and_retry_failed_resumes(
    run: Run, sending_workspace: Path, mail_server: MailServer, connections: int
) -> None:
    set_smtp(sending_workspace, connections=connections)
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 30)
    for address in addresses:
        mail_server.replies[address] = ["554 5.7.1 Message content rejected"]
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST)
    assert result.exit_code == 1
    line = one_line(result)
    assert "to the last 10 recipients in a row" in line
    assert "--retry-failed" in line
    states = ledger_states(sending_workspace)
    failed = states["failed"]  # the other connections' refusals in flight are recorded too
    assert 10 <= failed <= 10 + connections - 1
    assert states == {"failed": failed, "pending": 30 - failed}

    mail_server.replies.clear()  # the cause is fixed
    again = run("send", ISSUE, "--list", "subscribers.csv", *FAST)
    assert again.exit_code == 0, again.stderr
    assert f"sent {30 - failed}" in again.stdout
    assert ledger_states(sending_workspace) == {"failed": failed, "sent": 30 - failed}
    retried = run("send", ISSUE, "--list", "subscribers.csv", *FAST, "--retry-failed")
    assert retried.exit_code == 0, retried.stderr
    assert f"sent {failed}, already sent {30 - failed}" in retried.stdout
    assert f"retried {failed}" in retried.stdout
    assert sorted(m.recipient for m in mail_server.messages) == addresses


def test_a_run_where_every_recipient_failed_exits_1(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 3)
    for address in addresses:
        mail_server.replies[address] = ["550 5.1.1 No such user"]
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST)
    assert result.exit_code == 1
    assert "every recipient of this run failed (3)" in one_line(result)
    assert ledger_states(sending_workspace) == {"failed": 3}


@pytest.mark.parametrize("connections", [1, 4])
def test_421_is_about_the_server_not_the_recipient(
    run: Run, sending_workspace: Path, mail_server: MailServer, connections: int
) -> None:
    set_smtp(sending_workspace, connections=connections)
    addresses = write_subscribers(sending_workspace / "subscribers.csv", 3)
    mail_server.replies[addresses[1]] = ["421 4.3.2 Service shutting down", "421 4.3.2 Busy"]
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST, "--max-attempts", "4")
    assert result.exit_code == 0, result.stderr
    assert "sent 3, already sent 0, suppressed 0, failed 0, deferred 0" in result.stdout
    assert len(mail_server.for_recipient(addresses[1])) == 1


def other_server(workspace: Path, smtputf8: bool) -> Iterator[MailServer]:
    """A server that does or does not offer SMTPUTF8; the workspace is pointed at it."""
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port, data_size_limit=0,
                            enable_SMTPUTF8=smtputf8)  # fmt: skip
    controller.start()
    set_smtp(workspace, port=server.port)
    yield server
    controller.stop()


@pytest.fixture
def utf8_server(sending_workspace: Path) -> Iterator[MailServer]:
    yield from other_server(sending_workspace, smtputf8=True)


@pytest.fixture
def ascii_server(sending_workspace: Path) -> Iterator[MailServer]:
    yield from other_server(sending_workspace, smtputf8=False)


def subscriber_list(workspace: Path, *rows: str) -> None:
    (workspace / "subscribers.csv").write_text("email,name\n" + "\n".join(rows) + "\n", "utf-8")


def test_an_internationalised_domain_goes_out_in_ascii_and_a_utf8_mailbox_is_refused_alone(
    run: Run, sending_workspace: Path, ascii_server: MailServer
) -> None:
    subscriber_list(sending_workspace, "user@exämple.com,Domain", "üser@example.org,Mailbox",
                    "plain@example.org,Plain")  # fmt: skip
    dry = run("send", ISSUE, "--list", "subscribers.csv", "--dry-run")
    assert "would send 3" in dry.stdout
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST)
    assert result.exit_code == 0, result.stderr
    assert "sent 2, already sent 0, suppressed 0, failed 1" in result.stdout
    assert "üser@example.org: the address is not ASCII and the server does not offer SMTPUTF8" in (
        result.stderr
    )
    assert sorted(m.recipient for m in ascii_server.messages) == [
        "plain@example.org",
        "user@xn--exmple-cua.com",
    ]
    again = run("send", ISSUE, "--list", "subscribers.csv", *FAST)  # resumes, no crash
    assert again.exit_code == 0
    assert "sent 0, already sent 2, suppressed 0, failed 0" in again.stdout


def test_a_utf8_mailbox_goes_out_with_smtputf8_when_the_server_offers_it(
    run: Run, sending_workspace: Path, utf8_server: MailServer
) -> None:
    subscriber_list(sending_workspace, "üser@example.org,Ünal")
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST)
    assert result.exit_code == 0, result.stderr
    (received,) = utf8_server.messages
    assert received.recipient == "üser@example.org"
    # RFC 6532: the header is UTF-8 (the bytes parser would read it as ASCII)
    message = message_from_string(received.data.decode("utf-8"), policy=policy.SMTPUTF8)
    assert message["To"].addresses[0].addr_spec == "üser@example.org"  # type: ignore[index]
    assert message["To"].addresses[0].display_name == "Ünal"  # type: ignore[index]


def test_a_3000_character_name_is_left_out_and_the_subscriber_still_gets_the_issue(
    run: Run, sending_workspace: Path, mail_server: MailServer
) -> None:
    subscriber_list(sending_workspace, "long@example.org," + "N" * 3000)
    result = run("send", ISSUE, "--list", "subscribers.csv", *FAST)
    assert result.exit_code == 0, result.stderr
    assert "subscribers.csv:2: the name: 3,000 characters" in result.stderr.replace("\n", "")
    assert "sent without a name" in result.stderr.replace("\n", "")
    (received,) = mail_server.messages
    head = received.data.split(b"\r\n\r\n")[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert b"To: long@example.org\r\n" in received.data
