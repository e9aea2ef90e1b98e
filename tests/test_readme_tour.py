"""The README's commands, typed in order, print what the README shows.

Every ```console block of README.md is read: a line starting with `$ ` is a command, the lines
after it (up to the next command or the block's end) are what it prints, stdout and stderr
together as a terminal shows them. The commands run in order, each in a process of its own
(`mkdir` and `cp` as themselves, `newsletter` forked from a process that has imported it: see
FORKER), with COLUMNS=100 as the README's tables were printed at:

- "Your own newsletter" in an empty scratch folder;
- "A tour with the sample data" from the repository's folder, where its first command copies
  the sample workspace to /tmp/tour and goes there (the test's own scratch folder stands in
  for /tmp/tour, in the commands and in what they print);
- `newsletter preview` and `newsletter archive serve` run until Ctrl-C: the test reads their
  first line, fetches the page they serve, and stops them with SIGINT;
- `newsletter send` goes to a real SMTP server the test starts on 127.0.0.1, which the scratch
  workspace's [smtp] is pointed at just before the first send (the reader points it at theirs).

Outputs are compared exactly, but for the values in MASKS (times that change from run to run,
the month `init` names, which is last month) and trailing spaces on a line, which a terminal
does not show. A command exits 1 when it prints an `Error:` line, 0 otherwise.

Set NEWSLETTER_UPDATE_README=1 to write what the commands print now into README.md (like
`make golden`: review the diff, and the prose around it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import ROOT

README = ROOT / "README.md"
NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
SCRATCH = "/tmp/tour"  # where the README's tour copies the sample workspace
COLUMNS = "100"  # the terminal width the README's tables were printed at

OWN = "Your own newsletter"
TOUR = "A tour with the sample data"

# Values that legitimately differ from one run to the next: (pattern, what it reads as).
MASKS: list[tuple[re.Pattern[str], str]] = [
    # when a source was last read (`newsletter sources`)
    (re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d UTC\b"), "YYYY-MM-DD hh:mm UTC"),
    # when something happened to a subscriber (`newsletter subscribers show`)
    (re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b"), "YYYY-MM-DD hh:mm:ss"),
    # a message's own Message-ID, random by design
    (re.compile(r"(?<=<2020-11\.)[0-9a-f]{32}(?=@)"), "0123456789abcdef0123456789abcdef"),
    # when an item was first seen and last updated (`newsletter items --format json`)
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00\b"), "YYYY-MM-DDThh:mm:ss+00:00"),
    # `newsletter init` dates its example source last month, and its advice names that month
    (re.compile(r"(?<=coop-weekly --month )\d{4}-\d\d\b"), "YYYY-MM"),
    (re.compile(r"(?<=coop-weekly/)\d{4}-\d\d\b"), "YYYY-MM"),
]

# Commands that serve until Ctrl-C: (subcommand words, default port).
SERVERS = {("preview",): 8025, ("archive", "serve"): 8000}

# Forty commands that each import SQLAlchemy and Alembic afresh take a minute of CPU; this
# process imports the package once, then forks a child per command: a process of its own, with
# its working folder, environment, and stdout and stderr on one file, that runs the console
# script's entry point (newsletter.cli:main) and exits with its status. Set
# NEWSLETTER_README_EXEC=1 to exec the installed `newsletter` for every command instead.
FORKER = r"""
import atexit, importlib, io, json, os, pkgutil, sys, traceback
import newsletter
for module in pkgutil.walk_packages(newsletter.__path__, "newsletter."):
    if ".migrations" not in module.name and not module.name.endswith("__main__"):
        importlib.import_module(module.name)
for name in ("alembic.command", "alembic.config", "alembic.script", "alembic.runtime.migration"):
    importlib.import_module(name)
from newsletter.cli import main
requests, answers = sys.stdin, sys.stdout
answers.write("ready\n"); answers.flush()
for request in requests:
    argv, cwd, env, output = json.loads(request)
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1); os.dup2(fd, 2); os.close(fd)
            sys.stdin = open(os.devnull)
            sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True,
                                          errors="backslashreplace")
            os.chdir(cwd); os.environ.clear(); os.environ.update(env)
            sys.argv = argv
            try:
                main(); status = 0
            except SystemExit as stop:
                code = stop.code
                if code is None or isinstance(code, int):
                    status = code or 0
                else:
                    print(code, file=sys.stderr); status = 1
            except BaseException:
                traceback.print_exc(); status = 1
            atexit._run_exitfuncs()
            sys.stdout.flush(); sys.stderr.flush()
        finally:
            os._exit(locals().get("status", 1))
    _, wait_status = os.waitpid(pid, 0)
    answers.write(json.dumps(os.waitstatus_to_exitcode(wait_status)) + "\n"); answers.flush()
"""


class Forker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", FORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._answer() == "ready"

    def _answer(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def run(self, argv: list[str], cwd: Path, env: dict[str, str], output: Path) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps([argv, str(cwd), env, str(output)]) + "\n")
        self.process.stdin.flush()
        watchdog = threading.Timer(60, self.process.kill)  # a command that hangs fails the test
        watchdog.start()
        try:
            return int(self._answer())
        finally:
            watchdog.cancel()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Command:
    line: int  # in README.md
    text: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    section: str  # the `## ` heading it is under
    line: int  # its opening fence, in README.md
    commands: list[Command] = field(default_factory=list)


def console_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    section = ""
    block: Block | None = None
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            if block is not None:
                blocks.append(block)
                block = None
                continue
            if not fenced and line.strip() == "```console":
                block = Block(section, number)
                continue
            fenced = not fenced
            continue
        if block is not None:
            if line.startswith("$ "):
                block.commands.append(Command(number, line[2:]))
            else:
                assert block.commands, f"README.md:{number}: output before any command"
                block.commands[-1].expected.append(line)
        elif not fenced and line.startswith("## "):
            section = line[3:].strip()
    return blocks


def normalise(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        out.append(line.rstrip())
    while out and not out[-1]:
        out.pop()
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Inbox:
    """An SMTP server's handler: accepts every message and keeps who it was for."""

    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


@dataclass
class MailServer:
    port: int
    inbox: Inbox


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(free_port(), Inbox())
    controller = Controller(server.inbox, hostname="127.0.0.1", port=server.port)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def forker() -> Iterator[Forker | None]:
    if os.environ.get("NEWSLETTER_README_EXEC") == "1":
        yield None
        return
    started = Forker()
    try:
        yield started
    finally:
        started.close()


def point_smtp_at(workspace: Path, port: int) -> None:
    """What the reader does by hand: [smtp] names their server (here, the test's)."""
    toml = workspace / "newsletter.toml"
    text = toml.read_text("utf-8")
    for old, new in [
        ('host = "smtp.example.org"', 'host = "127.0.0.1"'),
        ("port = 587", f"port = {port}"),
        ('security = "starttls"', 'security = "none"'),
        ('user = "coop-enews"\n', ""),
    ]:
        assert old in text, f"newsletter.toml no longer has {old!r}"
        text = text.replace(old, new)
    toml.write_text(text, "utf-8")


class Terminal:
    """Runs README commands one after another, as a reader's shell would."""

    def __init__(self, cwd: Path, scratch: Path, mail: MailServer, forker: Forker | None) -> None:
        self.cwd = cwd
        self.scratch = scratch
        self.mail = mail
        self.forker = forker
        self.output = scratch.parent / "output.txt"
        self.smtp_pointed = False
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("NEWSLETTER_") and not k.lower().endswith("_proxy")
        }
        env.update(
            COLUMNS=COLUMNS,
            PYTHONUNBUFFERED="1",  # stdout and stderr in the order written, as on a terminal
            NO_PROXY="*",
            NEWSLETTER_SMTP_PASSWORD="unused-without-a-user",
            NEWSLETTER_SIGNING_KEY="readme-tour-signing-key",
        )
        self.env = env

    def run(self, command: Command) -> tuple[list[str], list[str]]:
        """What it printed (with the scratch folder named /tmp/tour), and the expected lines,
        both as compared."""
        expected = command.expected
        printed: list[str] = []
        for part in command.text.split(" && "):
            argv = [word.replace(SCRATCH, str(self.scratch)) for word in shlex.split(part)]
            if argv[0] == "cd":
                (target,) = argv[1:]
                self.cwd = (self.cwd / target).resolve()
            elif argv[0] in ("mkdir", "cp"):
                printed += self.call(argv, command)
            elif argv[0] == "newsletter":
                assert self.cwd != ROOT, (
                    f"README.md:{command.line}: `{command.text}` would run in the repository "
                    "itself: the tour must first copy the workspace to a scratch folder"
                )
                words = tuple(w for w in argv[1:3] if not w.startswith("-"))
                server = next((p for s, p in SERVERS.items() if words[: len(s)] == s), None)
                if server is not None:
                    line, expected = self.serve(argv, server, command)
                    printed.append(line)
                    continue
                if argv[1] == "send" and not self.smtp_pointed:
                    point_smtp_at(self.cwd, self.mail.port)
                    self.smtp_pointed = True
                printed += self.newsletter(argv, command)
            else:
                pytest.fail(f"README.md:{command.line}: the test does not know `{argv[0]}`")
        printed = [line.replace(str(self.scratch), SCRATCH) for line in printed]
        return printed, expected

    def call(self, argv: list[str], command: Command) -> list[str]:
        result = subprocess.run(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
        )
        return self.check(command, result.returncode, result.stdout)

    def newsletter(self, argv: list[str], command: Command) -> list[str]:
        if self.forker is None:
            return self.call([NEWSLETTER, *argv[1:]], command)
        status = self.forker.run(argv, self.cwd, self.env, self.output)
        return self.check(command, status, self.output.read_text("utf-8"))

    def check(self, command: Command, status: int, output: str) -> list[str]:
        lines = output.splitlines()
        failed = any(line.startswith("Error: ") for line in lines)
        assert status == (1 if failed else 0), (
            f"README.md:{command.line}: `{command.text}` exited {status}:\n{output}"
        )
        return lines

    def serve(self, argv: list[str], default_port: int, command: Command) -> tuple[str, list[str]]:
        """Start a server, read its first line, fetch its page, stop it as Ctrl-C does.

        When another program holds the default port on this machine, the server is given a free
        one (`--port`), and that port is expected in its line instead."""
        expected = command.expected
        assert len(expected) == 1, f"README.md:{command.line}: a server shows one line"
        port = default_port
        if not port_is_free(port):
            port = free_port()
            argv = [*argv, "--port", str(port)]
            expected = [expected[0].replace(f":{default_port}/", f":{port}/")]
        process = subprocess.Popen(
            [NEWSLETTER, *argv[1:]],
            cwd=self.cwd,
            env={**self.env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert process.stdout is not None
            timer = threading.Timer(20, process.kill)
            timer.start()
            line = process.stdout.readline().rstrip("\n")
            timer.cancel()
            url = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert url, f"README.md:{command.line}: `{command.text}` printed {line!r}"
            with urllib.request.urlopen(url.group(0), timeout=10) as answer:
                assert answer.status == 200
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return line, expected


def test_the_readme_tour_prints_what_the_readme_shows(
    tmp_path: Path, mail_server: MailServer, forker: Forker | None
) -> None:
    readme = README.read_text("utf-8")
    blocks = console_blocks(readme)
    assert {b.section for b in blocks} == {OWN, TOUR}, "a console block the test cannot place"
    tour = [b for b in blocks if b.section == TOUR]
    assert tour[0].commands[0].text.startswith(f"mkdir {SCRATCH} && "), (
        "the tour starts by copying the sample workspace to a scratch folder"
    )

    own = tmp_path / "own"
    own.mkdir()
    scratch = tmp_path / "tour"
    terminals = {
        OWN: Terminal(own, scratch, mail_server, forker),
        TOUR: Terminal(ROOT, scratch, mail_server, forker),
    }
    mismatches: list[str] = []
    edits: list[tuple[int, int, list[str]]] = []
    for block in blocks:
        terminal = terminals[block.section]
        for command in block.commands:
            printed, expected = terminal.run(command)
            if normalise(printed) != normalise(expected):
                mismatches.append(
                    f"README.md:{command.line}: $ {command.text}\n"
                    + "".join(f"  shown:   {x}\n" for x in expected)
                    + "".join(f"  printed: {x}\n" for x in printed)
                )
                edits.append((command.line, len(command.expected), printed))
    if os.environ.get("NEWSLETTER_UPDATE_README") == "1" and edits:
        lines = readme.splitlines(keepends=True)
        for line, count, printed in reversed(edits):  # the output follows the command's line
            lines[line : line + count] = [x.rstrip() + "\n" for x in printed]
        README.write_text("".join(lines), "utf-8")
    assert not mismatches, "\n".join(mismatches)
    # the proof, then the list's five valid addresses
    assert len(mail_server.inbox.recipients) == 6
