"""`newsletter ingest URL`, `ingest --all` with URL sources, `newsletter sources` and
`newsletter dupes`, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import ROOT

Run = Callable[..., Result]
FEED = (ROOT / "tests" / "data" / "feeds" / "coop-news-feed.rss").read_bytes()


class Site(ThreadingHTTPServer):
    """Pages by path; answers 304 to a request whose If-None-Match is the page's ETag."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.hits: list[tuple[str, int]] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: Site

    def do_GET(self) -> None:
        page = self.server.pages.get(self.path)
        if page is None:
            self.send_response(404)
            self.end_headers()
            self.server.hits.append((self.path, 404))
            return
        body, media_type = page
        etag = '"' + hashlib.sha256(body).hexdigest()[:12] + '"'
        status = 304 if self.headers.get("If-None-Match") == etag else 200
        self.server.hits.append((self.path, status))
        self.send_response(status)
        self.send_header("ETag", etag)
        if status == 200:
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status == 200:
            self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def add_feed_source(workspace: Path, url: str) -> None:
    config = workspace / "newsletter.toml"
    config.write_text(
        config.read_text()
        + f'\n[sources.coop-feed]\ntitle = "ILO Cooperatives: news"\nurl = "{url}"\n'
        + "allow_private = true\n"  # the test server is on 127.0.0.1
        + 'default_type = "News"\ntopics = ["cooperatives"]\n'
    )


def test_ingest_a_url_then_again_when_unchanged(run: Run, site: Site) -> None:
    site.pages["/coop.rss"] = (FEED, "application/rss+xml; charset=utf-8")
    url = site.url("/coop.rss")
    first = run("ingest", "--allow-private", url)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith(f"{url} (127-0-0-1-")
    assert ", feed): 5 entries: 5 new, 0 updated, 0 unchanged" in first.stdout
    second = run("ingest", "--allow-private", url)
    assert second.exit_code == 0
    assert second.stdout.strip().endswith("): not modified since the last fetch")
    assert site.hits == [("/coop.rss", 200), ("/coop.rss", 304)]
    third = run("ingest", "--allow-private", url, "--refetch")
    assert "5 entries: 0 new, 0 updated, 5 unchanged" in third.stdout
    assert site.hits[-1] == ("/coop.rss", 200)


def test_ingest_all_reads_files_and_urls_and_merges_the_shared_stories(
    run: Run, site: Site, workspace: Path
) -> None:
    site.pages["/coop.rss"] = (FEED, "application/rss+xml")
    add_feed_source(workspace, site.url("/coop.rss"))
    result = run("ingest", "--all")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[2] == (
        f"{site.url('/coop.rss')} (coop-feed, feed): 5 entries: 2 new, 0 updated, 0 unchanged, "
        "0 duplicates, 3 merged into items of other sources, 1 possible duplicate "
        "(newsletter dupes)"
    )  # the feed comes after the listings: its stories join theirs
    items = json.loads(run("items", "--month", "2020-11", "--format", "json").stdout)
    titles = [item["title"] for item in items]
    assert len(titles) == len(set(titles))
    assert titles.count("ILO COOP Chiefs across time") == 1
    chiefs = next(item for item in items if item["title"] == "ILO COOP Chiefs across time")
    assert chiefs["sources"] == ["coop-feed", "ilo-cooperatives", "ilo-whats-new"]


def test_sources_show_health_and_check_fails_on_an_error(
    run: Run, site: Site, workspace: Path
) -> None:
    add_feed_source(workspace, site.url("/gone.rss"))
    result = run("ingest", "--all")
    assert result.exit_code == 1
    assert f"error: {site.url('/gone.rss')}: cannot fetch: the server answered 404" in result.stderr
    assert "Error: 1 of 3 sources failed; the others were stored" in result.stderr
    health = json.loads(run("sources", "--format", "json").stdout)
    by_name = {record["source"]: record for record in health}
    assert list(by_name) == ["ilo-cooperatives", "ilo-whats-new", "coop-feed"]
    assert (by_name["ilo-cooperatives"]["status"], by_name["ilo-cooperatives"]["items"]) == (
        "ok",
        10,
    )
    assert by_name["coop-feed"]["status"] == "error"
    assert "404" in by_name["coop-feed"]["last_error"]
    assert by_name["coop-feed"]["items"] == 0
    assert by_name["coop-feed"]["last_stored"] is None
    table = run("sources")
    assert "coop-feed" in table.stdout
    assert "error" in table.stdout
    check = run("sources", "--check")
    assert check.exit_code == 1
    assert "last read failed: coop-feed" in check.stderr
    site.pages["/gone.rss"] = (FEED, "application/rss+xml")
    assert run("ingest", "--source", "coop-feed", site.url("/gone.rss")).exit_code == 0
    assert run("sources", "--check").exit_code == 0


def test_a_bad_page_stores_nothing_and_says_where(run: Run, site: Site) -> None:
    site.pages["/page.html"] = (b"<html><body><p>No items here</p></body></html>", "text/html")
    result = run("ingest", "--allow-private", site.url("/page.html"))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: {site.url('/page.html')}: an HTML listing page is read"
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert json.loads(run("items", "--format", "json").stdout) == []


def test_dupes_lists_merges_and_keeps_apart(run: Run, workspace: Path) -> None:
    feed = workspace / "coop-news-feed.rss"
    feed.write_bytes(FEED)
    assert run("ingest", "--all").exit_code == 0
    ingested = run("ingest", str(feed))
    assert "3 merged into items of other sources, 1 possible duplicate (newsletter dupes)" in (
        ingested.stdout
    )
    listed = run("dupes")
    assert listed.exit_code == 0
    assert "ILO COOP 100 interview with Mounir Kleibo, ILO Representative in Jerusalem" in (
        listed.stdout
    )
    assert listed.stdout.rstrip().splitlines()[-1].startswith("1 pair: newsletter dupes merge")
    (pair,) = json.loads(run("dupes", "--format", "json").stdout)
    first, second = pair["first"]["uid"], pair["second"]["uid"]
    merged = run("dupes", "merge", second[:8], first[:8])
    assert merged.exit_code == 0
    assert merged.stdout.startswith("merged into ILO COOP 100 interview with Mounir Kleibo")
    assert run("dupes").stdout.strip() == "no possible duplicates to review"
    refused = run("dupes", "merge", second[:8], first[:8])
    assert refused.exit_code == 1
    assert refused.stderr.strip() == f"Error: {second[:8]} and {first[:8]} are the same item"


def test_a_change_in_how_a_source_is_read_fetches_it_whole(
    run: Run, site: Site, workspace: Path
) -> None:
    site.pages["/coop.rss"] = (FEED, "application/rss+xml")
    add_feed_source(workspace, site.url("/coop.rss"))
    assert run("ingest", "--source", "coop-feed", site.url("/coop.rss")).exit_code == 0
    assert run("ingest", "--source", "coop-feed", site.url("/coop.rss")).exit_code == 0
    config = workspace / "newsletter.toml"
    config.write_text(
        config.read_text().replace('default_type = "News"', 'default_type = "Article"')
    )
    third = run("ingest", "--source", "coop-feed", site.url("/coop.rss"))
    assert site.hits == [("/coop.rss", 200), ("/coop.rss", 304), ("/coop.rss", 200)]
    assert "5 entries" in third.stdout
    health = {r["source"]: r for r in json.loads(run("sources", "--format", "json").stdout)}
    assert health["coop-feed"]["format"] == "feed"


def test_a_mistyped_file_makes_no_source(run: Run) -> None:
    result = run("ingest", "nosuch.txt")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: nosuch.txt: cannot read")
    names = [r["source"] for r in json.loads(run("sources", "--format", "json").stdout)]
    assert names == ["ilo-cooperatives", "ilo-whats-new"]  # configured, never read
