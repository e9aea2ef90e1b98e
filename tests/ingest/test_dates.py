"""Date lines in English, French and Spanish (and what is not a date)."""

from __future__ import annotations

from datetime import date

import pytest

from newsletter.ingest.dates import DateError, DateReader, ReadDate

reader = DateReader()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09 November 2020", ReadDate(date(2020, 11, 9), "en")),
        ("9 Nov 2020", ReadDate(date(2020, 11, 9), None)),  # "nov" is French and Spanish too
        ("November 9, 2020", ReadDate(date(2020, 11, 9), "en")),
        ("3rd March 2021", ReadDate(date(2021, 3, 3), "en")),
        ("09 novembre 2020", ReadDate(date(2020, 11, 9), "fr")),
        ("1er février 2021", ReadDate(date(2021, 2, 1), "fr")),
        ("1er FEVRIER 2021", ReadDate(date(2021, 2, 1), "fr")),
        ("12 déc. 2020", ReadDate(date(2020, 12, 12), None)),  # without accents: English "Dec"
        ("9 de noviembre de 2020", ReadDate(date(2020, 11, 9), "es")),
        ("30 de septiembre de 2020", ReadDate(date(2020, 9, 30), "es")),
        ("2020-11-09", ReadDate(date(2020, 11, 9), None)),
    ],
)
def test_reads_dates(text: str, expected: ReadDate) -> None:
    assert reader.read(text) == expected


@pytest.mark.parametrize(
    "text",
    ["A two-day symposium", "ILO COOP 100 Interview", "12 articles that have shaped", "2020", ""],
)
def test_lines_that_are_not_dates(text: str) -> None:
    assert reader.read(text) is None
    assert not reader.looks_like_date(text)


def test_impossible_day() -> None:
    with pytest.raises(DateError, match=r"impossible date '31 February 2020'"):
        reader.read("31 February 2020")


def test_unknown_month_names_the_languages_read() -> None:
    with pytest.raises(DateError, match=r"unknown month name 'novembro'.*en, fr, es"):
        reader.read("9 novembro 2020")


def test_more_languages_from_babel() -> None:
    portuguese = DateReader(["en", "pt"])
    assert portuguese.read("9 de novembro de 2020") == ReadDate(date(2020, 11, 9), "pt")
