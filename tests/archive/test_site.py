"""The archive site: every page there, links that resolve, no inline script, escaped text,
deterministic and incremental builds that swap in whole."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest

from newsletter.archive.build import build_archive
from newsletter.archive.publish import publish_issue
from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.pool import Pool

PAGES = [
    "404.html", "assets/brand.css", "assets/search.js", "assets/site.css",
    "ilo-coop-enews/2020-10/email.html", "ilo-coop-enews/2020-10/index.html",
    "ilo-coop-enews/2020-11/email.html", "ilo-coop-enews/2020-11/index.html",
    "ilo-coop-enews/feed.xml", "ilo-coop-enews/index.html", "index.html", "search-index.json",
    "search.html", "sitemap.xml",
    "topics/cooperatives/2020/index.html", "topics/cooperatives/index.html", "topics/index.html",
    "topics/social-solidarity-economy/2020/index.html",
    "topics/social-solidarity-economy/index.html",
]  # fmt: skip


@pytest.fixture
def published(samples: Path, config: Config, pool: Pool) -> Path:
    publish_issue(pool, config, samples / "2020-10.toml", today=date(2020, 11, 2))
    publish_issue(pool, config, samples / "2020-11.toml", today=date(2020, 12, 1))
    return samples


def files(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site)) for p in site.rglob("*")
                  if p.is_file() and p.name != ".newsletter-archive")  # fmt: skip


def html_pages(site: Path) -> list[Path]:
    return [p for p in site.rglob("*.html") if p.name != "email.html"]


@pytest.mark.usefixtures("published")
def test_the_site_has_every_page(config: Config, tmp_path: Path) -> None:
    report = build_archive(config, tmp_path / "site")
    assert files(tmp_path / "site") == PAGES
    assert (report.pages, len(report.written), report.kept) == (19, 19, 0)


@pytest.mark.usefixtures("published")
def test_every_link_resolves(config: Config, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_archive(config, site)
    for page in html_pages(site):
        text = page.read_text()
        for target in re.findall(r'(?:href|src)="([^"]+)"', text):
            if target.startswith(("https://", "http://", "data:", "mailto:")):
                continue
            path = urldefrag(urljoin(page.relative_to(site).as_posix(), target))[0]
            assert (site / path).is_file(), f"{page}: {target}"
            fragment = urldefrag(target)[1]
            if fragment:
                assert f'id="{fragment}"' in (site / path).read_text(), f"{page}: #{fragment}"


@pytest.mark.usefixtures("published")
def test_pages_allow_no_inline_script_or_style(config: Config, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_archive(config, site)
    for page in html_pages(site):
        text = page.read_text()
        assert '<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; ' \
               "script-src 'self'; style-src 'self';" in text  # fmt: skip
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), page
        assert " style=" not in text, page
        assert " on" not in re.sub(r">[^<]*<", "><", text).replace(" only", ""), page
        assert re.search(r'<html lang="[a-z]{2}" dir="ltr">', text)
        assert '<main id="main">' in text


@pytest.mark.usefixtures("published")
def test_feeds_and_the_sitemap_are_absolute(config: Config, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_archive(config, site)
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(site / "ilo-coop-enews" / "feed.xml").getroot()
    entries = feed.findall(f"{atom}entry")
    assert [e.findtext(f"{atom}title") for e in entries] == [
        "ILO COOP eNews - November issue", "ILO COOP eNews - October issue"
    ]  # fmt: skip
    assert entries[0].findtext(f"{atom}id") == (
        "https://newsletters.example.org/ilo-coop-enews/2020-11/"
    )
    locations = [e.text for e in ET.parse(site / "sitemap.xml").getroot().iter(
        "{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]  # fmt: skip
    assert "https://newsletters.example.org/topics/cooperatives/2020/" in locations
    assert all(loc and loc.startswith("https://newsletters.example.org/") for loc in locations)


@pytest.mark.usefixtures("published")
def test_two_builds_are_byte_identical(config: Config, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    build_archive(config, first)
    build_archive(config, second)
    assert files(first) == files(second)
    for name in files(first):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_an_incremental_build_rewrites_only_what_shows_the_new_issue(
    samples: Path, config: Config, pool: Pool, tmp_path: Path
) -> None:
    publish_issue(pool, config, samples / "2020-10.toml", today=date(2020, 11, 2))
    site = tmp_path / "site"
    build_archive(config, site)
    before = {name: (site / name).stat() for name in files(site)}
    again = build_archive(config, site)
    assert (again.written, again.kept) == ([], len(before))

    publish_issue(pool, config, samples / "2020-11.toml", today=date(2020, 12, 1))
    report = build_archive(config, site)
    assert sorted(report.written) == [
        "ilo-coop-enews/2020-10/index.html",  # its "next" link
        "ilo-coop-enews/2020-11/email.html",
        "ilo-coop-enews/2020-11/index.html",
        "ilo-coop-enews/feed.xml",
        "ilo-coop-enews/index.html",
        "index.html",
        "search-index.json",
        "sitemap.xml",
        "topics/cooperatives/2020/index.html",
        "topics/cooperatives/index.html",
        "topics/index.html",
        "topics/social-solidarity-economy/2020/index.html",
        "topics/social-solidarity-economy/index.html",
    ]
    for name, stat in before.items():
        if name not in report.written:
            now = (site / name).stat()
            assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns), name


def test_a_failed_build_leaves_the_old_site(
    published: Path, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    build_archive(config, site)
    old = {name: (site / name).read_bytes() for name in files(site)}
    (published / "2020-11.toml").write_text("")  # not read: frozen copies are

    def broken(*_args: object, **_kwargs: object) -> str:
        raise NewsletterError("the disk is full")

    monkeypatch.setattr("newsletter.render.theme.Theme.render", broken)
    monkeypatch.setattr("newsletter.archive.build._unchanged", lambda *_args: False)
    with pytest.raises(NewsletterError, match="the disk is full"):
        build_archive(config, site)
    assert {name: (site / name).read_bytes() for name in files(site)} == old
    # Nothing left aside: beside the site, only its generations, the one in use and the lock.
    assert [p.name for p in tmp_path.iterdir() if ".site." in p.name] == [".site.builds"]
    in_use = (tmp_path / "site").resolve().name
    assert sorted(p.name for p in (tmp_path / ".site.builds").iterdir()) == [in_use, "lock"]


def test_a_folder_that_is_not_an_archive_is_left_alone(config: Config, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.txt").write_text("years of work")
    with pytest.raises(NewsletterError, match="holds no archive built by newsletter"):
        build_archive(config, tmp_path / "home")
    assert (tmp_path / "home" / "thesis.txt").read_text() == "years of work"


PAYLOADS = [
    "<script>alert('title')</script>",
    "<img src=x onerror=alert('img')>",
    '"><svg onload=alert("svg")>',
]


def test_item_text_is_escaped_and_bad_links_dropped(
    published: Path, config: Config, tmp_path: Path
) -> None:
    frozen = published / "2020-10" / "v1" / "issue.toml"
    text = frozen.read_text()
    text = text.replace('title = "The ILO chaired', f'title = {PAYLOADS[0]!r} # "')
    text = text.replace(
        'summary = ""', f'summary = {PAYLOADS[1]!r}\nurl = "javascript:alert(1)"', 1
    )
    text = text.replace('intro = """\n"""', f"intro = {PAYLOADS[2]!r}")
    frozen.write_text(text)  # a hand-made frozen copy: the archive must not trust it either
    site = tmp_path / "site"
    build_archive(config, site)
    page = (site / "ilo-coop-enews" / "2020-10" / "index.html").read_text()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    assert "onerror" not in page  # summaries and intros: safe inline markup only
    assert "<img src=x" not in page
    assert "onload" not in page
    assert "<svg" not in page
    assert "javascript:" not in page
    index = (site / "search-index.json").read_text()
    assert PAYLOADS[0] in index  # data, read as text by the search script


def test_unsafe_names_are_left_out(published: Path, config: Config, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(published / "2020-10", published / "Evil..name")
    report = build_archive(config, tmp_path / "site")
    assert report.skipped == ["ilo-coop-enews/Evil..name: not a safe file name"]
    assert not any("Evil" in name for name in files(tmp_path / "site"))


@pytest.mark.usefixtures("published")
def test_the_archive_wears_the_brand(workspace: Path, tmp_path: Path) -> None:
    config_file = workspace / "newsletter.toml"
    text = config_file.read_text()
    text = text.replace('primary = "#1e2dbe"', 'primary = "#8a1538"\ndark_primary = "#f0a5b8"')
    text = text.replace(
        '# logo_url = "https://..."',
        'logo_url = "https://example.org/logo.png"\nlogo_alt = "Coop Unit"',
    )
    text = text.replace('body = "Helvetica, Arial, sans-serif"', 'body = "Georgia, serif"')
    config_file.write_text(text)
    site = tmp_path / "site"
    build_archive(load_config(config_file), site)
    css = (site / "assets" / "brand.css").read_text()
    assert ":root { --primary: #8a1538; }" in css
    assert "body { font-family: Georgia, serif; }" in css
    assert "--primary: #f0a5b8" in css  # dark mode has its own
    for page in html_pages(site):
        html = page.read_text()
        assert 'assets/brand.css">' in html, page
        assert '<img class="logo" src="https://example.org/logo.png" alt="Coop Unit"' in html
    config_file.write_text(text.replace("#8a1538", "#0b6e4f"))
    report = build_archive(load_config(config_file), site)
    assert "#0b6e4f" in (site / "assets" / "brand.css").read_text()
    assert report.written == ["assets/brand.css"]  # only the style sheet changed


@pytest.mark.usefixtures("published")
def test_the_archives_copy_of_the_email_has_no_merge_tags(config: Config, tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_archive(config, site)
    frozen = config.root / "issues" / "ilo-coop-enews" / "2020-11" / "v1" / "email.html"
    assert "%%unsubscribe_url%%" in frozen.read_text()  # as sent: each subscriber's own
    copy = (site / "ilo-coop-enews" / "2020-11" / "email.html").read_text()
    assert "%%" not in copy
    newsletter = config.newsletters["ilo-coop-enews"]
    assert f'href="{newsletter.unsubscribe_url}"' in copy  # the list's page, nobody's link
    # Nor anywhere else in the site: pages, feeds, the search index, the sitemap.
    files = [path for path in site.rglob("*") if path.is_file()]
    assert len(files) > 10
    assert [path.relative_to(site) for path in files if b"%%" in path.read_bytes()] == []


@pytest.mark.usefixtures("published")
def test_with_public_pages_the_newsletter_and_issue_pages_carry_a_subscribe_form(
    config: Config, tmp_path: Path
) -> None:
    from dataclasses import replace

    from newsletter.config import SubscriptionsConfig

    build_archive(config, tmp_path / "without")
    assert not any("form-action 'self' " in p.read_text() or 'class="subscribe"' in p.read_text()
                   for p in html_pages(tmp_path / "without"))  # fmt: skip
    served = replace(config, subscriptions=SubscriptionsConfig(url="https://join.example.org/n/"))
    build_archive(served, tmp_path / "with")
    for path in ("ilo-coop-enews/index.html", "ilo-coop-enews/2020-11/index.html"):
        text = (tmp_path / "with" / path).read_text()
        assert '<form class="subscribe" method="post" ' \
               'action="https://join.example.org/n/ilo-coop-enews/subscribe">' in text  # fmt: skip
        assert "form-action 'self' https://join.example.org\">" in text  # the policy lets it post
        assert 'name="website" tabindex="-1" autocomplete="off"' in text
    assert 'class="subscribe"' not in (tmp_path / "with" / "index.html").read_text()
