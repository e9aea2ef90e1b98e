"""Two or three `newsletter send` runs on one issue at once, some killed: nobody gets the
issue twice, nobody is lost (a real aiosmtpd server, real processes, SQLite or PostgreSQL),
with one SMTP connection each or four."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.pool import Pool
from tests.export.conftest import MailServer, set_smtp, write_subscribers

ISSUE = "ilo-coop-enews/2020-11"
RECIPIENTS = 2000
SEND = [sys.executable, "-m", "newsletter", "send", ISSUE, "--list", "subscribers.csv",
        "--rate", "0"]  # fmt: skip


def start(workspace: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(SEND, cwd=workspace, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def ledger_states(workspace: Path) -> dict[str, int]:
    config = load_config(workspace / "newsletter.toml")
    with Pool.open(config.database_url) as pool:
        return dict(pool.send_states(ISSUE))


def message_ids(server: MailServer) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for received in server.messages:
        message = message_from_bytes(received.data, policy=policy.default)
        found[received.recipient].add(str(message["Message-ID"]))
    return found


@pytest.mark.parametrize(("runs", "connections"), [(2, 1), (3, 1), (3, 4)])
def test_runs_at_once_send_each_recipient_exactly_once(
    sending_workspace: Path, mail_server: MailServer, runs: int, connections: int
) -> None:
    set_smtp(sending_workspace, connections=connections)
    addresses = write_subscribers(sending_workspace / "subscribers.csv", RECIPIENTS)
    processes = [start(sending_workspace) for _ in range(runs)]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    counts = Counter(received.recipient for received in mail_server.messages)
    assert sorted(counts) == addresses
    assert set(counts.values()) == {1}  # nobody twice
    sent = [int(re.search(rb"sent (\d+),", out)[1]) for out, _ in outputs]  # type: ignore[index]
    assert sum(sent) == RECIPIENTS  # each run reports only what it sent itself
    print(f"{runs} runs at once sent {sent}")
    assert ledger_states(sending_workspace) == {"sent": RECIPIENTS}


@pytest.mark.parametrize("connections", [1, 4])
def test_runs_killed_at_random_points_lose_nobody_and_repeat_only_what_was_in_flight(
    sending_workspace: Path, mail_server: MailServer, connections: int
) -> None:
    """Three runs at once; at random moments one of them is killed (SIGKILL, while the server
    holds a message it has not acknowledged) and a new one started, until the list is done.
    What was in flight is one message per connection of the run killed."""
    set_smtp(sending_workspace, connections=connections)
    addresses = write_subscribers(sending_workspace / "subscribers.csv", RECIPIENTS)
    chance = random.Random(20261202)
    kill_at = set(chance.sample(range(50, RECIPIENTS - 50), 5))
    live: list[subprocess.Popen[bytes]] = []
    lock = threading.Lock()
    kills = 0

    def maybe_kill(count: int) -> None:
        nonlocal kills
        if count not in kill_at:
            return
        with lock:
            running = [p for p in live if p.poll() is None]
            if running:
                victim = chance.choice(running)
                os.kill(victim.pid, signal.SIGKILL)  # before the server answers 250
                victim.wait()
                kills += 1

    mail_server.on_message = maybe_kill
    with lock:
        live.extend(start(sending_workspace) for _ in range(3))
    finished = 0
    for _ in range(30):  # each round: wait for the runs, start one for each that was killed
        for process in list(live):
            _out, err = process.communicate(timeout=300)
            with lock:
                live.remove(process)
                if process.returncode == -signal.SIGKILL:
                    live.append(start(sending_workspace))
                    continue
            assert process.returncode == 0, err.decode()
            finished += 1
        if not live:
            break
    assert kills == len(kill_at)
    ids = message_ids(mail_server)
    assert sorted(ids) == addresses  # nobody lost
    assert all(len(found) == 1 for found in ids.values())  # a repeat is the same message
    duplicates = len(mail_server.messages) - RECIPIENTS
    print(f"{kills} kills, {duplicates} messages delivered twice")
    assert 0 <= duplicates <= kills * connections
    assert ledger_states(sending_workspace) == {"sent": RECIPIENTS}
