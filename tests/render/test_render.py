"""Rendering: golden files for the samples, escaping, links, the text part, and errors that name
the template line."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.config import Config, load_config
from newsletter.errors import NewsletterError
from newsletter.issue import Issue, IssueItem, Section, read_issue
from newsletter.render import link_of, render_issue, write_rendered
from newsletter.render.theme import DEFAULT_THEME, Theme
from tests.conftest import DATA, ROOT

GOLDEN = DATA / "golden"
SAMPLES = ("2020-10", "2020-11")
UPDATE = os.environ.get("NEWSLETTER_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def sample_config() -> Config:
    return load_config(ROOT / "newsletter.toml", environ={})


def sample(config: Config, slug: str) -> Issue:
    return read_issue(ROOT / "issues" / "ilo-coop-enews" / f"{slug}.toml", config)


@pytest.mark.parametrize("slug", SAMPLES)
def test_golden_files(sample_config: Config, slug: str) -> None:
    """Regenerate on purpose only: `make golden` (NEWSLETTER_UPDATE_GOLDEN=1)."""
    email = render_issue(sample(sample_config, slug), sample_config)
    for name, content in (("email.html", email.html), ("email.txt", email.text)):
        golden = GOLDEN / slug / name
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(content, encoding="utf-8")
        assert content == golden.read_text(encoding="utf-8"), f"{golden} differs"


def test_rendering_is_deterministic(sample_config: Config) -> None:
    issue = sample(sample_config, "2020-11")
    first = render_issue(issue, sample_config)
    assert render_issue(issue, sample_config, Theme((DEFAULT_THEME,))) == first


def parsed(html: str) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(html)


def test_the_html_has_what_clients_and_readers_need(sample_config: Config) -> None:
    email = render_issue(sample(sample_config, "2020-11"), sample_config)
    document = parsed(email.html)
    assert email.html.startswith("<!doctype html>")
    assert document.get("lang") == "en"
    assert document.get("dir") == "ltr"
    assert document.findtext(".//title") == "ILO COOP eNews - November issue"
    tables = document.findall(".//table")
    assert tables
    assert all(table.get("role") == "presentation" for table in tables)
    assert "<!--[if mso | IE]>" in email.html  # MJML's Outlook conditionals survive inlining
    assert "@media (prefers-color-scheme: dark)" in email.html
    assert "[data-ogsc] .ti" in email.html
    assert '<meta name="color-scheme" content="light dark"' in email.html
    hidden = document.xpath("//body//div[contains(@style, 'display:none')]")[0]
    assert hidden.text_content().startswith("A two-day symposium is held")
    assert "\u034f\u200c\u00a0" * 10 in hidden.text_content()  # padding after the preheader
    # Styles are inlined: an item title carries its own.
    title = document.xpath("//h3[@class='ti']")[0]
    assert "font-size:18px" in title.get("style").replace(" ", "")


def test_item_titles_link_to_their_page_or_their_listing_page() -> None:
    item = IssueItem("0" * 16, "News", "T", date(2020, 11, 1))
    assert link_of(replace(item, url="https://ilo.org/a")) == "https://ilo.org/a"
    assert link_of(replace(item, listing_url="https://ilo.org/list")) == "https://ilo.org/list"
    assert link_of(item) is None
    assert link_of(replace(item, url="/relative", listing_url="javascript:x()")) is None


def synthetic_issue(items: tuple[IssueItem, ...], **fields: object) -> Issue:
    base = Issue(
        path=Path("issues/ilo-coop-enews/test.toml"),
        newsletter="ilo-coop-enews",
        title="Test issue",
        status="draft",
        language="en",
        start=date(2020, 11, 1),
        end=date(2020, 11, 30),
        preheader="A preheader long enough to fill the preview line",
        sections=(Section("News", items),),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_an_item_without_any_link_has_an_unlinked_title(sample_config: Config) -> None:
    bare = IssueItem("1" * 16, "News", "No link anywhere", date(2020, 11, 2), "Text.")
    email = render_issue(synthetic_issue((bare,)), sample_config)
    heading = parsed(email.html).xpath("//h3[@class='ti']")[0]
    assert heading.text_content() == "No link anywhere"
    assert heading.find("a") is None
    assert all(a.get("href") for a in parsed(email.html).iter("a"))  # no empty href anywhere
    assert "No link anywhere\n" in email.text  # and no reference number


def test_titles_are_escaped_and_summaries_keep_only_safe_inline_markup(
    sample_config: Config,
) -> None:
    nasty = IssueItem(
        "2" * 16, "News<i>", 'A title with <b>&"\'', date(2020, 11, 3),
        "A summary with <script>alert('x')</script><em>stress</em>, a "
        '<a href="javascript:alert(1)">bad link</a>, a <a href="https://ilo.org/r">good one</a>'
        ", a <a href=\"/relative\">relative one</a> and AT&T.",
        url="https://ilo.org/a?b=1&c=2",
    )  # fmt: skip
    email = render_issue(
        synthetic_issue((nasty,), intro="Intro <strong>is</strong> <img src=x onerror=alert(1)>"),
        sample_config,
    )
    document = parsed(email.html)
    assert not document.xpath("//script | //img[@src='x'] | //b | //i")
    title = document.xpath("//h3[@class='ti']")[0]
    assert title.text_content() == "A title with <b>&\"'"
    summary = document.xpath("//p[@class='su']")[0]
    assert summary.text_content() == (
        "A summary with stress, a bad link, a good one, a relative one and AT&T."
    )
    assert [e.text for e in summary.iter("em")] == ["stress"]
    assert [a.get("href") for a in summary.iter("a")] == [None, "https://ilo.org/r", None]
    assert "javascript:" not in email.html
    assert "alert" not in email.html
    assert document.xpath("//p[@class='intro']/strong")[0].text == "is"
    assert 'href="https://ilo.org/a?b=1&amp;c=2"' in email.html
    assert "A title with <b>&\"'" in email.text
    assert "alert" not in email.text
    text = " ".join(email.text.split())
    number = re.search(
        r"A summary with stress, a bad link, a good one (\[\d+\]), a relative one and AT&T\.", text
    )
    assert number, email.text
    assert f"{number[1]} https://ilo.org/r" in email.text
    assert "Intro is" in email.text


def test_the_text_part_wraps_at_72_and_numbers_its_links(sample_config: Config) -> None:
    email = render_issue(sample(sample_config, "2020-11"), sample_config)
    lines = email.text.splitlines()
    assert max(len(line) for line in lines if "://" not in line) <= 72
    assert lines[0] == "ILO COOP eNews - November issue"
    assert "[1] https://www.ilo.org/global/topics/cooperatives/news/lang--en/index.htm" in lines
    assert lines[lines.index("Unsubscribe:") + 1] == "%%unsubscribe_url%%"
    web = lines.index("View in your browser:") + 1
    assert lines[web] == "https://newsletters.example.org/ilo-coop-enews/2020-11/"


_URL_LINE = re.compile(r"^(\[\d+\] )?(https?://|mailto:)\S+$")


@pytest.mark.parametrize("slug", SAMPLES)
def test_as_sent_every_url_has_its_own_line_and_every_other_line_fits_78_columns(
    sample_config: Config, slug: str
) -> None:
    """As export and send make it (tracking parameters, merge tags filled), with the longest
    words the samples could bring: a title and a type without spaces to break at."""
    from newsletter.export import list_values, prepared_email
    from newsletter.export.mime import fill_merge_tags

    issue = sample(sample_config, slug)
    first = issue.sections[0].items[0]
    long_word = "Cooperatives" * 5
    stretched = replace(first, title=f"{long_word} {first.title} " * 3, type="Press release" * 4)
    issue = replace(issue, title=issue.title * 3, sections=(
        replace(issue.sections[0], items=(stretched, *issue.sections[0].items[1:])),
        *issue.sections[1:],
    ))  # fmt: skip
    email, newsletter = prepared_email(issue, sample_config)
    text = fill_merge_tags(email, list_values(email, newsletter)).text
    assert "utm_campaign" in text  # as sent
    for line in text.splitlines():
        if "://" in line or "mailto:" in line:
            assert _URL_LINE.match(line), f"a URL shares its line: {line!r}"
        elif long_word not in line:  # one word longer than a line stays whole
            assert len(line) <= 78, f"{len(line)} columns: {line!r}"


def test_brand_settings_come_from_the_config(sample_config: Config, tmp_path: Path) -> None:
    toml = tmp_path / "newsletter.toml"
    toml.write_text(
        (ROOT / "newsletter.toml")
        .read_text()
        .replace('primary = "#1e2dbe"', 'primary = "#aa0044"')
        .replace("# logo_url", 'logo_url = "https://ilo.org/logo.png"\nlogo_alt = "ILO"\n#'),
        "utf-8",
    )
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    config = load_config(toml, environ={})
    email = render_issue(sample(sample_config, "2020-10"), config)
    document = parsed(email.html)
    assert "#aa0044" in email.html
    assert "#1e2dbe" not in email.html
    (logo,) = document.iter("img")
    assert (logo.get("src"), logo.get("alt")) == ("https://ilo.org/logo.png", "ILO")


def test_other_language_editions_are_linked(tmp_path: Path) -> None:
    toml = tmp_path / "newsletter.toml"
    text = (ROOT / "newsletter.toml").read_text()
    text = text.replace('language = "en"\ndate_format', 'languages = ["en", "fr"]\ndate_format')
    toml.write_text(text, "utf-8")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copytree(ROOT / "issues", tmp_path / "issues")
    french = tmp_path / "issues" / "ilo-coop-enews" / "2020-10.fr.toml"
    english = french.with_name("2020-10.toml").read_text("utf-8")
    french.write_text(english.replace('language = "en"', 'language = "fr"'), "utf-8")
    config = load_config(toml, environ={})
    email = render_issue(read_issue(french.with_name("2020-10.toml"), config), config)
    (link,) = parsed(email.html).xpath("//a[@lang='fr']")
    assert link.text_content() == "Français"
    assert link.get("href") == "https://newsletters.example.org/ilo-coop-enews/2020-10.fr/"
    back = render_issue(read_issue(french, config), config)
    (link,) = parsed(back.html).xpath("//a[@lang='en']")
    assert link.text_content() == "English"
    assert link.get("href") == "https://newsletters.example.org/ilo-coop-enews/2020-10/"


def test_french_dates_and_labels(sample_config: Config) -> None:
    item = IssueItem("3" * 16, "Actualité", "Titre", date(2020, 11, 9), "Texte.", "https://a.org")
    email = render_issue(synthetic_issue((item,), language="fr"), sample_config)
    assert "9 novembre 2020" in email.html
    assert "Lire la suite" in email.html
    assert parsed(email.html).get("lang") == "fr"
    assert email.text.splitlines()[1] == "novembre 2020"


def write_theme(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "theme"
    (folder / "email").mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, "utf-8")
    return folder


def theme_config(sample_config: Config, folder: Path) -> Config:
    newsletter = replace(sample_config.newsletters["ilo-coop-enews"], templates=folder)
    return replace(sample_config, newsletters={"ilo-coop-enews": newsletter})


def test_a_newsletter_theme_overrides_one_template(sample_config: Config, tmp_path: Path) -> None:
    folder = write_theme(
        tmp_path,
        "email/item.mjml.j2",
        '{% macro item(entry, lead=false) %}<p class="mine">{{ entry.title }}</p>{% endmacro %}',
    )
    email = render_issue(sample(sample_config, "2020-10"), theme_config(sample_config, folder))
    assert len(parsed(email.html).xpath("//p[@class='mine']")) == 2
    assert "View in your browser" in email.html  # the rest still comes from the default theme


def test_a_template_syntax_error_names_the_template_line(
    sample_config: Config, tmp_path: Path
) -> None:
    folder = write_theme(tmp_path, "email.txt.j2", "{{ issue.title }}\n{% if %}\n")
    with pytest.raises(NewsletterError) as caught:
        render_issue(sample(sample_config, "2020-10"), theme_config(sample_config, folder))
    assert (caught.value.path, caught.value.line) == (str(folder / "email.txt.j2"), 2)
    assert caught.value.message.startswith("template error: ")


def test_an_undefined_name_names_the_template_line(sample_config: Config, tmp_path: Path) -> None:
    folder = write_theme(tmp_path, "email.txt.j2", "{{ issue.title }}\n\n{{ issue.nonsense }}\n")
    with pytest.raises(NewsletterError) as caught:
        render_issue(sample(sample_config, "2020-10"), theme_config(sample_config, folder))
    assert (caught.value.path, caught.value.line) == (str(folder / "email.txt.j2"), 3)
    assert "nonsense" in caught.value.message


def test_an_mjml_error_names_the_template_line(sample_config: Config, tmp_path: Path) -> None:
    default = (DEFAULT_THEME / "email.mjml.j2").read_text()
    broken = default.replace("<mj-column>", "<mj-column><mj-text>unclosed", 1)
    folder = write_theme(tmp_path, "email.mjml.j2", broken)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "unclosed" in text)
    with pytest.raises(NewsletterError) as caught:
        render_issue(sample(sample_config, "2020-10"), theme_config(sample_config, folder))
    assert caught.value.message.startswith("MJML does not compile (")
    assert "Rust" not in str(caught.value)
    assert caught.value.path == folder / "email.mjml.j2"
    assert caught.value.line is not None
    assert abs(caught.value.line - line) <= 3


def test_write_rendered(sample_config: Config, tmp_path: Path) -> None:
    email = render_issue(sample(sample_config, "2020-10"), sample_config)
    written = write_rendered(email, tmp_path / "out", keep_mjml=True)
    assert [p.name for p in written] == ["email.html", "email.txt", "email.mjml"]
    assert (tmp_path / "out" / "email.html").read_text() == email.html
    assert re.search(r"<mj-section", (tmp_path / "out" / "email.mjml").read_text())
