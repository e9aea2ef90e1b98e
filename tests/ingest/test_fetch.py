"""The HTTP fetcher against a real server on 127.0.0.1: bodies and their types, conditional
requests, retries and their pauses, the size and redirect limits, and the failures that are not
retried.

The module starts its own `ThreadingHTTPServer` on a free port; each test says what each path
answers and reads back, from the server's side, what was asked and how often. Proxies from the
environment are switched off so that nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin

import pytest

from newsletter.config import FetchConfig
from newsletter.errors import NewsletterError
from newsletter.ingest.fetch import Fetched, Validators
from newsletter.ingest.fetch import fetch as guarded_fetch

Route = Callable[["Handler"], None]
# The test server is on 127.0.0.1, which sources may reach only when they say so.
fetch = partial(guarded_fetch, allow_private=True)

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
# Small limits, so that every test is quick; tests `replace` what they are about.
FAST = FetchConfig(timeout=0.5, retries=1, backoff=0.01, max_bytes=10_000, max_redirects=3)


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]  # names in lower case


class Server(ThreadingHTTPServer):
    """A local server whose answer for each path a test sets, recording every request."""

    daemon_threads = True  # a handler still sleeping must not hold up the teardown

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for request in self.requests if request.path == path)

    def sent(self, path: str) -> list[dict[str, str]]:
        """The headers of each request for `path`, in order."""
        with self.lock:
            return [request.headers for request in self.requests if request.path == path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # for chunked bodies and keep-alive, as real servers do
    server: Server

    def do_GET(self) -> None:
        recorded = Recorded(
            self.path, {name.lower(): value for name, value in self.headers.items()}
        )
        with self.server.lock:
            self.server.requests.append(recorded)
        route = self.server.routes.get(self.path)
        if route is None:
            reply(self, 404, b"not here")
        else:
            route(self)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows nothing of a passing test's server."""


def reply(
    handler: Handler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    """Answer with `status`, `headers` and `body` (with its Content-Length)."""
    try:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except OSError:  # the client gave up first: that is what some tests check
        handler.close_connection = True


def reply_chunked(handler: Handler, chunks: list[bytes]) -> None:
    """Answer 200 with a chunked body and no Content-Length."""
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for chunk in chunks:
            handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")
    except OSError:
        handler.close_connection = True


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx honours proxy variables: without them, requests go straight to 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield httpd
    finally:
        httpd.stopping.set()  # wakes handlers that are made to be slow
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=2)


class Sleeps:
    """A `sleep` that records the pauses asked for instead of taking them."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def fetch_error(url: str, config: FetchConfig, sleeps: Sleeps | None = None) -> NewsletterError:
    with pytest.raises(NewsletterError) as caught:
        fetch(url, settings=config, sleep=sleeps or Sleeps())
    error = caught.value
    assert error.path == url
    assert error.message.startswith("cannot fetch:"), error.message
    return error


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound, read, then let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_page_comes_with_its_type_charset_and_url(server: Server) -> None:
    body = "<?xml version='1.0' encoding='ISO-8859-1'?><rss><title>Caf\xe9</title></rss>"
    server.routes["/feed.xml"] = lambda handler: reply(
        handler,
        200,
        body.encode("iso-8859-1"),
        {"Content-Type": "application/rss+xml; charset=ISO-8859-1"},
    )
    url = server.url("/feed.xml")

    fetched = fetch(url, settings=FAST, sleep=Sleeps())

    assert (fetched.url, fetched.status, fetched.attempts) == (url, 200, 1)
    document = fetched.document
    assert document is not None
    assert document.content == body.encode("iso-8859-1")
    assert document.read() == body.encode("iso-8859-1")
    assert document.url == url
    assert document.name == url
    assert document.media_type == "application/rss+xml"
    assert document.charset == "ISO-8859-1"
    assert fetched.validators == Validators(None, None)
    [sent] = server.sent("/feed.xml")
    assert sent["user-agent"].startswith("newsletter/"), sent["user-agent"]
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent


def test_a_page_that_has_not_changed_is_not_sent_again(server: Server) -> None:
    def conditional(handler: Handler) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            reply(handler, 304, headers={"ETag": '"v1"'})
        else:
            reply(handler, 200, b"<p>first</p>", {"ETag": '"v1"', "Last-Modified": LAST_MODIFIED})

    server.routes["/page"] = conditional
    url = server.url("/page")

    first = fetch(url, settings=FAST, sleep=Sleeps())
    assert first.status == 200
    assert first.document is not None
    assert first.validators == Validators('"v1"', LAST_MODIFIED)

    second = fetch(url, validators=first.validators, settings=FAST, sleep=Sleeps())

    assert second.status == 304
    assert second.document is None
    assert second.url == url
    assert second.attempts == 1
    first_sent, second_sent = server.sent("/page")
    assert "if-none-match" not in first_sent
    assert "if-modified-since" not in first_sent
    assert second_sent["if-none-match"] == '"v1"'
    assert second_sent["if-modified-since"] == LAST_MODIFIED


def test_a_server_that_does_not_answer_in_time_is_retried_then_given_up(server: Server) -> None:
    def slow(handler: Handler) -> None:
        server.stopping.wait(1.0)  # longer than the 0.3 s limit; cut short at teardown
        handler.close_connection = True

    server.routes["/slow"] = slow
    sleeps = Sleeps()
    started = time.monotonic()

    error = fetch_error(server.url("/slow"), replace(FAST, timeout=0.3, retries=2), sleeps)

    assert time.monotonic() - started < 2.0
    assert "no complete answer within 0.3 s" in error.message
    assert "(3 attempts)" in error.message
    assert sleeps.pauses == [0.01, 0.02]  # the backoff, doubled for the second retry
    assert server.hits("/slow") == 3


def test_a_server_that_is_busy_is_asked_again_after_its_retry_after(server: Server) -> None:
    def busy_once(handler: Handler) -> None:
        if server.hits("/busy") == 1:
            reply(handler, 503, b"busy", {"Retry-After": "1"})
        else:
            reply(handler, 200, b"<p>ready</p>", {"Content-Type": "text/html"})

    server.routes["/busy"] = busy_once
    sleeps = Sleeps()

    fetched = fetch(server.url("/busy"), settings=FAST, sleep=sleeps)

    assert fetched.status == 200
    assert fetched.attempts == 2
    assert fetched.document is not None
    assert fetched.document.content == b"<p>ready</p>"
    assert sleeps.pauses == [1.0]  # the server's wish, not the 0.01 s backoff
    assert server.hits("/busy") == 2


def test_a_server_that_asks_for_a_long_wait_fails_at_once(server: Server) -> None:
    server.routes["/later"] = lambda handler: reply(handler, 503, b"", {"Retry-After": "3600"})
    sleeps = Sleeps()

    error = fetch_error(server.url("/later"), replace(FAST, retries=2), sleeps)

    assert "asks to wait 3600 s" in error.message
    assert server.hits("/later") == 1
    assert sleeps.pauses == []


def test_a_missing_page_fails_at_once(server: Server) -> None:
    sleeps = Sleeps()

    error = fetch_error(server.url("/missing"), replace(FAST, retries=2), sleeps)

    assert "404" in error.message
    assert error.message == "cannot fetch: the server answered 404 Not Found"
    assert server.hits("/missing") == 1
    assert sleeps.pauses == []


def test_a_response_over_the_size_limit_is_refused(server: Server) -> None:
    def declared_too_big(handler: Handler) -> None:
        # Announces 5 MiB but sends none of it: a client that read on would wait for it.
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(5 * 1024 * 1024))
        handler.end_headers()

    server.routes["/declared"] = declared_too_big
    server.routes["/chunked"] = lambda handler: reply_chunked(handler, [b"x" * 600] * 5)
    config = replace(FAST, max_bytes=1000, retries=2)
    started = time.monotonic()

    declared = fetch_error(server.url("/declared"), config)

    assert time.monotonic() - started < config.timeout  # refused on the headers, unread
    assert declared.message == (
        "cannot fetch: 5.0 MiB is over the 1000 bytes limit (raise [fetch] max_bytes)"
    )
    assert server.hits("/declared") == 1

    chunked = fetch_error(server.url("/chunked"), config)

    assert chunked.message == (
        "cannot fetch: the response is over the 1000 bytes limit (raise [fetch] max_bytes)"
    )
    assert server.hits("/chunked") == 1


def test_redirects_are_followed_within_the_limit(server: Server) -> None:
    server.routes["/loop"] = lambda handler: reply(handler, 302, headers={"Location": "/loop"})
    server.routes["/old"] = lambda handler: reply(
        handler, 301, headers={"Location": "/news/new.html"}
    )
    server.routes["/news/new.html"] = lambda handler: reply(
        handler, 200, b'<a href="item.html">item</a>', {"Content-Type": "text/html"}
    )

    error = fetch_error(server.url("/loop"), replace(FAST, max_redirects=3, retries=2))

    assert "more than 3 redirects" in error.message
    assert server.hits("/loop") == 4  # the first request and three redirects, not retried

    fetched: Fetched = fetch(server.url("/old"), settings=FAST, sleep=Sleeps())

    new = server.url("/news/new.html")
    assert fetched.status == 200
    assert fetched.url == new
    assert fetched.document is not None
    assert fetched.document.url == new
    assert urljoin(fetched.document.url, "item.html") == server.url("/news/item.html")
    assert server.hits("/old") == 1
    assert server.hits("/news/new.html") == 1


def test_a_refused_connection_is_retried_then_given_up() -> None:
    sleeps = Sleeps()

    error = fetch_error(
        f"http://127.0.0.1:{free_port()}/feed.xml", replace(FAST, retries=2), sleeps
    )

    assert "(3 attempts)" in error.message
    assert sleeps.pauses == [0.01, 0.02]


def test_only_http_addresses_are_fetched() -> None:
    sleeps = Sleeps()

    error = fetch_error("ftp://127.0.0.1/x", replace(FAST, retries=2), sleeps)

    assert error.message == "cannot fetch: only http and https addresses are fetched"
    assert sleeps.pauses == []
