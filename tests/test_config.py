"""`newsletter.toml`: the sample loads, defaults apply, lookup works, errors name their line."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from newsletter.config import (
    Config,
    SectionConfig,
    find_config,
    load_config,
    locate_key,
)
from newsletter.errors import NewsletterError
from tests.conftest import COOPERATIVES, ROOT, SAMPLE_LISTINGS, WHATS_NEW

TOPICS = """\
[topics.cooperatives]
name = "Cooperatives"
keywords = ["coop"]
"""


def write(folder: Path, *parts: str, name: str = "newsletter.toml") -> Path:
    """Write the config made of `parts` (each dedented) in `folder`; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(textwrap.dedent(part) for part in parts), encoding="utf-8")
    return path


SENDER = '[newsletters.enews]\nname = "eNews"\n[newsletters.enews.sender]\nfrom = "e@ilo.org"\n'


def load(path: Path) -> Config:
    return load_config(path, environ={})


def load_error(path: Path) -> NewsletterError:
    with pytest.raises(NewsletterError) as caught:
        load(path)
    return caught.value


def line_of(path: Path, fragment: str) -> int:
    """The 1-based number of the first line of the file that contains `fragment`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in {path}")


def assert_error(error: NewsletterError, path: Path, line: int, message: str) -> None:
    """The error names the file and line, its message starts with `message`, all on one line."""
    assert error.path == path.resolve()
    assert error.line == line
    assert error.message.startswith(message), error.message
    assert str(error) == f"{path.resolve()}:{line}: {error.message}"
    assert "\n" not in str(error)


# The sample config


@pytest.fixture
def sample() -> Config:
    return load(ROOT / "newsletter.toml")


def test_sample_config_defines_the_four_topics(sample: Config) -> None:
    assert list(sample.topics) == [
        "cooperatives",
        "social-solidarity-economy",
        "supply-chains",
        "informality",
    ]
    assert sample.topics["cooperatives"].name == "Cooperatives"
    assert "cooperativ*" in sample.topics["cooperatives"].keywords
    assert sample.topics["informality"].slug == "informality"


def test_sample_config_sources_resolve_paths_against_the_config_folder(sample: Config) -> None:
    assert list(sample.sources) == ["ilo-cooperatives", "ilo-whats-new"]
    cooperatives = sample.sources["ilo-cooperatives"]
    whats_new = sample.sources["ilo-whats-new"]
    assert cooperatives.path == SAMPLE_LISTINGS / COOPERATIVES
    assert whats_new.path == SAMPLE_LISTINGS / WHATS_NEW
    assert cooperatives.path.is_file()
    assert whats_new.path.is_file()


def test_sample_config_sources_have_format_topics_language_and_listing_url(
    sample: Config,
) -> None:
    cooperatives = sample.sources["ilo-cooperatives"]
    whats_new = sample.sources["ilo-whats-new"]
    assert cooperatives.name == "ilo-cooperatives"
    assert cooperatives.format == "listing"
    assert cooperatives.url is None
    assert cooperatives.title == "News, stories and statements on cooperatives"
    assert cooperatives.topics == ("cooperatives",)
    assert whats_new.topics == ()
    assert cooperatives.language == "en"
    assert whats_new.language == "en"
    assert cooperatives.listing_url == (
        "https://www.ilo.org/global/topics/cooperatives/news/lang--en/index.htm"
    )
    assert whats_new.listing_url == (
        "https://www.ilo.org/global/about-the-ilo/whats-new/lang--en/index.htm"
    )


def test_sample_config_defines_the_ilo_coop_enews_newsletter(sample: Config) -> None:
    assert list(sample.newsletters) == ["ilo-coop-enews"]
    enews = sample.newsletters["ilo-coop-enews"]
    assert enews.slug == "ilo-coop-enews"
    assert enews.name == "ILO COOP eNews"
    assert enews.topics == ("cooperatives",)
    assert enews.title_pattern == "{name} - {month} issue"
    assert enews.language == "en"


def test_sample_newsletter_has_four_sections_with_their_types(sample: Config) -> None:
    assert sample.newsletters["ilo-coop-enews"].sections == (
        SectionConfig("News", ("News", "Press release*")),
        SectionConfig("Articles", ("Article", "Brief")),
        SectionConfig("Interviews", ("ILO COOP 100 Interview", "Interview")),
        SectionConfig("Publications", ("Publication",)),
    )


def test_sample_config_source_for_path_finds_the_source_reading_a_file(sample: Config) -> None:
    source = sample.source_for_path(SAMPLE_LISTINGS / WHATS_NEW)
    assert source is not None
    assert source.name == "ilo-whats-new"
    assert sample.source_for_path(ROOT / "README.md") is None


# Defaults and the database URL


def test_an_empty_config_loads_with_nothing_defined(tmp_path: Path) -> None:
    config = load(write(tmp_path, ""))
    assert config.path == (tmp_path / "newsletter.toml").resolve()
    assert config.root == tmp_path.resolve()
    assert dict(config.topics) == {}
    assert dict(config.sources) == {}
    assert dict(config.newsletters) == {}


def test_database_url_defaults_to_an_sqlite_file_next_to_the_config(tmp_path: Path) -> None:
    config = load(write(tmp_path / "workspace", ""))
    expected = (tmp_path / "workspace" / "newsletter.db").resolve()
    assert config.database_url == f"sqlite:///{expected}"
    assert expected.is_absolute()


def test_relative_sqlite_path_is_resolved_against_the_config_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "workspace", '[database]\nurl = "sqlite:///data/pool.db"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    expected = (tmp_path / "workspace" / "data" / "pool.db").resolve()
    assert load(path).database_url == f"sqlite:///{expected}"


def test_absolute_sqlite_path_is_kept(tmp_path: Path) -> None:
    database = (tmp_path / "elsewhere" / "pool.db").resolve()
    path = write(tmp_path, f'[database]\nurl = "sqlite:///{database}"\n')
    assert load(path).database_url == f"sqlite:///{database}"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgresql_urls_get_the_psycopg_driver(tmp_path: Path, scheme: str) -> None:
    path = write(tmp_path, f'[database]\nurl = "{scheme}://editor@db.example.org/enews"\n')
    assert load(path).database_url == "postgresql+psycopg://editor@db.example.org/enews"


def test_database_url_environment_variable_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///from-file.db"\n')
    config = load_config(path, environ={"NEWSLETTER_DATABASE_URL": "postgres://h/from-env"})
    assert config.database_url == "postgresql+psycopg://h/from-env"


# Finding the config


def test_find_config_finds_newsletter_toml_in_a_parent_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "workspace", TOPICS)
    start = tmp_path / "workspace" / "examples" / "deep"
    start.mkdir(parents=True)
    assert find_config(start) == path.resolve()


def test_find_config_prefers_the_start_folder_over_its_parents(tmp_path: Path) -> None:
    write(tmp_path / "workspace", TOPICS)
    inner = write(tmp_path / "workspace" / "inner", TOPICS)
    assert find_config(tmp_path / "workspace" / "inner") == inner.resolve()


def test_find_config_without_any_config_gives_a_clear_error(tmp_path: Path) -> None:
    start = tmp_path / "empty"
    start.mkdir()
    assert not any((folder / "newsletter.toml").is_file() for folder in start.resolve().parents)
    with pytest.raises(NewsletterError) as caught:
        find_config(start)
    assert f"no newsletter.toml in {start.resolve()}" in str(caught.value)
    assert "--config" in str(caught.value)


def test_load_config_uses_newsletter_config_from_environ_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "configs", TOPICS, name="enews.toml")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    config = load_config(environ={"NEWSLETTER_CONFIG": str(path)})
    assert config.path == path.resolve()
    assert list(config.topics) == ["cooperatives"]


def test_load_config_searches_from_the_working_folder_when_nothing_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "workspace", TOPICS)
    inner = tmp_path / "workspace" / "inner"
    inner.mkdir()
    monkeypatch.chdir(inner)
    assert load_config(environ={}).path == path.resolve()


# Invalid configs: the file, the line, and the key


def test_missing_config_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    error = load_error(path)
    assert error.path == path.resolve()
    assert error.line is None
    assert error.message == "config file not found"
    assert str(error) == f"{path.resolve()}: config file not found"


# Python 3.14's TOMLDecodeError carries the line; older versions only say it in the text.
def test_toml_syntax_error_reports_the_line_from_tomllib(tmp_path: Path) -> None:
    path = write(tmp_path, '[topics.cooperatives]\nname = "Cooperatives"\nkeywords = [coop]\n')
    error = load_error(path)
    assert_error(error, path, 3, "invalid TOML: ")


def test_toml_syntax_error_message_says_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, '[topics.cooperatives]\nname = "Cooperatives"\nkeywords = [coop]\n')
    error = load_error(path)
    assert error.path == path.resolve()
    assert error.message.startswith("invalid TOML: ")
    assert "\n" not in str(error)


def test_unknown_key_suggests_the_closest_known_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [topics.cooperatives]
        name = "Cooperatives"
        keyword = ["coop"]
        """,
    )
    assert_error(
        load_error(path),
        path,
        3,
        "topics.cooperatives.keyword: unknown key (did you mean 'keywords'?)",
    )


def test_unknown_top_level_table_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, TOPICS, '\n[newsleters.enews]\nname = "eNews"\n')
    assert_error(
        load_error(path),
        path,
        line_of(path, "[newsleters.enews]"),
        "newsleters: unknown key (did you mean 'newsletters'?)",
    )


def test_unknown_source_format_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [sources.x]
        path = "x.txt"
        format = "rss"
        """,
    )
    assert_error(
        load_error(path),
        path,
        line_of(path, "format ="),
        "sources.x.format: unknown format 'rss'; known: auto, listing, feed, html, csv, json",
    )


def test_source_with_both_path_and_url_is_an_error_at_its_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [sources.x]
        path = "x.txt"
        url = "https://example.org/x"
        """,
    )
    assert_error(
        load_error(path),
        path,
        line_of(path, "[sources.x]"),
        "sources.x: give exactly one of 'path' and 'url'",
    )


def test_source_with_neither_path_nor_url_is_an_error_at_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, TOPICS, '\n[sources.x]\ntitle = "X"\n')
    assert_error(
        load_error(path),
        path,
        line_of(path, "[sources.x]"),
        "sources.x: give exactly one of 'path' and 'url'",
    )


def test_source_topic_outside_the_taxonomy_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [sources.x]
        path = "x.txt"
        topics = ["cooperatives", "fisheries"]
        """,
    )
    assert_error(
        load_error(path),
        path,
        line_of(path, "topics = ["),
        "sources.x.topics[1]: unknown topic 'fisheries' (topics: cooperatives)",
    )


def test_newsletter_topic_outside_the_taxonomy_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [newsletters.enews]
        name = "eNews"
        topics = ["fisheries"]
        """,
    )
    assert_error(
        load_error(path),
        path,
        line_of(path, "topics = ["),
        "newsletters.enews.topics[0]: unknown topic 'fisheries' (topics: cooperatives)",
    )


def test_section_topic_outside_the_taxonomy_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [newsletters.enews]
        name = "eNews"

        [[newsletters.enews.sections]]
        title = "News"

        [[newsletters.enews.sections]]
        title = "Fish"
        topics = ["fisheries"]
        """,
    )
    assert_error(
        load_error(path),
        path,
        line_of(path, 'topics = ["fisheries"]'),
        "newsletters.enews.sections[1].topics[0]: unknown topic 'fisheries'",
    )


def test_title_pattern_with_an_unknown_placeholder_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [newsletters.enews]
        name = "eNews"
        title_pattern = "{name} - {monthname} {year}"
        """,
    )
    assert_error(
        load_error(path),
        path,
        line_of(path, "title_pattern ="),
        "newsletters.enews.title_pattern: unknown placeholder {monthname}; "
        "known: {name}, {month}, {year}",
    )


def test_title_pattern_with_an_unclosed_brace_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[newsletters.enews]\nname = "eNews"\ntitle_pattern = "{name"\n')
    assert_error(load_error(path), path, 3, "newsletters.enews.title_pattern: invalid pattern: ")


def test_title_pattern_with_a_positional_placeholder_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[newsletters.enews]\nname = "eNews"\ntitle_pattern = "{} issue"\n')
    assert_error(load_error(path), path, 3, "newsletters.enews.title_pattern: placeholders need")


def test_title_pattern_with_a_nested_placeholder_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[newsletters.enews]\nname = "eNews"\ntitle_pattern = "{name:{width}}"\n'
    )
    assert_error(
        load_error(path), path, 3, "newsletters.enews.title_pattern: unknown placeholder {width}"
    )


def test_title_pattern_with_escaped_braces_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[newsletters.enews]\nname = "eNews"\ntitle_pattern = "{{{name}}} {year}"\n'
    )
    assert load(path).newsletters["enews"].title_pattern == "{{{name}}} {year}"


def test_newsletter_without_name_is_an_error_at_its_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [newsletters.enews]
        topics = ["cooperatives"]
        """,
    )
    assert_error(
        load_error(path),
        path,
        line_of(path, "[newsletters.enews]"),
        "newsletters.enews: missing 'name'",
    )


def test_section_without_title_is_an_error_at_its_own_header(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [newsletters.enews]
        name = "eNews"

        [[newsletters.enews.sections]]
        title = "News"

        [[newsletters.enews.sections]]
        types = ["Article"]
        """,
    )
    assert_error(load_error(path), path, 7, "newsletters.enews.sections[1]: missing 'title'")


def test_keywords_that_are_not_a_list_are_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[topics.cooperatives]\nname = "Cooperatives"\nkeywords = "coop"\n')
    assert_error(load_error(path), path, 3, "topics.cooperatives.keywords: expected a list")


def test_an_empty_keyword_is_an_error_at_its_list(tmp_path: Path) -> None:
    path = write(tmp_path, '[topics.cooperatives]\nkeywords = ["coop", " "]\n')
    assert_error(
        load_error(path),
        path,
        2,
        "topics.cooperatives.keywords[1]: expected a non-empty string",
    )


def test_bad_source_language_code_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources.x]\npath = "x.txt"\nlanguage = "English"\n')
    assert_error(
        load_error(path),
        path,
        3,
        "sources.x.language: expected a language code such as 'en' or 'fr', got 'English'",
    )


def test_bad_newsletter_language_code_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[newsletters.enews]\nname = "eNews"\nlanguage = "e"\n')
    assert_error(load_error(path), path, 3, "newsletters.enews.language: expected a language")


def test_regional_language_codes_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources.x]\npath = "x.txt"\nlanguage = "pt-BR"\n')
    assert load(path).sources["x"].language == "pt-BR"


def test_listing_url_that_is_not_http_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [sources.x]
        path = "x.txt"
        listing_url = "ftp://example.org/news"
        """,
    )
    assert_error(
        load_error(path),
        path,
        3,
        "sources.x.listing_url: expected an http(s) URL, got 'ftp://example.org/news'",
    )


def test_source_url_that_is_not_http_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources.x]\nurl = "www.example.org/news"\n')
    assert_error(load_error(path), path, 2, "sources.x.url: expected an http(s) URL")


def test_name_with_upper_case_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, TOPICS, '\n[sources.ILO]\npath = "x.txt"\n')
    assert_error(
        load_error(path),
        path,
        line_of(path, "[sources.ILO]"),
        "sources.ILO: use lower-case letters, digits and '-' in names",
    )


def test_name_with_spaces_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, TOPICS, '\n[newsletters."coop news"]\nname = "Coop news"\n')
    assert_error(
        load_error(path),
        path,
        line_of(path, '[newsletters."coop news"]'),
        "newsletters.coop news: use lower-case letters, digits and '-' in names",
    )


def test_a_source_that_is_not_a_table_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources]\nx = "x.txt"\n')
    assert_error(load_error(path), path, 2, "sources.x: expected a table")


def test_database_url_that_is_not_a_string_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[database]\nurl = 5\n")
    assert_error(load_error(path), path, 2, "database.url: expected a non-empty string")


# locate_key

LOCATE = """\
# a comment
[sources.x]
path = "x.txt"
topics = [
  "cooperatives",
]

[newsletters.enews]
name = "eNews"

[[newsletters.enews.sections]]
title = "News"

[[newsletters.enews.sections]]  # the second one
title = "Articles"
types = ["Article"]
"""


def test_locate_key_finds_a_key_inside_its_table() -> None:
    assert locate_key(LOCATE, ("sources", "x", "path")) == 3
    assert locate_key(LOCATE, ("newsletters", "enews", "name")) == 9


def test_locate_key_finds_a_table_by_its_header() -> None:
    assert locate_key(LOCATE, ("sources", "x")) == 2
    assert locate_key(LOCATE, ("sources",)) == 2


def test_locate_key_puts_a_list_element_on_its_list_line() -> None:
    assert locate_key(LOCATE, ("sources", "x", "topics", 0)) == 4


def test_locate_key_finds_an_array_of_tables_element_by_index() -> None:
    assert locate_key(LOCATE, ("newsletters", "enews", "sections", 0)) == 11
    assert locate_key(LOCATE, ("newsletters", "enews", "sections", 1)) == 14
    assert locate_key(LOCATE, ("newsletters", "enews", "sections", 1, "title")) == 15
    assert locate_key(LOCATE, ("newsletters", "enews", "sections", 1, "types", 0)) == 16


def test_locate_key_puts_the_array_of_tables_itself_on_its_first_element() -> None:
    assert locate_key(LOCATE, ("newsletters", "enews", "sections")) == 11


def test_locate_key_points_a_missing_key_at_its_table() -> None:
    assert locate_key(LOCATE, ("sources", "x", "format")) == 2
    assert locate_key(LOCATE, ("newsletters", "enews", "sections", 0, "types")) == 11


def test_locate_key_finds_dotted_and_inline_keys() -> None:
    text = '[sources]\nx.path = "x.txt"\ny = { url = "https://example.org" }\n'
    assert locate_key(text, ("sources", "x", "path")) == 2
    assert locate_key(text, ("sources", "x")) == 2
    assert locate_key(text, ("sources", "y", "url")) == 3


def test_locate_key_returns_none_for_a_key_nowhere_in_the_text() -> None:
    assert locate_key(LOCATE, ("topics", "cooperatives")) is None
    assert locate_key("", ("database", "url")) is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[newsletters.enews]\nname = "eNews"\nlanguage = "zz"\n', "newsletters.enews.language:"),
        ('[newsletters.enews]\nname = "eNews"\ntitle_pattern = "{month.x}"\n', "invalid pattern"),
        ('[newsletters.add]\nname = "eNews"\n', "'add' is a word of `newsletter draft`"),
        (
            '[newsletters.enews]\nname = "eNews"\n[newsletters.enews.sender]\nfrom = "nobody"\n',
            "newsletters.enews.sender.from: expected an address",
        ),
        ('[smtp]\nsecurity = "tls"\n', "smtp.security: expected one of starttls, ssl, none"),
        ("[smtp]\nconnections = 0\n", "smtp.connections: expected a whole number from 1 to 16"),
        ("[smtp]\nconnections = 17\n", "smtp.connections: expected a whole number from 1 to 16"),
        ("[smtp]\nconnections = 2.5\n", "smtp.connections: expected a whole number"),
        ("[smtp]\nconnections = true\n", "smtp.connections: expected a whole number"),
        (SENDER + 'verp = "yes"\n', "newsletters.enews.sender.verp: expected true or false"),
        (SENDER + 'return_path = "bounces"\n', "sender.return_path: expected an address"),
        (SENDER + 'return_path = "Bounces <b@ilo.org>"\n', "expected a bare address"),
        (SENDER + 'return_path = "<b@ilo.org>"\n', "expected a bare address"),
        (SENDER + 'return_path = "büro@ilo.org"\n', "expected an ASCII address"),
        (SENDER + "return_path = 3\n", "newsletters.enews.sender.return_path:"),
        ('[brand.colors]\nprimary = "red; background: url(x)"\n', "brand.colors.primary:"),
    ],
)
def test_more_invalid_values(tmp_path: Path, table: str, message: str) -> None:
    path = write(tmp_path, table)
    assert message in str(load_error(path))


def test_smtp_connections_and_the_envelope_sender_keys(tmp_path: Path) -> None:
    plain = load(write(tmp_path, SENDER))
    assert plain.smtp.connections == 1
    sender = plain.newsletters["enews"].sender
    assert sender is not None
    assert (sender.verp, sender.return_path) == (False, None)
    chosen = load(write(tmp_path, SENDER, 'verp = true\nreturn_path = "Bounces@ILO.org"\n',
                        "[smtp]\nconnections = 4\n"))  # fmt: skip
    assert chosen.smtp.connections == 4
    sender = chosen.newsletters["enews"].sender
    assert sender is not None
    assert (sender.verp, sender.return_path) == (True, "Bounces@ilo.org")


def test_a_title_pattern_may_format_the_year(tmp_path: Path) -> None:
    path = write(tmp_path, '[newsletters.enews]\nname = "eNews"\ntitle_pattern = "{year:04d}"\n')
    assert load(path).newsletters["enews"].title_pattern == "{year:04d}"


def test_sources_of_every_format_read_their_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        TOPICS,
        """
        [sources.feed]
        url = "https://www.ilo.org/rss/news"
        default_type = "News"

        [sources.page]
        url = "https://www.ilo.org/global/topics/cooperatives/news/lang--en/index.htm"
        format = "html"
        selectors = { item = "div.views-row", title = "h3", date = "time" }

        [sources.sheet]
        path = "partners.csv"
        columns = { title = "Headline", date = "Published on" }
        date_format = "%d/%m/%Y"

        [fetch]
        timeout = 5
        retries = 0

        [dedupe]
        merge_at = 95
        review_at = 80
        max_days_apart = 2
        """,
    )
    config = load(path)
    feed, page, sheet = config.sources.values()
    assert (feed.format, feed.url, feed.default_type) == (
        "auto",
        "https://www.ilo.org/rss/news",
        "News",
    )
    assert page.selectors == {"item": "div.views-row", "title": "h3", "date": "time"}
    assert sheet.columns == {"title": "Headline", "date": "Published on"}
    assert sheet.path == tmp_path / "partners.csv"
    assert (config.fetch.timeout, config.fetch.retries, config.fetch.max_bytes) == (
        5.0,
        0,
        10485760,
    )
    assert (config.dedupe.merge_at, config.dedupe.review_at, config.dedupe.max_days_apart) == (
        95.0, 80.0, 2,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("table", "fragment", "message"),
    [
        (
            '[sources.page]\nurl = "https://a.org/"\nformat = "html"\n'
            'selectors = { title = "h3" }\n',
            "selectors =",
            "sources.page.selectors: an HTML source needs an 'item' selector",
        ),
        (
            '[sources.page]\nurl = "https://a.org/"\nformat = "html"\n'
            'selectors = { item = "div[", title = "h3" }\n',
            "selectors =",
            "sources.page.selectors.item: not a CSS selector",
        ),
        (
            '[sources.sheet]\npath = "a.csv"\ncolumns = { headline = "Title" }\n',
            "columns =",
            "sources.sheet.columns.headline: unknown key",
        ),
        ("[dedupe]\nmerge_at = 80\nreview_at = 90\n", "review_at", "dedupe.review_at: must not"),
        ("[dedupe]\nmerge_at = 120\n", "merge_at", "dedupe.merge_at: expected a score from 0"),
        ("[fetch]\ntimeout = -1\n", "timeout", "fetch.timeout: expected a positive number"),
        ("[fetch]\nretries = 1.5\n", "retries", "fetch.retries: expected a whole number"),
    ],
)
def test_bad_source_fetch_and_dedupe_settings_name_their_key(
    tmp_path: Path, table: str, fragment: str, message: str
) -> None:
    path = write(tmp_path, TOPICS, "\n" + table)
    assert_error(load_error(path), path, line_of(path, fragment), message)


def test_merging_on_ingest_can_be_turned_off(tmp_path: Path) -> None:
    from newsletter.neardupes import Story, Verdict, judge

    path = write(tmp_path, TOPICS, "\n[dedupe]\nmerge = false\n")
    settings = load(path).dedupe
    assert settings.merge is False
    story = Story("ILO COOP Chiefs across time", date(2020, 11, 10))
    assert judge(story, story, settings).verdict is Verdict.MAYBE
