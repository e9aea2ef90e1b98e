"""The source readers: RSS and Atom feeds, HTML listing pages, CSV, JSON and JSON Lines.

Each format is read from a small hand-written fixture in tests/data/sources/ holding items of
the ILO Cooperatives Unit. Documents that a fetch would give (with a URL and a media type) are
built with `fetched`; local files with `Document.from_path`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.ingest.formats import EntryReader, ReaderOptions, detect_format, open_reader
from newsletter.model import Entry
from tests.conftest import COOPERATIVES, DATA, SAMPLE_LISTINGS

SOURCES = DATA / "sources"
NEWS = "https://www.ilo.org/global/topics/cooperatives/news"
FEED_URL = f"{NEWS}/rss.xml"
PAGE_URL = f"{NEWS}/lang--en/index.htm"
IMAGES = "https://www.ilo.org/wcmsp5/groups/public/---ed_emp/---emp_ent/---coop/images"
PAGE_SELECTORS = {
    "item": "div.views-row",
    "title": "h3",
    "date": "time",
    "type": ".type",
    "summary": ".summary",
    "image": "img",
}
JORDAN = "Supporting the cooperative movement in Jordan"
CHIEFS = "ILO COOP Chiefs across time"
SYMPOSIUM = (
    "A two-day symposium is held to celebrate the centennial of the Cooperatives Unit of the ILO"
)


def story(number: int) -> str:
    """The address of one news story of the Cooperatives Unit."""
    return f"{NEWS}/WCMS_{number}/lang--en/index.htm"


def fetched(name: str, url: str, media_type: str | None = None) -> Document:
    """A fixture as a fetch would give it: its body, the URL it came from, its media type."""
    return Document(name=url, content=(SOURCES / name).read_bytes(), url=url, media_type=media_type)


def anonymous(path: Path) -> Document:
    """A file's bytes with nothing else to go by: no name suffix, no URL, no media type."""
    return Document(name="source", content=path.read_bytes())


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


def by_title(entries: list[Entry]) -> dict[str, Entry]:
    return {entry.title: entry for entry in entries}


def lines_matching(name: str, pattern: str) -> list[int]:
    """The numbers of a fixture's lines that match a regular expression."""
    text = (SOURCES / name).read_text(encoding="utf-8")
    return [number for number, line in enumerate(text.splitlines(), 1) if re.search(pattern, line)]


# Feeds


def test_rss_feed_entries_dates_links_images_and_clean_summaries() -> None:
    document = fetched("ilo-coop-news.rss", FEED_URL, "application/rss+xml")
    kind, entries, reader = read(document)

    assert kind == "feed"
    assert reader.heading == "ILO Cooperatives Unit: news"
    assert reader.notices == []
    assert [entry.title for entry in entries] == [JORDAN, CHIEFS, SYMPOSIUM]
    # 'Wed, 04 Nov 2020 00:30:00 +0100' is 3 November in UTC: the publisher's day is kept.
    assert [entry.date for entry in entries] == [
        date(2020, 11, 4),
        date(2020, 11, 10),
        date(2020, 11, 27),
    ]
    assert [entry.url for entry in entries] == [story(759893), story(760130), story(762154)]
    assert [entry.image for entry in entries] == [
        f"{IMAGES}/jordan.jpg",  # media:content
        f"{IMAGES}/chiefs.png",  # an image enclosure
        None,
    ]
    assert [entry.type for entry in entries] == ["News"] * 3  # the default type
    assert {entry.language for entry in entries} == {"en"}  # the channel's <language>
    assert [entry.line for entry in entries] == lines_matching("ilo-coop-news.rss", r"<item>")

    jordan = entries[0].summary
    assert jordan.startswith("The <strong>Steering Committee</strong> for the Jordan")
    assert (
        '<a href="https://www.ilo.org/global/topics/cooperatives/publications/lang--en/index.htm">'
        "strategy development</a>" in jordan
    )
    assert "script" not in jordan
    assert "tracking" not in jordan
    assert "<p>" not in jordan
    assert jordan.endswith("and the way forward.\n\nThe strategy covers 2021–2025.")


def test_atom_feed_iso_dates_links_html_summary_and_content_fallback() -> None:
    document = fetched("ilo-coop-news.atom", f"{NEWS}/atom.xml", "application/atom+xml")
    kind, entries, reader = read(document)

    assert kind == "feed"
    assert reader.heading == "ILO Cooperatives Unit"
    assert reader.notices == []
    jordan, chiefs, symposium = entries
    assert (jordan.title, jordan.date, jordan.url) == (JORDAN, date(2020, 11, 5), story(759893))
    assert (chiefs.title, chiefs.date, chiefs.url) == (CHIEFS, date(2020, 11, 10), story(760130))
    assert (symposium.title, symposium.date) == (SYMPOSIUM, date(2020, 11, 27))
    assert symposium.url == story(762154)
    # <summary type="html">: its markup is read as HTML, inline tags kept, <p> gone.
    assert jordan.summary == (
        "Steering Committee for the <em>Jordan Cooperative Development Strategy</em> "
        "holds meeting with ILO."
    )
    # No <summary>: the <content> stands in for it.
    assert chiefs.summary == (
        "Bibliographies of the chiefs and heads of the <b>Cooperatives Unit</b> since 1920."
    )
    assert symposium.summary.startswith("The ILO held a two-day symposium")
    assert {entry.language for entry in entries} == {"en"}  # the feed's xml:lang


def test_feed_not_well_formed_keeps_its_readable_entries_with_a_notice() -> None:
    # Line 14 holds an unescaped '&' and the last item is cut off in the middle.
    document = fetched("broken.rss", FEED_URL, "application/rss+xml")
    _, entries, reader = read(document)

    titles = [entry.title for entry in entries]
    assert titles[0] == JORDAN
    assert CHIEFS in titles
    assert by_title(entries)[CHIEFS].date == date(2020, 11, 10)
    assert len(reader.notices) == 1
    notice = reader.notices[0]
    assert "not well-formed" in notice.message
    assert "readable entries are kept" in notice.message
    assert notice.line == lines_matching("broken.rss", r"Cooperatives & the social")[0] == 14
    assert notice.path == FEED_URL


def test_feed_entry_without_date_is_left_out_with_a_notice_naming_it() -> None:
    document = fetched("undated.rss", FEED_URL, "application/rss+xml")
    _, entries, reader = read(document)

    assert [entry.title for entry in entries] == [JORDAN, CHIEFS]
    assert [entry.date for entry in entries] == [date(2020, 11, 5), date(2020, 11, 10)]
    assert len(reader.notices) == 1
    notice = reader.notices[0]
    assert "no date" in notice.message
    assert "ILO COOP 100: the centenary page" in notice.message
    assert notice.line == lines_matching("undated.rss", r"<item>")[1]


def test_feed_in_iso_8859_1_is_decoded_by_its_xml_declaration() -> None:
    path = SOURCES / "latin1.rss"
    assert "Économie".encode("iso-8859-1") in path.read_bytes()  # really Latin-1 bytes
    _, entries, reader = read(Document.from_path(path))

    assert reader.heading == "Unité des coopératives de l'OIT"
    assert [entry.title for entry in entries] == [
        "Soutenir le mouvement coopératif en Jordanie",
        "Coopératives et Économie sociale et solidaire : cent ans à l'OIT",
    ]
    assert entries[1].summary == (
        "Un symposium de deux jours célèbre le centenaire de l'Unité des coopératives."
    )
    assert {entry.language for entry in entries} == {"fr"}


def test_well_formed_feed_read_from_a_local_file_gives_no_notice() -> None:
    _, entries, reader = read(Document.from_path(SOURCES / "ilo-coop-news.rss"))

    assert len(entries) == 3
    # A file has no Content-Type; feedparser's complaint about that is not the feed's fault.
    assert reader.notices == []
    # Without a document URL, the channel's <link> is what relative links resolve against.
    assert '<a href="https://www.ilo.org/global/topics/cooperatives/publications/' in (
        entries[0].summary
    )


# HTML listing pages


def test_html_page_read_with_selectors() -> None:
    document = fetched("ilo-coop-news.html", PAGE_URL, "text/html")
    kind, entries, reader = read(document, ReaderOptions(selectors=PAGE_SELECTORS))

    assert kind == "html"
    assert reader.heading == (
        "News, stories and statements on cooperatives | International Labour Organization"
    )
    assert reader.notices == []
    assert [(entry.type, entry.title, entry.date) for entry in entries] == [
        ("Article", JORDAN, date(2020, 11, 5)),
        ("Article", CHIEFS, date(2020, 11, 10)),
        ("News", SYMPOSIUM, date(2020, 11, 27)),  # a <time> without datetime: its text
    ]
    assert [entry.url for entry in entries] == [story(759893), story(760130), story(762154)]
    assert [entry.image for entry in entries] == [
        "https://www.ilo.org/images/x.jpg",
        f"{IMAGES}/chiefs.png",
        None,
    ]
    assert [entry.line for entry in entries] == lines_matching(
        "ilo-coop-news.html", r'<div class="views-row">'
    )
    assert {entry.language for entry in entries} == {"en"}  # <html lang="en">

    jordan, chiefs, symposium = (entry.summary for entry in entries)
    assert jordan == (
        "Steering Committee for the <strong>Jordan Cooperative Development Strategy</strong> "
        "holds meeting with ILO to discuss strategy development and way forward."
    )
    assert chiefs.endswith("since its establishment in 1920.")
    assert "trackClick" not in chiefs
    assert symposium.startswith("Coopératives et Économie sociale et solidaire: the ILO held")
    assert "Read more" in symposium
    assert "javascript" not in symposium


def test_html_item_selector_matching_nothing_is_an_error_naming_it() -> None:
    document = fetched("ilo-coop-news.html", PAGE_URL, "text/html")
    selectors = {**PAGE_SELECTORS, "item": "article.news-item"}
    error = read_error(document, ReaderOptions(selectors=selectors))

    assert "article.news-item" in error.message
    assert "matches nothing" in error.message
    assert error.path == PAGE_URL


def test_saved_html_page_resolves_links_against_the_configured_base_url() -> None:
    path = SOURCES / "ilo-coop-news.html"
    options = ReaderOptions(selectors=PAGE_SELECTORS, base_url=PAGE_URL)
    _, entries, reader = read(Document.from_path(path), options)

    assert reader.notices == []
    assert [entry.url for entry in entries] == [story(759893), story(760130), story(762154)]
    assert entries[0].image == "https://www.ilo.org/images/x.jpg"


@pytest.mark.parametrize(
    ("selectors", "missing"),
    [
        ({}, "item and title"),
        ({"item": "div.views-row", "date": "time"}, "title"),
        ({"title": "h3"}, "item"),
    ],
)
def test_html_page_without_item_or_title_selector_is_an_error(
    selectors: dict[str, str], missing: str
) -> None:
    document = fetched("ilo-coop-news.html", PAGE_URL, "text/html")
    error = read_error(document, ReaderOptions(selectors=selectors))

    assert f"configure {missing} in the source's [selectors] table" in error.message


# CSV


def test_csv_with_bom_semicolons_date_format_and_a_bad_date() -> None:
    path = SOURCES / "ilo-coop-news.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbfTitle;Date;Type;Summary;Link")
    document = Document(name=path, path=path, url=f"{NEWS}/export.csv")
    kind, entries, reader = read(document, ReaderOptions(date_format="%d/%m/%Y"))

    assert kind == "csv"
    assert [(entry.title, entry.date, entry.type) for entry in entries] == [
        (JORDAN, date(2020, 11, 5), "Article"),
        (CHIEFS, date(2020, 11, 10), "Article"),
        (SYMPOSIUM, date(2020, 11, 27), "News"),
    ]
    # Row 2's summary spans lines 3 and 4; the rows after it keep their own line numbers.
    assert [entry.line for entry in entries] == [2, 3, 6]
    assert entries[1].summary == (
        "This page provides bibliographies of the chiefs and heads "
        "of the ILO's Cooperatives Unit since its establishment in 1920."
    )
    assert "ILO, to discuss" in entries[0].summary  # a comma is not a delimiter here
    assert entries[0].url == story(759893)
    assert entries[2].url == story(762154)  # a relative link, resolved against the URL

    assert len(reader.notices) == 1
    notice = reader.notices[0]
    assert notice.line == 5
    assert notice.path == path
    assert "ILO E-news Special Issue for ILO COOP 100 Symposium" in notice.message
    assert "'31/11/2020'" in notice.message
    assert "skipped" in notice.message


def test_csv_without_a_date_column_is_an_error_naming_the_columns() -> None:
    path = SOURCES / "coop-spreadsheet.csv"
    error = read_error(Document.from_path(path))

    assert error.line == 1
    assert "'date'" in error.message
    for column in ("Headline", "Published on", "Category", "Teaser", "URL"):
        assert repr(column) in error.message


def test_csv_columns_mapped_by_the_source() -> None:
    path = SOURCES / "coop-spreadsheet.csv"
    columns = {"title": "Headline", "date": "Published on"}
    _, entries, reader = read(Document.from_path(path), ReaderOptions(columns=columns))

    assert reader.notices == []
    assert [(entry.title, entry.date) for entry in entries] == [
        (JORDAN, date(2020, 11, 5)),
        (CHIEFS, date(2020, 11, 10)),
        (SYMPOSIUM, date(2020, 11, 27)),
    ]
    # Unmapped fields are still found by their usual names, in any case.
    assert [entry.type for entry in entries] == ["Article", "Article", "News"]
    assert entries[0].summary.startswith("Steering Committee for the Jordan")
    assert entries[1].url == story(760130)


def test_csv_column_mapped_to_a_missing_column_is_an_error_naming_it() -> None:
    path = SOURCES / "coop-spreadsheet.csv"
    columns = {"title": "Heading", "date": "Published on"}
    error = read_error(Document.from_path(path), ReaderOptions(columns=columns))

    assert "'Heading'" in error.message
    assert "'Headline'" in error.message


# JSON and JSON Lines


def test_jsonl_line_that_is_not_json_is_left_out_with_its_line() -> None:
    path = SOURCES / "ilo-coop-news.jsonl"
    kind, entries, reader = read(Document.from_path(path))

    assert kind == "json"
    assert [(entry.title, entry.date, entry.line) for entry in entries] == [
        (JORDAN, date(2020, 11, 5), 1),
        (CHIEFS, date(2020, 11, 10), 2),
        (SYMPOSIUM, date(2020, 11, 27), 4),
    ]
    assert entries[0].url == story(759893)
    assert len(reader.notices) == 1
    notice = reader.notices[0]
    assert notice.line == 3
    assert "not valid JSON" in notice.message
    assert "; skipped" in notice.message


def test_jsonl_keys_missing_from_the_first_line_are_read_on_later_lines() -> None:
    _, entries, _ = read(Document.from_path(SOURCES / "ilo-coop-news.jsonl"))
    found = by_title(entries)

    # Line 1 has no "summary" or "image" key: each record is read by the keys it has.
    assert found[CHIEFS].summary == (
        "Bibliographies of the chiefs and heads of the <em>Cooperatives Unit</em> since 1920."
    )
    assert found[SYMPOSIUM].image == f"{IMAGES}/symposium.jpg"


def test_json_array_of_objects() -> None:
    kind, entries, reader = read(Document.from_path(SOURCES / "ilo-coop-news.json"))

    assert kind == "json"
    assert reader.notices == []
    assert [(entry.title, entry.date, entry.type, entry.url) for entry in entries] == [
        (JORDAN, date(2020, 11, 5), "Article", story(759893)),
        (CHIEFS, date(2020, 11, 10), "Article", story(760130)),
    ]
    assert entries[0].summary.startswith("Steering Committee for the Jordan")


def test_json_object_with_an_items_list() -> None:
    _, entries, reader = read(Document.from_path(SOURCES / "ilo-coop-news-items.json"))

    assert reader.notices == []
    # headline, published, category and link are usual names of title, date, type and url.
    assert [(entry.title, entry.date, entry.type, entry.url) for entry in entries] == [
        (SYMPOSIUM, date(2020, 11, 27), "News", story(762154)),
    ]


def test_invalid_json_is_an_error_with_its_line() -> None:
    path = SOURCES / "invalid.json"
    error = read_error(Document.from_path(path))

    assert error.path == path
    assert error.line == 5  # the line after the missing comma
    assert error.message.startswith("not valid JSON")


# Format detection


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SAMPLE_LISTINGS / COOPERATIVES, "listing"),
        (SOURCES / "ilo-coop-news.rss", "feed"),
        (SOURCES / "broken.rss", "feed"),
        (SOURCES / "latin1.rss", "feed"),
        (SOURCES / "ilo-coop-news.atom", "feed"),
        (SOURCES / "ilo-coop-news.html", "html"),
        (SOURCES / "coop-spreadsheet.csv", "csv"),
        (SOURCES / "ilo-coop-news.json", "json"),
        (SOURCES / "ilo-coop-news-items.json", "json"),
        (SOURCES / "ilo-coop-news.jsonl", "json"),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_format_detected_from_content(path: Path, expected: str) -> None:
    assert detect_format(anonymous(path)) == expected


def test_format_of_csv_with_a_quoted_line_break_detected_from_content() -> None:
    document = anonymous(SOURCES / "ilo-coop-news.csv")
    # Row 2's quoted summary spans two lines: rows are counted as CSV reads them.
    assert detect_format(document) == "csv"


def test_format_of_binary_data_is_an_error_on_line_1() -> None:
    with pytest.raises(NewsletterError) as caught:
        detect_format(Document(name="blob", content=b"\x00" * 64))

    assert "binary data" in caught.value.message
    assert caught.value.line == 1
    assert caught.value.path == "blob"


def test_format_of_sample_listing_file() -> None:
    assert detect_format(Document.from_path(SAMPLE_LISTINGS / COOPERATIVES)) == "listing"


# One story, two sources


def test_same_story_from_listing_and_feed_has_the_same_title_and_date() -> None:
    _, listed, _ = read(Document.from_path(SAMPLE_LISTINGS / COOPERATIVES))
    _, fed, _ = read(fetched("ilo-coop-news.rss", FEED_URL, "application/rss+xml"))

    from_listing, from_feed = by_title(listed)[JORDAN], by_title(fed)[JORDAN]
    # The listing prints '04 November 2020'; the feed says 'Wed, 04 Nov 2020 00:30:00 +0100'.
    assert from_feed.title == from_listing.title
    assert from_feed.date == from_listing.date == date(2020, 11, 4)


def test_a_saved_utf8_page_without_a_charset_is_read_as_utf8() -> None:
    page = (
        '<html><body><div class="views-row"><h3>Coopératives et économie sociale</h3>'
        "<time>5 November 2020</time></div></body></html>"
    ).encode()
    _, entries, _ = read(
        Document(name="saved.html", content=page), ReaderOptions(selectors=PAGE_SELECTORS)
    )
    assert [entry.title for entry in entries] == ["Coopératives et économie sociale"]
