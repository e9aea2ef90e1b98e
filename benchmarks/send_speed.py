"""Measure sending: personalised messages per second (render once and substitute, against an
EmailMessage built per recipient), and bulk sends to a local SMTP server.

    .venv/bin/python benchmarks/send_speed.py                 # the figures for the README
    .venv/bin/python benchmarks/send_speed.py --messages 20000 --send 2000   # quicker
    .venv/bin/python benchmarks/send_speed.py --send-only     # the sends alone

Both builders write to a null sink; the naive one is timed on fewer messages (it is slow) and
reported per second like the other. The sends go, one after the other, to one aiosmtpd server
on 127.0.0.1 in a process of its own: plain smtplib on one connection (`sendmail` of the same
bytes to each recipient), then `newsletter send` in-process with `[smtp] connections` 1 and 4,
each with a new SQLite ledger.
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.config import load_config  # noqa: E402
from newsletter.export import prepared_email  # noqa: E402
from newsletter.export.mime import build_message, fill_merge_tags, signed_unsubscribe_url  # noqa: E402
from newsletter.export.personalise import MessageTemplate  # noqa: E402
from newsletter.issue import read_issue  # noqa: E402

TARGET_PER_SECOND = 10_000
TARGET_RATIO = 30
TODAY = 290  # msg/s of `newsletter send` before connections and pipelining (the issue's figure)
TARGET_ONE = 0.9  # one connection against plain smtplib
TARGET_FOUR = 2  # four connections against TODAY
KEY = b"benchmark-key"


class NullSink:
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data: bytes) -> None:
        self.bytes += len(data)


def recipients(count: int) -> list[tuple[str, str]]:
    return [(f"reader{n:06d}@example.org", f"Reader {n}") for n in range(count)]


def fast_path(count: int) -> tuple[float, int]:
    config = load_config(REPO / "newsletter.toml", environ={})
    issue = read_issue(REPO / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    email, newsletter = prepared_email(issue, config)
    base = newsletter.unsubscribe_url or ""
    sink = NullSink()
    started = time.perf_counter()
    template = MessageTemplate(email, newsletter, date=datetime.now(UTC))
    for number, (address, name) in enumerate(recipients(count)):
        url = signed_unsubscribe_url(base, address, newsletter.slug, KEY)
        sink.write(
            template.personalise(
                address,
                name,
                f"<{number}.2020-11@example.org>",
                {"unsubscribe_url": url, "subscriber_name": name},
            )
        )
    return time.perf_counter() - started, sink.bytes


def naive_path(count: int) -> tuple[float, int]:
    config = load_config(REPO / "newsletter.toml", environ={})
    issue = read_issue(REPO / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    email, newsletter = prepared_email(issue, config)
    base = newsletter.unsubscribe_url or ""
    sink = NullSink()
    now = datetime.now(UTC)
    started = time.perf_counter()
    for number, (address, name) in enumerate(recipients(count)):
        url = signed_unsubscribe_url(base, address, newsletter.slug, KEY)
        filled = fill_merge_tags(email, {"unsubscribe_url": url, "subscriber_name": name})
        message = build_message(
            filled,
            newsletter,
            message_id=f"<{number}@example.org>",
            date=now,
            to=(name, address),
            unsubscribe_url=url,
        )
        sink.write(message)
    return time.perf_counter() - started, sink.bytes


class Counting:
    """aiosmtpd's handler in the server process: counts what it accepts, and offers PIPELINING,
    which aiosmtpd does not announce but handles (it reads one command line at a time from its
    buffer, answers each in order, and discards nothing after a refusal)."""

    received = 0

    async def handle_EHLO(self, _server: object, session: Any, _envelope: object, hostname: str,
                          responses: list[str]) -> list[str]:  # fmt: skip
        session.host_name = hostname  # what aiosmtpd's own EHLO does when no hook is set
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, *_: object) -> str:
        Counting.received += 1
        return "250 OK"


def serve(port: int) -> None:
    """The SMTP server, in a process of its own as a real one would be: one line on stdin asks
    for the count of messages accepted so far; the end of stdin stops it."""
    from aiosmtpd.controller import Controller

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    for _line in sys.stdin:
        print(Counting.received, flush=True)
    controller.stop()


class Server:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout
        assert self.process.stdout.readline() == "ready\n"

    def received(self) -> int:
        assert self.process.stdin
        assert self.process.stdout
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def stop(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


def plain_smtplib(server: Server, count: int) -> float:
    """One smtplib connection, `sendmail` of one personalised copy to each recipient: the
    SMTP exchange alone, with no ledger and no personalising."""
    config = load_config(REPO / "newsletter.toml", environ={})
    issue = read_issue(REPO / "issues" / "ilo-coop-enews" / "2020-11.toml", config)
    email, newsletter = prepared_email(issue, config)
    template = MessageTemplate(email, newsletter, date=datetime.now(UTC))
    address, name = recipients(1)[0]
    url = signed_unsubscribe_url(newsletter.unsubscribe_url or "", address, newsletter.slug, KEY)
    data = template.personalise(address, name, "<0.2020-11@example.org>",
                                {"unsubscribe_url": url, "subscriber_name": name})  # fmt: skip
    before = server.received()
    connection = smtplib.SMTP("127.0.0.1", server.port)
    connection.ehlo()
    started = time.perf_counter()
    for address, _ in recipients(count):
        connection.sendmail("coop-enews@newsletters.example.org", [address], data)
    elapsed = time.perf_counter() - started
    connection.quit()
    assert server.received() - before == count
    return elapsed


def bulk_send(server: Server, count: int, connections: int) -> float:
    """`newsletter send --list` in this process, with a new SQLite ledger each time."""
    from click.testing import CliRunner

    from newsletter.cli import cli

    folder = Path(tempfile.mkdtemp(prefix="send-speed-"))
    try:
        text = (REPO / "newsletter.toml").read_text()
        text = text.replace('host = "smtp.example.org"', 'host = "127.0.0.1"')
        text = text.replace("port = 587", f"port = {server.port}").replace('"starttls"', '"none"')
        text = text.replace('user = "coop-enews"\n', f"connections = {connections}\n")
        (folder / "newsletter.toml").write_text(text)
        shutil.copytree(REPO / "examples", folder / "examples")
        shutil.copytree(REPO / "issues", folder / "issues")
        lines = ["email,name", *(f"{a},{n}" for a, n in recipients(count))]
        (folder / "subscribers.csv").write_text("\n".join(lines) + "\n")
        os.environ["NEWSLETTER_SIGNING_KEY"] = KEY.decode()
        os.environ["NEWSLETTER_DATABASE_URL"] = f"sqlite:///{folder / 'pool.db'}"
        os.chdir(folder)
        before = server.received()
        started = time.perf_counter()
        result = CliRunner().invoke(
            cli, ["send", "ilo-coop-enews/2020-11", "--list", "subscribers.csv", "--rate", "0"]
        )
        elapsed = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        assert server.received() - before == count, (server.received() - before, count)
        return elapsed
    finally:
        os.chdir(REPO)
        shutil.rmtree(folder)


def sending(count: int) -> bool:
    """The three sends, one after the other, to one server; whether the targets are met."""
    server = Server()
    try:
        plain = count / plain_smtplib(server, count)
        one = count / bulk_send(server, count, 1)
        four = count / bulk_send(server, count, 4)
    finally:
        server.stop()
    print(f"to aiosmtpd on 127.0.0.1 (its own process, PIPELINING offered), {count:,} each:")
    print(f"  plain smtplib, one connection:  {plain:6,.0f} msg/s")
    print(f"  newsletter send, 1 connection:  {one:6,.0f} msg/s = {one / plain:.2f}x smtplib "
          f"(target >= {TARGET_ONE:.1f}x)")  # fmt: skip
    print(
        f"  newsletter send, 4 connections: {four:6,.0f} msg/s = {four / TODAY:.2f}x the "
        f"{TODAY} msg/s before (target >= {TARGET_FOUR:.0f}x), {four / one:.2f}x 1 connection"
    )
    return one / plain >= TARGET_ONE and four / TODAY >= TARGET_FOUR


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=5_000, help="messages for the naive path")
    parser.add_argument("--send", type=int, default=10_000, help="messages for each send")
    parser.add_argument("--send-only", action="store_true", help="skip building messages")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if args.send_only:
        return 0 if sending(args.send) else 1

    fast_seconds, fast_bytes = fast_path(args.messages)
    naive_seconds, _ = naive_path(args.naive)
    fast_rate = args.messages / fast_seconds
    naive_rate = args.naive / naive_seconds
    print(
        f"render once + substitute: {args.messages:,} messages in {fast_seconds:.2f} s = "
        f"{fast_rate:,.0f} msg/s ({fast_bytes / args.messages:,.0f} bytes each)"
    )
    print(
        f"EmailMessage per recipient: {args.naive:,} messages in {naive_seconds:.2f} s = "
        f"{naive_rate:,.0f} msg/s"
    )
    print(
        f"ratio: {fast_rate / naive_rate:,.0f}x  (targets: >= {TARGET_PER_SECOND:,} msg/s, "
        f">= {TARGET_RATIO}x)"
    )
    sent_ok = sending(args.send)
    ok = fast_rate >= TARGET_PER_SECOND and fast_rate / naive_rate >= TARGET_RATIO and sent_ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
