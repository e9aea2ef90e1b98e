"""The listing-page reader: the seed format, what it tolerates, and what it refuses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.listing import ListingReader
from newsletter.model import Entry
from tests.conftest import COOPERATIVES, SAMPLE_LISTINGS, WHATS_NEW


def read(path: Path) -> tuple[list[Entry], ListingReader]:
    reader = ListingReader(path, DateReader())
    return list(reader), reader


def write(tmp_path: Path, text: str | bytes, name: str = "listing.txt") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def error_of(path: Path) -> NewsletterError:
    with pytest.raises(NewsletterError) as caught:
        read(path)
    return caught.value


GOOD = """Latest news

  1. News

    First title

    09 November 2020

    First summary.

  2. Brief

    Second title

    02 November 2020
"""


def test_reads_every_entry_of_the_cooperatives_seed() -> None:
    entries, reader = read(SAMPLE_LISTINGS / COOPERATIVES)
    assert reader.heading == "News, stories and statements on cooperatives"
    assert [entry.type for entry in entries] == [
        "News", "ILO COOP 100 Interview", "News", "News", "News", "News", "Article", "Article",
        "News", "News",
    ]  # fmt: skip
    first = entries[0]
    assert first.title == (
        "A two-day symposium is held to celebrate the centennial of the Cooperatives Unit of "
        "the ILO"
    )
    assert first.date == date(2020, 11, 27)
    assert first.summary.startswith("The ILO held a two-day symposium")
    assert first.language == "en"
    assert first.line == 3
    assert entries[3].summary == ""  # "ILO E-news Special Issue" has no summary
    assert entries[-1].date == date(2020, 10, 29)
    assert not reader.notices


def test_reads_the_whats_new_seed_with_its_repeated_entry() -> None:
    entries, _ = read(SAMPLE_LISTINGS / WHATS_NEW)
    assert len(entries) == 10
    assert [e.title for e in entries].count("Formally Challenged") == 2
    interview = entries[8]
    assert interview.title.startswith("ILO COOP 100 Interview with Colombia Pérez Muñoz")


def test_crlf_and_byte_order_mark_read_like_plain_lines(tmp_path: Path) -> None:
    plain, _ = read(write(tmp_path, GOOD, "plain.txt"))
    windows, reader = read(write(tmp_path, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()))
    assert windows == plain
    assert reader.heading == "Latest news"


def test_extra_blank_lines_and_odd_indentation_are_tolerated(tmp_path: Path) -> None:
    messy = "\n\n\nLatest news\n\n\n1. News\n\n\n\n\t\t First title\n   \n09 November 2020\n\n\n"
    entries, _ = read(write(tmp_path, messy))
    assert [(e.type, e.title, e.date) for e in entries] == [
        ("News", "First title", date(2020, 11, 9))
    ]


def test_unknown_type_labels_are_kept_as_written(tmp_path: Path) -> None:
    text = GOOD.replace("1. News", "1. Podcast episode")
    entries, _ = read(write(tmp_path, text))
    assert entries[0].type == "Podcast episode"


def test_summary_paragraphs_and_wrapped_lines(tmp_path: Path) -> None:
    text = GOOD.replace(
        "First summary.",
        "First paragraph, wrapped\n    over two lines.\n\n    Second paragraph.",
    )
    entries, _ = read(write(tmp_path, text))
    assert entries[0].summary == "First paragraph, wrapped over two lines.\n\nSecond paragraph."


def test_a_title_wrapped_over_two_lines_is_one_title(tmp_path: Path) -> None:
    text = GOOD.replace("    First title\n", "    First title that goes\n    on and on\n")
    entries, _ = read(write(tmp_path, text))
    assert entries[0].title == "First title that goes on and on"


def test_a_numbered_list_inside_a_summary_stays_in_the_summary(tmp_path: Path) -> None:
    text = GOOD.replace("First summary.", "Three aims:\n\n    1. Decent work\n\n    2. Equality")
    entries, _ = read(write(tmp_path, text))
    assert len(entries) == 2
    assert entries[0].summary == "Three aims:\n\n1. Decent work\n\n2. Equality"


def test_dates_in_french_and_spanish(tmp_path: Path) -> None:
    text = (
        "Actualités\n\n1. Actualité\n\nTitre\n\n09 novembre 2020\n\n"
        "2. Noticia\n\nTítulo\n\n9 de noviembre de 2020\n\n"
        "3. Actualité\n\nAutre\n\n1er février 2021\n"
    )
    entries, _ = read(write(tmp_path, text))
    assert [(e.date, e.language) for e in entries] == [
        (date(2020, 11, 9), "fr"),
        (date(2020, 11, 9), "es"),
        (date(2021, 2, 1), "fr"),
    ]


def test_a_title_holding_markup_is_plain_text(tmp_path: Path) -> None:
    title = "<script>alert('x')</script> & <b>bold</b>"
    entries, _ = read(write(tmp_path, GOOD.replace("First title", title)))
    assert entries[0].title == title


def test_truncated_last_entry_is_skipped_with_a_warning(tmp_path: Path) -> None:
    entries, reader = read(write(tmp_path, GOOD + "\n  3. News\n\n    A title without a date\n"))
    assert [e.title for e in entries] == ["First title", "Second title"]
    assert len(reader.notices) == 1
    notice = str(reader.notices[0])
    assert notice.startswith(f"{tmp_path / 'listing.txt'}:17: ")
    assert "truncated" in notice


def test_numbering_that_skips_keeps_the_items_and_warns(tmp_path: Path) -> None:
    entries, reader = read(write(tmp_path, GOOD.replace("2. Brief", "4. Brief")))
    assert len(entries) == 2
    assert [str(n) for n in reader.notices] == [
        f"{tmp_path / 'listing.txt'}:11: entry 4 follows entry 1; "
        "an entry may be missing or misnumbered"
    ]


def test_empty_file(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, ""))
    assert (error.line, error.path) == (1, tmp_path / "listing.txt")
    assert "empty file" in error.message


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    assert "empty file" in error_of(write(tmp_path, "\n  \n\t\n")).message


def test_binary_file(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert error.line == 3
    assert "binary" in error.message


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "Noticias\n\n1. Noticia\n\nEl año\n".encode("latin-1")))
    assert error.line == 5
    assert "not UTF-8" in error.message


def skipped(path: Path, line: int, words: str) -> list[Entry]:
    """The entries read from a file with one bad entry: the bad one is skipped with a notice
    at `line`, and with `strict` the file is refused at that line."""
    entries, reader = read(path)
    assert reader.skipped == 1
    (notice,) = [n for n in reader.notices if "skipped" in n.message]
    assert notice.line == line
    assert words in notice.message
    with pytest.raises(NewsletterError) as caught:
        list(ListingReader(path, DateReader(), strict=True))
    assert caught.value.line == line
    assert words in caught.value.message
    assert "--strict" in caught.value.message
    return entries


def test_impossible_date(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("09 November 2020", "31 February 2020"))
    entries = skipped(path, 7, "impossible date '31 February 2020'")
    assert [entry.title for entry in entries] == ["Second title"]


def test_month_name_in_an_unsupported_language(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("09 November 2020", "09 novembro 2020"))
    entries = skipped(path, 7, "unknown month name 'novembro'")
    assert [entry.title for entry in entries] == ["Second title"]


def test_missing_date_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    09 November 2020\n", ""))
    entries = skipped(path, 3, "entry 1 ('First title'): no date")
    assert [entry.title for entry in entries] == ["Second title"]


def test_missing_date_line_before_the_next_entry(tmp_path: Path) -> None:
    text = GOOD.replace("    First summary.\n", "").replace("    09 November 2020\n", "")
    entries = skipped(write(tmp_path, text), 3, "entry 1 ('First title'): no date")
    assert [(entry.type, entry.title) for entry in entries] == [("Brief", "Second title")]


def test_entry_without_a_title(tmp_path: Path) -> None:
    entries = skipped(write(tmp_path, GOOD.replace("    First title\n", "")), 6, "no title")
    assert [entry.title for entry in entries] == ["Second title"]


def test_text_where_the_first_entry_should_be(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "Heading\n\nJust some prose.\n"))
    assert error.line == 3
    assert "no entries after the heading" in error.message
    entries, reader = read(write(tmp_path, GOOD.replace("  1. News", "An intro.\n\n  1. News")))
    assert len(entries) == 2
    assert reader.notices[0].line == 3
    assert "'An intro.' is neither an entry nor a month; passed over" in reader.notices[0].message


def test_heading_without_entries(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "Only a heading\n"))
    assert "no entries after the heading" in error.message


def test_only_a_truncated_entry_is_an_error(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, "Heading\n\n1. News\n\nA title\n"))
    assert "no complete entry" in error.message


def test_missing_file(tmp_path: Path) -> None:
    error = error_of(tmp_path / "nope.txt")
    assert error.path == tmp_path / "nope.txt"
    assert "cannot read" in error.message


def test_a_file_with_cr_line_ends_alone(tmp_path: Path) -> None:
    entries, _ = read(write(tmp_path, GOOD.replace("\n", "\r").encode()))
    assert [e.title for e in entries] == ["First title", "Second title"]


def test_a_title_whose_line_looks_like_a_date(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    First title\n", "    Celebrating the International Day of Cooperatives on\n"
        "    4 July 2020\n",
    ).replace("    Second title\n", "    30 Years 2020\n")  # fmt: skip
    entries, _ = read(write(tmp_path, text))
    assert entries[0].title == "Celebrating the International Day of Cooperatives on 4 July 2020"
    assert entries[0].date == date(2020, 11, 9)
    assert entries[0].summary == "First summary."
    assert (entries[1].title, entries[1].date) == ("30 Years 2020", date(2020, 11, 2))


def test_a_numbered_title(tmp_path: Path) -> None:
    entries, _ = read(write(tmp_path, GOOD.replace("First title", "1. Why cooperatives matter")))
    assert entries[0].title == "1. Why cooperatives matter"


def test_control_characters_are_dropped(tmp_path: Path) -> None:
    entries, _ = read(write(tmp_path, GOOD.replace("First title", "Red \x1b[31malert\x07 title")))
    assert entries[0].title == "Red [31malert title"
