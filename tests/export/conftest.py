"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the sending tests, and a workspace set up
to send the sample issues through it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import ROOT

SIGNING_KEY = "test-signing-key"


@dataclass
class Received:
    recipient: str
    data: bytes
    sender: str = ""  # the envelope's (MAIL FROM)


@dataclass
class MailServer:
    """Accepts everything, except what `replies` says: address -> codes to answer in turn
    (at the end of DATA), and `refuse_rcpt`: address -> the reply to its RCPT TO. Offers
    PIPELINING, which aiosmtpd handles (it reads one command line at a time from its buffer
    and answers each in order) but does not announce."""

    port: int = 0
    messages: list[Received] = field(default_factory=list)
    replies: dict[str, list[str]] = field(default_factory=dict)
    refuse_rcpt: dict[str, str] = field(default_factory=dict)
    on_message: Callable[[int], None] | None = None  # called with the count, before the 250
    pipelining: bool = True
    hold: float = 0.0  # seconds each message is held before its answer
    at_once: int = 0  # messages held at the same moment, and the most there were
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, _server: Any, session: Any, _envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:  # fmt: skip
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, _server: Any, _session: Any, envelope: Any, address: str,
                          _options: list[str]) -> str:  # fmt: skip
        refusal = self.refuse_rcpt.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        (recipient,) = envelope.rcpt_tos
        if self.hold:
            with self.lock:
                self.at_once += 1
                self.most_at_once = max(self.most_at_once, self.at_once)
            await asyncio.sleep(self.hold)
            with self.lock:
                self.at_once -= 1
        with self.lock:
            planned = self.replies.get(recipient.lower())
            if planned:
                reply = planned.pop(0)
                if not reply.startswith("250"):
                    return reply
            received = Received(recipient.lower(), envelope.original_content, envelope.mail_from)
            self.messages.append(received)
            count = len(self.messages)
        if self.on_message:
            self.on_message(count)
        return "250 2.0.0 OK queued"

    def for_recipient(self, address: str) -> list[Received]:
        return [m for m in self.messages if m.recipient == address.lower()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port, data_size_limit=0)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def sending_workspace(
    workspace: Path, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The sample workspace pointed at the test server, with the sample issues in it."""
    toml = workspace / "newsletter.toml"
    text = toml.read_text()
    text = text.replace('host = "smtp.example.org"', 'host = "127.0.0.1"')
    text = text.replace("port = 587", f"port = {mail_server.port}")
    text = text.replace('security = "starttls"', 'security = "none"')
    text = text.replace('user = "coop-enews"\n', "")
    toml.write_text(text, "utf-8")
    folder = workspace / "issues" / "ilo-coop-enews"
    folder.mkdir(parents=True)
    for slug in ("2020-10", "2020-11"):
        source = ROOT / "issues" / "ilo-coop-enews" / f"{slug}.toml"
        (folder / f"{slug}.toml").write_text(source.read_text(), "utf-8")
    monkeypatch.setenv("NEWSLETTER_SIGNING_KEY", SIGNING_KEY)
    return workspace


def set_smtp(workspace: Path, **settings: object) -> None:
    """Change keys of the [smtp] table of the workspace's config."""
    toml = workspace / "newsletter.toml"
    lines = toml.read_text("utf-8").split("\n")
    start = lines.index("[smtp]") + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    table = dict(line.split(" = ", 1) for line in lines[start:end])
    for name, value in settings.items():
        table[name] = f'"{value}"' if isinstance(value, str) else str(value)
    lines[start:end] = [f"{name} = {value}" for name, value in table.items()]
    toml.write_text("\n".join(lines), "utf-8")


def write_subscribers(path: Path, count: int, extra: str = "") -> list[str]:
    addresses = [f"reader{n:05d}@example.org" for n in range(count)]
    lines = ["email,name", *(f"{a},Reader {n}" for n, a in enumerate(addresses)), extra]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return addresses
