"""Edge cases of fetching and reading sources, each one a behaviour that was once wrong.

Fetching: validators a header cannot hold, a body that lies about its compression, a Retry-After
too large for a float. Reading: odd charsets, escaped markup, lazy images, XHTML, fields that
need cleaning (control characters, over-long types, bad languages, URLs with spaces), titles
that look like markup, dates only feedparser reads, single JSON objects and U+2028, apostrophes
in CSV, JSON nested too deeply, and XML that is not a feed.

Fetch tests start a `ThreadingHTTPServer` on 127.0.0.1 (the pattern of test_fetch.py) with
proxies from the environment switched off, so that nothing leaves the machine. Reader tests
build their documents in memory, except the XHTML page in tests/data/edge/.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest

from newsletter.config import FetchConfig
from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.ingest.fetch import Validators
from newsletter.ingest.fetch import fetch as guarded_fetch
from newsletter.ingest.fields import MAX_TYPE, read_date
from newsletter.ingest.formats import EntryReader, ReaderOptions, detect_format, open_reader
from newsletter.model import Entry
from tests.conftest import DATA

EDGE = DATA / "edge"
SITE = "https://coop.example.org"
PAGE_URL = f"{SITE}/news/index.html"
FEED_URL = f"{SITE}/news/feed.xml"
SELECTORS = {
    "item": "div.item",
    "title": "h3",
    "date": "time",
    "summary": ".summary",
    "image": "img",
}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
# Small limits, so that every fetch test is quick.
FAST = FetchConfig(timeout=0.5, retries=2, backoff=0.01, max_bytes=10_000, max_redirects=3)

# The test server is on 127.0.0.1, which sources may reach only when they say so.
fetch = partial(guarded_fetch, allow_private=True)


# A local HTTP server (as in test_fetch.py)

Route = Callable[["Handler"], None]


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]  # names in lower case


class Server(ThreadingHTTPServer):
    """A server on 127.0.0.1 whose answer for each path a test sets, recording each request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def sent(self, path: str) -> list[dict[str, str]]:
        """The headers of each request for `path`, in order."""
        with self.lock:
            return [request.headers for request in self.requests if request.path == path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        with self.server.lock:
            self.server.requests.append(Recorded(self.path, headers))
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
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=2)


class Sleeps:
    """A `sleep` that records the pauses asked for instead of taking them."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def fetch_error(url: str, sleeps: Sleeps) -> NewsletterError:
    with pytest.raises(NewsletterError) as caught:
        fetch(url, settings=FAST, sleep=sleeps)
    return caught.value


# Reading helpers


def read(
    document: Document, options: ReaderOptions | None = None
) -> tuple[str, list[Entry], EntryReader]:
    """(the format, the entries, the reader, for its notices and heading)."""
    kind, reader = open_reader(document, options or ReaderOptions(), DateReader(), None)
    return kind, list(reader), reader


def read_error(document: Document, options: ReaderOptions | None = None) -> NewsletterError:
    with pytest.raises(NewsletterError) as caught:
        read(document, options)
    return caught.value


def page(items: str, head: str = "<title>News</title>") -> bytes:
    """An HTML listing page holding `items` (div.item elements)."""
    return f"<!DOCTYPE html><html><head>{head}</head><body>{items}</body></html>".encode()


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Coop news</title><link>{SITE}/news/</link>{items}</channel></rss>"
    ).encode()


def atom(entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Coop news</title><id>urn:coop</id><updated>2020-11-10T00:00:00Z</updated>"
        f"{entries}</feed>"
    ).encode()


# 1-3. Fetching


def test_a_stored_etag_that_is_not_ascii_is_not_sent_back(server: Server) -> None:
    server.routes["/page"] = lambda handler: reply(
        handler, 200, b"<p>fresh</p>", {"Content-Type": "text/html"}
    )

    fetched = fetch(
        server.url("/page"), validators=Validators('"café"', None), settings=FAST, sleep=Sleeps()
    )

    assert fetched.status == 200
    assert fetched.document is not None
    assert fetched.document.content == b"<p>fresh</p>"
    [sent] = server.sent("/page")
    assert "if-none-match" not in sent


def test_a_body_that_is_not_the_gzip_it_claims_fails_at_once_with_one_line(
    server: Server,
) -> None:
    server.routes["/fake.gz"] = lambda handler: reply(
        handler,
        200,
        b"this is not gzip at all",
        {"Content-Type": "text/html", "Content-Encoding": "gzip"},
    )
    sleeps = Sleeps()
    url = server.url("/fake.gz")

    error = fetch_error(url, sleeps)

    assert error.message.startswith("cannot fetch:"), error.message
    assert error.path == url
    assert error.__cause__ is None  # raised `from None`: the user sees one line
    assert error.__suppress_context__
    assert len(server.sent("/fake.gz")) == 1  # a server's fault: not retried
    assert sleeps.pauses == []


@pytest.mark.parametrize(
    "retry_after",
    ["99999999999999999999", "9" * 400],  # the second is float('inf') if read whole
    ids=["20-digits", "400-digits"],
)
def test_a_huge_retry_after_fails_at_once_without_inf(server: Server, retry_after: str) -> None:
    server.routes["/busy"] = lambda handler: reply(
        handler, 503, b"busy", {"Retry-After": retry_after}
    )
    sleeps = Sleeps()

    error = fetch_error(server.url("/busy"), sleeps)

    assert error.message.startswith("cannot fetch:"), error.message
    assert "503" in error.message
    assert "asks to wait" in error.message
    assert "inf" not in error.message.lower(), error.message
    assert len(server.sent("/busy")) == 1
    assert sleeps.pauses == []


# 4-7. HTML pages


def test_a_page_declared_with_a_charset_python_does_not_know_is_read_by_its_own() -> None:
    items = (
        '<div class="item"><h3><a href="/a">Coopératives à l’honneur</a></h3>'
        '<time datetime="2020-11-09">9 Nov</time></div>'
    )
    content = page(items, '<meta charset="utf-8"><title>Actualités</title>')
    document = Document(
        name=PAGE_URL, content=content, url=PAGE_URL, media_type="text/html", charset="utf8mb4"
    )

    kind, entries, reader = read(document, ReaderOptions(selectors=SELECTORS))

    assert kind == "html"
    assert reader.heading == "Actualités"
    assert [(entry.title, entry.date) for entry in entries] == [
        ("Coopératives à l’honneur", date(2020, 11, 9))
    ]
    assert entries[0].url == f"{SITE}/a"
    assert reader.notices == []


def test_escaped_markup_in_a_page_summary_stays_text() -> None:
    items = (
        '<div class="item"><h3>Tags</h3><time datetime="2020-11-09"></time>'
        '<p class="summary">Use &lt;em&gt;x&lt;/em&gt; here</p></div>'
    )
    document = Document(name=PAGE_URL, content=page(items), url=PAGE_URL, media_type="text/html")

    _, [entry], _ = read(document, ReaderOptions(selectors=SELECTORS))

    assert entry.summary == "Use &lt;em&gt;x&lt;/em&gt; here"
    assert "<em>" not in entry.summary


def test_a_lazy_image_gives_its_real_picture_not_the_placeholder() -> None:
    items = (
        '<div class="item"><h3>Lazy</h3><time datetime="2020-11-09"></time>'
        '<img src="data:image/gif;base64,R0lG" data-src="/img/real.jpg" alt=""></div>'
    )
    document = Document(name=PAGE_URL, content=page(items), url=PAGE_URL, media_type="text/html")

    _, [entry], _ = read(document, ReaderOptions(selectors=SELECTORS))

    assert entry.image == f"{SITE}/img/real.jpg"


XHTML = EDGE / "coop-news.xhtml"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(Document.from_path(XHTML), id="saved-file"),
        pytest.param(
            Document(
                name=PAGE_URL,
                content=XHTML.read_bytes(),
                url=PAGE_URL,
                media_type="application/xhtml+xml",  # and no charset parameter
            ),
            id="fetched",
        ),
    ],
)
def test_an_xhtml_page_without_meta_charset_is_read_as_utf8(document: Document) -> None:
    data = XHTML.read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert b"charset" not in data

    kind, entries, reader = read(
        document, ReaderOptions(selectors={"item": "div.views-row", "title": "h3", "date": "time"})
    )

    assert kind == "html"
    assert reader.heading == "Unité des coopératives — actualités"
    assert [(entry.title, entry.date) for entry in entries] == [
        ("Coopératives et Économie sociale : cent ans à l’OIT", date(2020, 11, 27)),
        ("Soutenir le mouvement coopératif en Jordanie — « stratégie »", date(2020, 11, 5)),
    ]
    assert {entry.language for entry in entries} == {"fr"}  # <html lang="fr">
    assert reader.notices == []


# 8-9. Fields of CSV and JSON records, titles that look like markup

LONG_TYPE = "Press release " * 10  # 140 characters


def record_document(kind: str, record: dict[str, str]) -> tuple[Document, ReaderOptions]:
    """One record as a CSV file (header and row) or as a JSON array, and how to read it."""
    if kind == "csv":
        quoted = ('"' + value.replace('"', '""') + '"' for value in record.values())
        content = (",".join(record) + "\n" + ",".join(quoted) + "\n").encode()
        name = "items.csv"
    else:
        content = json.dumps([record]).encode()
        name = "items.json"
    # A NUL byte makes a file look binary to detect_format: the format is given, as in config.
    return Document(name=name, content=content), ReaderOptions(format=kind)


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_record_fields_are_cleaned_cut_or_dropped_with_notices(kind: str) -> None:
    record = {
        "title": "Coop\x00 news\x07 of\x1b the\x7f week",
        "date": "2020-11-10",
        "type": LONG_TYPE,
        "language": "not a language!!",
        "url": "https://coop.example.org/news/a story.html",
    }
    document, options = record_document(kind, record)

    _, [entry], reader = read(document, options)

    assert entry.title == "Coop news of the week"
    assert len(entry.type) == MAX_TYPE
    assert entry.type.endswith("…")
    assert entry.type.startswith("Press release Press release")
    assert entry.language is None
    assert entry.url == "https://coop.example.org/news/a%20story.html"
    messages = [notice.message for notice in reader.notices]
    assert len(messages) == 2, messages
    assert any("type" in message and "cut" in message for message in messages), messages
    assert any("'not a language!!'" in message and "left out" in message for message in messages)


def test_a_plain_text_csv_title_keeps_its_angle_bracket_words() -> None:
    content = b'title,date\n"Why <b> and <i> tags matter",2020-11-10\n'
    document = Document(name="items.csv", content=content)

    _, [entry], _ = read(document)

    assert entry.title == "Why <b> and <i> tags matter"


def test_atom_titles_are_read_by_their_type() -> None:
    content = atom(
        '<entry><title type="text">Why &lt;b&gt; and &lt;i&gt; tags matter</title>'
        f'<id>urn:1</id><updated>2020-11-10T00:00:00Z</updated><link href="{SITE}/1"/></entry>'
        '<entry><title type="html">&lt;b&gt;bold&lt;/b&gt; news</title>'
        f'<id>urn:2</id><updated>2020-11-10T00:00:00Z</updated><link href="{SITE}/2"/></entry>'
    )
    document = Document(
        name=FEED_URL, content=content, url=FEED_URL, media_type="application/atom+xml"
    )

    kind, entries, reader = read(document)

    assert kind == "feed"
    assert [entry.title for entry in entries] == ["Why <b> and <i> tags matter", "bold news"]
    assert reader.notices == []


# 10. Feed dates

ODD_DATE = "2020-11-09 10:00:00 CET"


def test_a_feed_date_only_feedparser_reads_is_kept_with_its_day() -> None:
    # The premise: our reading refuses this form, feedparser's reads it.
    with pytest.raises(ValueError, match="unrecognised date"):
        read_date(ODD_DATE, DateReader())
    parsed = feedparser.parse(rss(f"<item><title>A</title><pubDate>{ODD_DATE}</pubDate></item>"))
    assert parsed.entries[0].published_parsed[:3] == (2020, 11, 9)

    content = rss(
        f"<item><title>Odd date</title><link>{SITE}/1</link><pubDate>{ODD_DATE}</pubDate></item>"
    )
    document = Document(
        name=FEED_URL, content=content, url=FEED_URL, media_type="application/rss+xml"
    )

    _, entries, reader = read(document)

    assert [(entry.title, entry.date) for entry in entries] == [("Odd date", date(2020, 11, 9))]
    assert reader.notices == []


# 11. JSON: one object alone, U+2028 in JSON Lines


def test_a_json_file_of_one_object_gives_one_entry() -> None:
    content = b'{"title": "Alone", "date": "2020-11-10", "url": "https://coop.example.org/1"}'
    document = Document(name="item.json", content=content)

    kind, entries, reader = read(document)

    assert kind == "json"
    assert [(entry.title, entry.date, entry.url) for entry in entries] == [
        ("Alone", date(2020, 11, 10), f"{SITE}/1")
    ]
    assert reader.notices == []


def test_a_json_lines_record_holding_a_raw_line_separator_is_kept() -> None:
    first = '{"title": "Before\u2028after", "date": "2020-11-10"}'
    second = '{"title": "Next", "date": "2020-11-11"}'
    assert "\u2028" in first  # raw, not the \\u2028 escape
    document = Document(name="items.jsonl", content=f"{first}\n{second}\n".encode())

    kind, entries, reader = read(document)

    assert kind == "json"
    # A title is one line: the separator, being whitespace, becomes a space.
    assert [(entry.title, entry.date) for entry in entries] == [
        ("Before after", date(2020, 11, 10)),
        ("Next", date(2020, 11, 11)),
    ]
    assert reader.notices == []


# 12. CSV: apostrophes, detection without a name


def test_apostrophes_in_csv_are_text_not_quotes() -> None:
    content = b"title,date,summary\nB's title,2020-11-10,'x', 'y'\n"
    document = Document(name="items.csv", content=content)

    kind, [entry], _ = read(document)

    assert kind == "csv"
    assert entry.title == "B's title"
    assert entry.date == date(2020, 11, 10)
    # Only double quotes quote: the row has four cells, and the summary is the third.
    assert entry.summary == "'x'"


def test_a_header_and_one_row_without_a_csv_name_are_detected_as_csv() -> None:
    document = Document(name="source", content=b"title,date\nOne item,2020-11-10\n")

    assert detect_format(document) == "csv"
    _, [entry], _ = read(document)
    assert (entry.title, entry.date) == ("One item", date(2020, 11, 10))


# 13. JSON nested too deeply


def test_json_nested_too_deeply_is_an_error_not_a_crash() -> None:
    document = Document(name="deep.json", content=b"[" * 100_000 + b"]" * 100_000)

    error = read_error(document)

    assert "nested too deeply" in error.message
    assert error.path == "deep.json"


DEEP_LINE = '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
KEPT_LINE = '{"title": "Kept", "date": "2020-11-10"}'


@pytest.mark.parametrize(
    ("lines", "deep_line"),
    [
        pytest.param([KEPT_LINE, DEEP_LINE, KEPT_LINE], 2, id="deep-line-in-the-middle"),
        pytest.param([DEEP_LINE, KEPT_LINE], 1, id="deep-line-first"),
    ],
)
def test_a_json_line_nested_too_deeply_is_left_out_with_a_notice(
    lines: list[str], deep_line: int
) -> None:
    document = Document(name="items.jsonl", content="\n".join(lines).encode() + b"\n")

    _, entries, reader = read(document)

    assert [entry.title for entry in entries] == ["Kept"] * (len(lines) - 1)
    assert [(notice.message, notice.line) for notice in reader.notices] == [
        ("JSON nested too deeply; skipped", deep_line)
    ]


# 14. XML that is not a feed


@pytest.mark.parametrize("media_type", [None, "application/xml", "text/plain"])
def test_xml_that_is_not_a_feed_is_an_error_about_feeds(media_type: str | None) -> None:
    document = Document(
        name="catalog.xml",
        content=b'<?xml version="1.0"?><catalog><book/></catalog>',
        media_type=media_type,
    )

    error = read_error(document, ReaderOptions(format="feed"))

    assert "feed" in error.message, error.message
    assert "not" in error.message, error.message
    assert "content-type" not in error.message.lower(), error.message


def test_an_internationalised_host_name_becomes_its_ascii_form() -> None:
    from newsletter.ingest.fields import web_url

    assert web_url("https://café.example.org/a b?q=x y", None) == (
        "https://xn--caf-dma.example.org/a%20b?q=x%20y"
    )
    assert (
        web_url("/news/a b.html", "https://www.ilo.org/x/") == "https://www.ilo.org/news/a%20b.html"
    )
    assert web_url("https://exa mple.org:99999/", None) is None
