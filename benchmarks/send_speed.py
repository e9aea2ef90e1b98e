"""Measure sending: personalised messages per second (render once and substitute, against an
EmailMessage built per recipient), and a bulk send to a local SMTP server.

    .venv/bin/python benchmarks/send_speed.py                 # the figures for the README
    .venv/bin/python benchmarks/send_speed.py --messages 20000 --send 2000   # quicker

Both builders write to a null sink; the naive one is timed on fewer messages (it is slow) and
reported per second like the other. The bulk send goes through `newsletter send` in-process to
aiosmtpd on 127.0.0.1, with a throwaway SQLite ledger.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.config import load_config  # noqa: E402
from newsletter.export import prepared_email  # noqa: E402
from newsletter.export.mime import build_message, fill_merge_tags, signed_unsubscribe_url  # noqa: E402
from newsletter.export.personalise import MessageTemplate  # noqa: E402
from newsletter.issue import read_issue  # noqa: E402

TARGET_PER_SECOND = 10_000
TARGET_RATIO = 30
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


def bulk_send(count: int) -> float:
    from aiosmtpd.controller import Controller
    from click.testing import CliRunner

    from newsletter.cli import cli

    class Discard:
        received = 0

        async def handle_DATA(self, *_: object) -> str:
            Discard.received += 1
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    folder = Path(tempfile.mkdtemp(prefix="send-speed-"))
    try:
        text = (REPO / "newsletter.toml").read_text()
        text = text.replace('host = "smtp.example.org"', 'host = "127.0.0.1"')
        text = text.replace("port = 587", f"port = {port}").replace('"starttls"', '"none"')
        text = text.replace('user = "coop-enews"\n', "")
        (folder / "newsletter.toml").write_text(text)
        shutil.copytree(REPO / "examples", folder / "examples")
        shutil.copytree(REPO / "issues", folder / "issues")
        lines = ["email,name", *(f"{a},{n}" for a, n in recipients(count))]
        (folder / "subscribers.csv").write_text("\n".join(lines) + "\n")
        os.environ["NEWSLETTER_SIGNING_KEY"] = KEY.decode()
        os.environ["NEWSLETTER_DATABASE_URL"] = f"sqlite:///{folder / 'pool.db'}"
        os.chdir(folder)
        started = time.perf_counter()
        result = CliRunner().invoke(
            cli, ["send", "ilo-coop-enews/2020-11", "--list", "subscribers.csv", "--rate", "0"]
        )
        elapsed = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        assert Discard.received == count, (Discard.received, count)
        return elapsed
    finally:
        controller.stop()
        os.chdir(REPO)
        shutil.rmtree(folder)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=5_000, help="messages for the naive path")
    parser.add_argument("--send", type=int, default=10_000, help="messages for the bulk send")
    args = parser.parse_args(argv)

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
    send_seconds = bulk_send(args.send)
    print(
        f"bulk send to aiosmtpd on 127.0.0.1: {args.send:,} messages in {send_seconds:.1f} s "
        f"= {args.send / send_seconds:,.0f} msg/s (ledger on SQLite, one commit per message)"
    )
    ok = fast_rate >= TARGET_PER_SECOND and fast_rate / naive_rate >= TARGET_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
