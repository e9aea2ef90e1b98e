"""The studio's test fixtures: an SMTP server the workspace sends through, and the studio
served by uvicorn on 127.0.0.1 for the browser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from aiosmtpd.controller import Controller

from newsletter.web.studio import make_app
from newsletter.workspace import Workspace
from tests.export.conftest import MailServer, free_port


@pytest.fixture
def mail_server(workspace: Path) -> Iterator[MailServer]:
    """An aiosmtpd server on 127.0.0.1, and the workspace's [smtp] pointed at it."""
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port, data_size_limit=0)
    controller.start()
    toml = workspace / "newsletter.toml"
    text = toml.read_text()
    for old, new in (('host = "smtp.example.org"', 'host = "127.0.0.1"'),
                     ("port = 587", f"port = {server.port}"),
                     ('security = "starttls"', 'security = "none"'),
                     ('user = "coop-enews"\n', "")):  # fmt: skip
        text = text.replace(old, new)
    toml.write_text(text)
    yield server
    controller.stop()


@contextmanager
def served_studio(workspace: Path, *, sign_in: bool = False) -> Iterator[str]:
    """The studio of `workspace` served by uvicorn on a free port of 127.0.0.1: its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Workspace(workspace / "newsletter.toml") as opened:
        app = make_app(opened, sign_in=sign_in)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)
