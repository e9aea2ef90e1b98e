"""Fetching within a deadline and only from public addresses, against real servers on 127.0.0.1.

The servers here are raw sockets so that they can misbehave as a test needs: drip a header
line every 0.3 s forever, accept and say nothing, or redirect inward. Sources reach 127.0.0.1
only with allow_private; to follow a redirect *from* an allowed origin *to* a refused address,
a test lets exactly the origin's host name through the guard and leaves every other check real.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, inspect, text

from newsletter.config import FetchConfig
from newsletter.errors import NewsletterError
from newsletter.ingest import netguard
from newsletter.ingest.fetch import fetch
from newsletter.ingest.netguard import address_kind, without_credentials

QUICK = FetchConfig(timeout=1.0, retries=0, backoff=0.01, max_redirects=3)
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Coop news</title>
<item><title>Cooperatives in the green transition</title><link>https://www.ilo.org/a</link>
<pubDate>Tue, 10 Nov 2020 09:00:00 GMT</pubDate></item></channel></rss>"""

Reply = Callable[[socket.socket, bytes], None]
Run = Callable[..., Result]


class RawServer:
    """A TCP server on 127.0.0.1 whose every connection `reply` answers; records requests."""

    def __init__(self, reply: Reply):
        self.reply = reply
        self.requests: list[bytes] = []
        self.stopping = threading.Event()
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            request = b""
            try:
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                self.requests.append(request)
                self.reply(connection, request)
            except OSError:
                pass  # the client gave up, as it should

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.socket.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], RawServer]]:
    servers: list[RawServer] = []

    def start(reply: Reply) -> RawServer:
        servers.append(RawServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def answer(body: bytes, status: str = "200 OK", headers: str = "") -> Reply:
    def reply(connection: socket.socket, _request: bytes) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}"
        connection.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)

    return reply


def redirect_to(location: str) -> Reply:
    return answer(b"", "302 Found", f"Location: {location}\r\n")


def one_line_error(url: str, settings: FetchConfig, *, allow_private: bool) -> NewsletterError:
    with pytest.raises(NewsletterError) as raised:
        fetch(url, settings=settings, sleep=lambda _: None, allow_private=allow_private)
    assert "\n" not in str(raised.value)
    return raised.value


def let_through(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """The guard, real for every host but `host` (the test's origin server)."""
    check = netguard.GuardedBackend.check

    def origin_allowed(self: netguard.GuardedBackend, name: str, address: object) -> None:
        if name != host:
            check(self, name, address)  # type: ignore[arg-type]

    monkeypatch.setattr(netguard.GuardedBackend, "check", origin_allowed)


# --- the deadline -------------------------------------------------------------------------


def test_a_server_dripping_header_lines_is_given_up_at_the_deadline(
    serve: Callable[[Reply], RawServer],
) -> None:
    def drip(connection: socket.socket, _request: bytes) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        for number in range(1000):  # a header line every 0.3 s: no single read ever times out
            connection.sendall(f"X-Drip-{number}: still here\r\n".encode())
            time.sleep(0.3)

    server = serve(drip)
    started = time.monotonic()
    error = one_line_error(f"http://127.0.0.1:{server.port}/", QUICK, allow_private=True)
    took = time.monotonic() - started
    assert took < QUICK.timeout + 0.5, took
    assert "no complete answer within 1 s (1 attempt)" in error.message


def test_each_retry_has_its_own_deadline_and_the_whole_fetch_ends(
    serve: Callable[[Reply], RawServer],
) -> None:
    def stall(_connection: socket.socket, _request: bytes) -> None:
        time.sleep(3)  # accepts, reads the request, says nothing

    server = serve(stall)
    settings = replace(QUICK, timeout=0.5, retries=2)
    started = time.monotonic()
    error = one_line_error(f"http://127.0.0.1:{server.port}/", settings, allow_private=True)
    assert time.monotonic() - started < 3 * 0.5 + 0.5
    assert "no complete answer within 0.5 s (3 attempts)" in error.message
    assert len(server.requests) == 3


def test_a_body_dripped_slowly_is_given_up_at_the_deadline(
    serve: Callable[[Reply], RawServer],
) -> None:
    def slow_body(connection: socket.socket, _request: bytes) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(1000):
            connection.sendall(b"<")
            time.sleep(0.2)

    server = serve(slow_body)
    started = time.monotonic()
    error = one_line_error(f"http://127.0.0.1:{server.port}/", QUICK, allow_private=True)
    assert time.monotonic() - started < QUICK.timeout + 0.5
    assert "no complete answer within 1 s" in error.message


# --- where a fetch may connect ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "private"),  # Python counts 0.0.0.0/8 as private ("this network")
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_a_loopback_url_is_refused_unless_the_source_allows_it(
    serve: Callable[[Reply], RawServer],
) -> None:
    server = serve(answer(FEED))
    for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]"):
        url = f"http://{host}:{server.port}/feed.xml"
        error = one_line_error(url, QUICK, allow_private=False)
        assert "a loopback address" in error.message
        assert "allow_private = true" in error.message
    assert server.requests == []  # refused before connecting
    fetched = fetch(f"http://127.0.0.1:{server.port}/feed.xml", settings=QUICK, allow_private=True)
    assert fetched.document is not None
    assert b"green transition" in fetched.document.content


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("http://127.0.0.1:{inner}/admin", "127.0.0.1, a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
        ("http://[fe80::1]/", "fe80::1, a link-local address"),
        ("http://10.0.0.5/", "10.0.0.5, a private address"),
        ("http://224.0.0.1/", "224.0.0.1, a multicast address"),
    ],
)
def test_a_redirect_inward_is_refused(
    serve: Callable[[Reply], RawServer],
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    shown: str,
) -> None:
    inner = serve(answer(b"secret admin page"))
    origin = serve(redirect_to(target.format(inner=inner.port)))
    let_through(monkeypatch, "localhost")
    started = time.monotonic()
    error = one_line_error(f"http://localhost:{origin.port}/feed.xml", QUICK, allow_private=False)
    assert time.monotonic() - started < QUICK.timeout
    assert f"refused to connect to {shown}" in error.message
    assert len(origin.requests) == 1
    assert inner.requests == []


def test_a_redirect_between_allowed_addresses_is_followed(
    serve: Callable[[Reply], RawServer],
) -> None:
    feed = serve(answer(FEED, headers="Content-Type: application/rss+xml\r\n"))
    origin = serve(redirect_to(f"http://127.0.0.1:{feed.port}/feed.xml"))
    fetched = fetch(f"http://127.0.0.1:{origin.port}/old", settings=QUICK, allow_private=True)
    assert fetched.url == f"http://127.0.0.1:{feed.port}/feed.xml"
    assert fetched.document is not None
    assert fetched.document.media_type == "application/rss+xml"


# --- credentials in URLs ----------------------------------------------------------------------


def test_credentials_are_sent_but_never_shown(serve: Callable[[Reply], RawServer]) -> None:
    server = serve(answer(FEED))
    url = f"http://editor:s3cret-pass@127.0.0.1:{server.port}/feed.xml"
    fetched = fetch(url, settings=QUICK, allow_private=True)
    token = base64.b64encode(b"editor:s3cret-pass")
    assert b"Authorization: Basic " + token in server.requests[0]
    assert "s3cret" not in fetched.url
    assert fetched.document is not None
    assert "s3cret" not in fetched.document.name
    missing = f"http://editor:s3cret-pass@127.0.0.1:{server.port}/"
    server.reply = answer(b"gone", "404 Not Found")
    error = one_line_error(missing, QUICK, allow_private=True)
    assert "s3cret" not in str(error)
    assert "editor" not in str(error)


def test_without_credentials() -> None:
    assert without_credentials("https://u:p@example.org:8443/a?b=c#d") == (
        "https://example.org:8443/a?b=c#d"
    )
    assert without_credentials("https://a%40b:p%2Fq@example.org/") == "https://example.org/"
    assert without_credentials("https://example.org/x@y") == "https://example.org/x@y"


def every_stored_value(database_url: str) -> str:
    """Every row of every table of the pool, as text (SQLite or PostgreSQL)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            rows = [connection.execute(text(f'SELECT * FROM "{name}"')).all() for name in tables]
    finally:
        engine.dispose()
    return repr(rows)


def test_ingest_never_prints_or_stores_a_password(
    run: Run, database_url: str, serve: Callable[[Reply], RawServer]
) -> None:
    server = serve(answer(FEED, headers="Content-Type: application/rss+xml\r\n"))
    url = f"http://editor:s3cret-pass@127.0.0.1:{server.port}/feed.xml"
    results = [run("ingest", "--allow-private", url), run("sources"), run("items")]
    assert results[0].exit_code == 0, results[0].stderr
    assert "1 entries" in results[0].stdout or "1 entry" in results[0].stdout
    server.reply = answer(b"", "500 Internal Server Error")
    results.append(run("ingest", "--allow-private", "--refetch", url))
    assert results[-1].exit_code == 1
    for result in results:
        assert "s3cret" not in result.stdout + result.stderr
    dump = every_stored_value(database_url)
    assert f"127.0.0.1:{server.port}/feed.xml" in dump
    assert "s3cret" not in dump


def test_ingest_refuses_a_loopback_url_in_one_line(
    run: Run, serve: Callable[[Reply], RawServer]
) -> None:
    server = serve(answer(FEED))
    result = run("ingest", f"http://127.0.0.1:{server.port}/feed.xml")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "refused to connect to 127.0.0.1, a loopback address" in result.stderr
    assert server.requests == []


def test_a_source_option_that_is_not_true_or_false_is_refused(run: Run, workspace: Path) -> None:
    config = workspace / "newsletter.toml"
    config.write_text(
        config.read_text()
        + '\n[sources.web]\nurl = "https://example.org/"\nallow_private = "yes"\n'
    )
    result = run("sources")
    assert result.exit_code == 1
    assert "allow_private" in result.stderr
    assert "expected true or false" in result.stderr
