"""A newsletter's language editions in the archive: published under their issue's number, one
page per edition in its language with hreflang alternates and a switcher, a list of issues, a
feed and a search per language; checked in files, in Chromium with axe, and for English left
on the French and Spanish pages."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.archive.build import build_archive
from newsletter.config import Config, load_config
from newsletter.issue import read_issue
from newsletter.pool import Pool
from newsletter.render.theme import Theme, theme_folders
from tests.archive.test_browser import AXE, Watched, serve
from tests.conftest import invoke
from tests.editions import SLUG, editions_workspace
from tests.localised import authors_text, english_in, english_words, text_nodes

BASE = "https://newsletters.example.org/"
EDITIONS = {"en": "2020-11", "fr": "2020-11.fr", "es": "2020-11.es"}
NAMES = {"en": "English", "fr": "Français", "es": "Español"}
# The French and Spanish pages: each edition's issue, list of issues and search.
LOCAL_PAGES = {
    language: [f"{SLUG}/{EDITIONS[language]}/index.html", f"{SLUG}/{language}/index.html",
               f"search.{language}.html"]
    for language in ("fr", "es")
}  # fmt: skip


def publish(config: Path, name: str, *options: str) -> Any:
    return invoke("--config", str(config), "publish", f"{SLUG}/{name}", *options)


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> tuple[Config, Path]:
    """The editions workspace with all three editions of 2020-11 published, and its archive."""
    path = editions_workspace(tmp_path / "ws", database_url)
    for language, slug in EDITIONS.items():
        done = publish(path, slug, "--date", "2020-12-01" if language == "en" else "2020-12-02")
        assert done.exit_code == 0, done.output
    config = load_config(path, environ={})
    build_archive(config, tmp_path / "site")
    return config, tmp_path / "site"


def page_of(site: Path, url: str, at: str = "") -> Path:
    """The built file an address of the site (absolute, or relative to the page `at`) is."""
    if url.startswith(BASE):
        relative = url.removeprefix(BASE)
    else:
        relative = urlsplit(urljoin(f"http://site/{at}", url)).path.lstrip("/")
    file = site / relative
    return file / "index.html" if relative.endswith("/") or not relative else file


def test_an_edition_takes_its_issue_number_and_waits_for_it(
    tmp_path: Path, database_url: str
) -> None:
    path = editions_workspace(tmp_path / "ws", database_url)
    issues = path.parent / "issues" / SLUG
    refused = publish(path, "2020-11.fr")
    assert refused.exit_code != 0
    message = refused.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "2020-11.fr is an edition of ilo-coop-enews/2020-11, which is not published" in message
    assert "publish ilo-coop-enews/2020-11 first" in message
    assert not (issues / "2020-11.fr").exists()  # nothing frozen, the file still a draft
    assert 'status = "draft"' in (issues / "2020-11.fr.toml").read_text(encoding="utf-8")

    assert publish(path, "2020-11", "--date", "2020-12-01").exit_code == 0
    wrong = publish(path, "2020-11.es", "--number", "2", "--date", "2020-12-01")
    assert wrong.exit_code != 0
    assert "is an edition of ilo-coop-enews/2020-11, no. 1" in wrong.stderr
    early = publish(path, "2020-11.es", "--date", "2020-11-30")
    assert early.exit_code != 0
    assert "before ilo-coop-enews/2020-11" in early.stderr
    for slug in ("2020-11.fr", "2020-11.es"):
        done = publish(path, slug, "--date", "2020-12-02")
        assert done.exit_code == 0, done.output
        assert f"published {SLUG}/{slug} as no. 1 on 2020-12-02" in done.output
        record = json.loads((issues / slug / "v1" / "publication.json").read_text("utf-8"))
        assert (record["number"], record["edition_of"]) == (1, "2020-11")
        assert read_issue(issues / f"{slug}.toml", load_config(path, environ={})).number == 1
    # Editions are no issues of their own: the next issue is no. 2, the record one row.
    shutil.copy(issues / "2020-11.toml", issues / "2020-11-extra.toml")
    done = publish(path, "2020-11-extra", "--date", "2020-12-03")
    assert "as no. 2 on 2020-12-03" in done.output, done.output
    with Pool.open(database_url, {}) as pool:
        rows = [(p.slug, p.number) for p in pool.publications(SLUG)]
    assert rows == [("2020-11", 1), ("2020-11-extra", 2)]
    # An issue named after a language would be that language's list of issues.
    shutil.copy(issues / "2020-11.toml", issues / "fr.toml")
    named = publish(path, "fr")
    assert named.exit_code != 0
    assert "cannot be named after one of the newsletter's languages" in named.stderr


def test_one_page_per_edition_with_alternates_and_a_switcher(site: tuple[Config, Path]) -> None:
    _config, folder = site
    for language, slug in EDITIONS.items():
        page = folder / SLUG / slug / "index.html"
        document = lxml_html.document_fromstring(page.read_text(encoding="utf-8"))
        assert document.get("lang") == language, page
        at = f"{SLUG}/{slug}/index.html"
        alternates = {
            link.get("hreflang"): link.get("href")
            for link in document.xpath("//head/link[@rel='alternate'][@hreflang]")
        }
        assert alternates == {
            **{lang: f"{BASE}{SLUG}/{other}/" for lang, other in EDITIONS.items()},
            "x-default": f"{BASE}{SLUG}/2020-11/",
        }
        for href in alternates.values():
            assert page_of(folder, href).is_file(), href
        switcher = document.xpath("//nav[@class='languages']//a")
        assert [(a.get("lang"), a.get("hreflang"), a.text) for a in switcher] == [
            (lang, lang, NAMES[lang]) for lang in EDITIONS
        ]
        for link in switcher:
            target = page_of(folder, link.get("href"), at)
            shown = lxml_html.document_fromstring(target.read_text(encoding="utf-8"))
            assert shown.get("lang") == link.get("hreflang"), target
        assert [a.get("lang") for a in switcher if a.get("aria-current")] == [language]
        # The same number: the issue's
        meta = document.xpath("//main/p[@class='meta']")[0].text_content()
        assert meta.split(" · ")[0].endswith(" 1"), meta
        # Its search is its language's; the French page links its English stories as such.
        search = document.xpath("//form[@role='search']")[0].get("action")
        assert search == ("../../search.html" if language == "en" else
                          f"../../search.{language}.html")  # fmt: skip
    french = (folder / SLUG / "2020-11.fr" / "index.html").read_text(encoding="utf-8")
    assert 'lang="en">English</span>' in french
    assert "Actualités" in french
    assert "2 décembre 2020" in french
    spanish = (folder / SLUG / "2020-11.es" / "index.html").read_text(encoding="utf-8")
    assert "Noticias" in spanish
    assert "2 diciembre 2020" in spanish
    # Topics by the names the config gives them in each language (`names`).
    chips = {
        code: {a.text_content() for a in lxml_html.document_fromstring(
            (folder / SLUG / slug / "index.html").read_text(encoding="utf-8")
        ).xpath("//ul[@class='topics']//a")}
        for code, slug in EDITIONS.items()
    }  # fmt: skip
    assert chips == {"en": {"Cooperatives"}, "fr": {"Coopératives"}, "es": {"Cooperativas"}}


def test_lists_feeds_and_search_per_language(site: tuple[Config, Path]) -> None:
    _config, folder = site
    for language, slug in EDITIONS.items():
        at = f"{SLUG}/index.html" if language == "en" else f"{SLUG}/{language}/index.html"
        document = lxml_html.document_fromstring((folder / at).read_text(encoding="utf-8"))
        assert document.get("lang") == language
        listed = [a.get("href") for a in document.xpath("//ol[@class='issues']//a")]
        assert [page_of(folder, href, at) for href in listed] == [
            folder / SLUG / slug / "index.html"
        ]
        switcher = document.xpath("//nav[@class='languages']//a")
        assert [(a.get("hreflang"), a.text) for a in switcher] == list(NAMES.items())
        for link in switcher:
            assert page_of(folder, link.get("href"), at).is_file()
        feed = folder / at.replace("index.html", "feed.xml")
        text = feed.read_text(encoding="utf-8")
        assert f'xml:lang="{language}"' in text
        assert f"<id>{BASE}{SLUG}/{slug}/</id>" in text
        assert text.count("<entry>") == 1
        assert f'href="../{"../" * (language != "en")}{at.rsplit("/", 1)[0]}/feed.xml"' not in text
        # The search: its index holds that language's issues only.
        suffix = "" if language == "en" else f".{language}"
        index = json.loads((folder / f"search-index{suffix}.json").read_text(encoding="utf-8"))
        assert {rows[0][0] for rows in index["entries"]} == {f"{SLUG}/{slug}/index.html"}
        search = lxml_html.document_fromstring(
            (folder / f"search{suffix}.html").read_text(encoding="utf-8")
        )
        assert search.get("lang") == language
        status = search.get_element_by_id("search-status")
        assert status.get("data-index") == f"search-index{suffix}.json"
    # The site's home: the newsletter once, its other languages linked and named.
    home = lxml_html.document_fromstring((folder / "index.html").read_text(encoding="utf-8"))
    assert [h.text_content() for h in home.xpath("//main//h2")] == ["ILO COOP eNews"]
    others = home.xpath("//main//section//a[@hreflang]")
    assert [(a.get("href"), a.get("lang"), a.text) for a in others] == [
        (f"{SLUG}/fr/index.html", "fr", "Français"),
        (f"{SLUG}/es/index.html", "es", "Español"),
    ]


def test_only_published_editions_are_offered(tmp_path: Path, database_url: str) -> None:
    path = editions_workspace(tmp_path / "ws", database_url)
    assert publish(path, "2020-11", "--date", "2020-12-01").exit_code == 0
    config = load_config(path, environ={})
    build_archive(config, tmp_path / "site")
    english = (tmp_path / "site" / SLUG / "2020-11" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate" hreflang' not in english
    assert 'class="languages"' not in english
    assert not (tmp_path / "site" / SLUG / "fr").exists()
    assert publish(path, "2020-11.fr", "--date", "2020-12-02").exit_code == 0
    build_archive(config, tmp_path / "site")
    english = (tmp_path / "site" / SLUG / "2020-11" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate" hreflang="fr"' in english
    assert '<link rel="alternate" hreflang="es"' not in english
    assert (tmp_path / "site" / SLUG / "fr" / "index.html").is_file()
    assert not (tmp_path / "site" / SLUG / "es").exists()


@pytest.mark.parametrize("language", ["fr", "es"])
def test_no_english_theme_word_on_the_edition_pages(
    site: tuple[Config, Path], language: str
) -> None:
    config, folder = site
    issue = read_issue(config.root / "issues" / SLUG / f"{EDITIONS[language]}.toml", config)
    authors = authors_text(config, issue)
    # A type no labels table names is shown as the source wrote it: the source's words.
    labels = Theme(theme_folders(None)).labels_for(language)
    authors += [item.type for item in issue.items if labels.type_label(item.type) == item.type]
    authors += [config.newsletters[SLUG].edition(language).name, "English"]  # switcher, marks
    words = english_words(language)
    for path in LOCAL_PAGES[language]:
        shown = (folder / path).read_text(encoding="utf-8")
        assert f'<html lang="{language}"' in shown, path
        assert english_in(text_nodes(shown), words, authors) == [], path


@pytest.fixture
def site_url(site: tuple[Config, Path]) -> Iterator[str]:
    yield from serve(site[1])


def go(page: Any, url: str) -> None:
    """Open `url`, which must be there."""
    response = page.goto(url)
    assert response is not None, url
    assert response.ok, url


def test_edition_pages_in_chromium_with_axe(browser: Any, site_url: str, artifacts: Path) -> None:
    assert AXE.is_file(), "axe-core is missing: `make test` installs it from the npm registry"
    watched = Watched(browser, width=1024, bypass_csp=True)  # lets axe's script in
    page = watched.page
    for language, paths in LOCAL_PAGES.items():
        for path in paths:
            go(page, site_url + path)
            assert page.evaluate("document.documentElement.lang") == language, path
            page.add_script_tag(content=AXE.read_text())
            found = page.evaluate("axe.run().then(r => r.violations)")
            serious = [(v["id"], v["impact"], len(v["nodes"])) for v in found
                       if v["impact"] in ("serious", "critical")]  # fmt: skip
            assert serious == [], f"{path}: {serious}"
            # Every link of the switcher leads to a page in the language it names.
            switcher = page.locator("nav.languages a")
            targets = [
                (switcher.nth(n).get_attribute("href"), switcher.nth(n).get_attribute("hreflang"))
                for n in range(switcher.count())
            ]
            if path.startswith("search"):
                assert targets == []
                continue
            assert [lang for _, lang in targets] == list(EDITIONS)
            for href, lang in targets:
                go(page, urljoin(site_url + path, href or ""))
                assert page.evaluate("document.documentElement.lang") == lang
    # The switcher, clicked: from the French issue to the Spanish one.
    page.goto(site_url + f"{SLUG}/2020-11.fr/index.html")
    page.screenshot(path=str(artifacts / "archive-edition-fr.png"))
    page.get_by_role("navigation", name="Langues").get_by_role("link", name="Español").click()
    assert page.url.endswith(f"{SLUG}/2020-11.es/index.html")
    assert (
        page.get_by_role("heading", level=1).inner_text() == "ILO COOP eNews - número de noviembre"
    )
    # A search in French finds the French edition's story, and only there.
    page.goto(site_url + "search.fr.html?q=colloque")
    page.wait_for_selector("#search-results li")
    results = page.locator("#search-results li a")
    hrefs = [results.nth(n).get_attribute("href") or "" for n in range(results.count())]
    # The issue (its preheader tells of the colloquium) and the story, in French only.
    assert len(hrefs) == 2, hrefs
    assert all(f"{SLUG}/2020-11.fr/index.html" in href for href in hrefs), hrefs
    results.last.click()
    assert f"{SLUG}/2020-11.fr/index.html#item-" in page.url
    assert watched.errors == []
    watched.close()


def test_the_studio_says_an_edition_takes_its_issue_number(
    tmp_path: Path, database_url: str
) -> None:
    from starlette.testclient import TestClient

    from newsletter.web.studio import make_app
    from newsletter.workspace import Workspace

    path = editions_workspace(tmp_path / "ws", database_url)
    french = f"/issues/{SLUG}/2020-11.fr/publish"
    with Workspace(path) as opened, TestClient(make_app(opened)) as client:
        waiting = client.get(french).text
        assert "It is the fr edition of 2020-11, which is not published" in waiting
        assert "Publish it" not in waiting
        assert publish(path, "2020-11").exit_code == 0
        ready = client.get(french).text
        assert "and takes its number: <strong>no. 1</strong>" in ready
        assert "Publish it" in ready
