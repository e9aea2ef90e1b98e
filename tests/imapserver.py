"""A tiny IMAP4rev1 server on 127.0.0.1 for the tests: one user, one folder of messages, plain
TCP, and a log of every command it was sent (to show that reading changed nothing).

It knows CAPABILITY, LOGIN, EXAMINE, SELECT, UID SEARCH ALL, UID FETCH of one message's
BODY[] or BODY.PEEK[] (whole, or its first bytes with <0.n>), NOOP and LOGOUT."""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field
from types import TracebackType

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_FETCH = re.compile(r"(?i)^(\d+) \((BODY(?:\.PEEK)?)\[\](?:<0\.(\d+)>)?\)$")


@dataclass
class ImapServer:
    """Serves `messages` as the folder `folder`, their UIDs 10, 20, 30...; a context manager
    that listens on a free port of 127.0.0.1 while open."""

    messages: list[bytes]
    user: str = "bounces"
    password: str = "s3cret pass"
    folder: str = "INBOX"
    commands: list[str] = field(default_factory=list)
    port: int = 0
    _server: socketserver.ThreadingTCPServer | None = None

    @property
    def uids(self) -> list[int]:
        return [10 * (number + 1) for number in range(len(self.messages))]

    def __enter__(self) -> ImapServer:
        owner = self

        class Handler(_Session):
            server_state = owner

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Session(socketserver.StreamRequestHandler):
    server_state: ImapServer

    def handle(self) -> None:
        state = self.server_state
        self._send("* OK [CAPABILITY IMAP4rev1] test server ready")
        logged_in = selected = False
        while line := self.rfile.readline(65536):
            tag, _, rest = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, arguments = arguments.partition(" ")
                command = "UID " + command.upper()
            state.commands.append(f"{command} {arguments}" if command != "LOGIN" else command)
            words = _words(arguments)
            if command == "CAPABILITY":
                self._send("* CAPABILITY IMAP4rev1")
                self._send(f"{tag} OK CAPABILITY completed")
            elif command == "NOOP":
                self._send(f"{tag} OK NOOP completed")
            elif command == "LOGOUT":
                self._send("* BYE logging out")
                self._send(f"{tag} OK LOGOUT completed")
                return
            elif command == "LOGIN":
                logged_in = words == [state.user, state.password]
                if logged_in:
                    self._send(f"{tag} OK LOGIN completed")
                else:
                    self._send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
            elif not logged_in:
                self._send(f"{tag} BAD log in first")
            elif command in ("EXAMINE", "SELECT"):
                selected = words == [state.folder]
                if not selected:
                    self._send(f"{tag} NO [NONEXISTENT] no such mailbox")
                    continue
                self._send("* FLAGS (\\Seen \\Deleted)")
                self._send(f"* {len(state.messages)} EXISTS")
                self._send("* 0 RECENT")
                self._send("* OK [UIDVALIDITY 1] UIDs valid")
                mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                self._send(f"{tag} OK [{mode}] {command} completed")
            elif not selected:
                self._send(f"{tag} BAD select a folder first")
            elif command == "UID SEARCH" and arguments.upper() == "ALL":
                self._send("* SEARCH " + " ".join(str(uid) for uid in state.uids))
                self._send(f"{tag} OK SEARCH completed")
            elif command == "UID FETCH" and (fetch := _FETCH.match(arguments)):
                self._fetch(int(fetch.group(1)), fetch.group(3))
                self._send(f"{tag} OK FETCH completed")
            else:
                self._send(f"{tag} BAD not understood")

    def _fetch(self, uid: int, length: str | None) -> None:
        state = self.server_state
        if uid not in state.uids:
            return
        number = state.uids.index(uid) + 1
        data = state.messages[number - 1]
        section = "BODY[]"
        if length is not None:
            data, section = data[: int(length)], "BODY[]<0>"
        head = f"* {number} FETCH (UID {uid} {section} {{{len(data)}}}\r\n".encode()
        self.wfile.write(head + data + b")\r\n")

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")


def _words(arguments: str) -> list[str]:
    """IMAP's atoms and quoted strings, backslash escapes undone."""
    return [
        re.sub(r"\\(.)", r"\1", match.group(1)) if match.group(1) is not None else match.group(2)
        for match in _TOKEN.finditer(arguments)
    ]
