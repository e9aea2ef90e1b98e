"""The web apps' test fixtures: an SMTP server the workspace sends through, the public pages
set up in the workspace, and an app (the studio, the public pages) served by uvicorn on
127.0.0.1 for the browser."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from starlette.types import ASGIApp

from newsletter.web.studio import make_app
from newsletter.workspace import Workspace
from tests.export.conftest import SIGNING_KEY, MailServer, free_port


@pytest.fixture
def mail_server(workspace: Path) -> Iterator[MailServer]:
    """An aiosmtpd server on 127.0.0.1, and the workspace's [smtp] pointed at it."""
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port, data_size_limit=0)
    controller.start()
    toml = workspace / "newsletter.toml"
    text = toml.read_text()
    for old, new in (
        ('host = "smtp.example.org"', 'host = "127.0.0.1"'),
        ("port = 587", f"port = {server.port}"),
        ('security = "starttls"', 'security = "none"'),
        ('user = "coop-enews"\n', ""),
    ):
        text = text.replace(old, new)
    toml.write_text(text)
    yield server
    controller.stop()


@contextmanager
def served(app: ASGIApp, port: int | None = None) -> Iterator[str]:
    """`app` served by uvicorn (its lifespan run) on 127.0.0.1 until the block ends: its
    address."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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


@contextmanager
def served_studio(workspace: Path, *, sign_in: bool = False) -> Iterator[str]:
    """The studio of `workspace` served by uvicorn on a free port of 127.0.0.1: its address."""
    with (
        Workspace(workspace / "newsletter.toml") as opened,
        served(make_app(opened, sign_in=sign_in)) as address,
    ):
        yield address


def with_public_pages(folder: Path, url: str, per_hour: int = 1000) -> None:
    """The workspace's newsletter.toml with [subscriptions]: the public pages at `url`, which
    the newsletter's unsubscribe links then lead to."""
    toml = folder / "newsletter.toml"
    text = re.sub(r"(?m)^unsubscribe_url = .*\n", "", toml.read_text("utf-8"))
    toml.write_text(f'{text}\n[subscriptions]\nurl = "{url}"\nrequests_per_hour = {per_hour}\n')


@pytest.fixture
def public_port() -> int:
    """The port the public pages are (to be) served on: their links name it."""
    return free_port()


@pytest.fixture
def public_workspace(
    workspace: Path, mail_server: MailServer, public_port: int, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The sample workspace with its public pages at http://127.0.0.1:<public_port>/, their
    emails sent to `mail_server`, and the signing key set."""
    assert mail_server.port
    with_public_pages(workspace, f"http://127.0.0.1:{public_port}/")
    monkeypatch.setenv("NEWSLETTER_SIGNING_KEY", SIGNING_KEY)
    return workspace


@contextmanager
def serving(folder: Path, port: int, *options: str) -> Iterator[str]:
    """`newsletter serve` as a process of its own, in `folder`, on 127.0.0.1:<port> (its log in
    folder/serve.log), with these options too; stopped when the block ends."""
    log = (folder / "serve.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "newsletter",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
    ]
    process = subprocess.Popen(command, cwd=folder, env=os.environ.copy(), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (folder / "serve.log").read_text()
            assert time.monotonic() < deadline, "newsletter serve did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
