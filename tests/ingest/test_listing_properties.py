"""Listings generated from random entries, with month lines, photo credits, blank-line noise,
entries without dates and a page cut short: every complete entry is read exactly once with
its fields, and nothing else; no input makes the reader raise anything but a NewsletterError."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from babel.dates import format_date
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.listing import ListingReader

WORDS = (
    "cooperative", "workers", "rural", "women", "youth", "training", "policy", "report",
    "Africa", "Asia", "green", "jobs", "social", "economy", "network", "launch", "global",
    "forum", "skills", "care", "housing", "fishers", "finance", "Kenya", "Bolivia",
)  # fmt: skip
CREDITS = (None, None, "© ILO/M. Crozet 2021", "Photo: ILO", "(c) An agency", "Crédit photo : OIT")
TYPES = ("News", "Article", "Brief", "Press release", "Publication", "Interview")
LANGUAGES = ("en", "fr", "es")
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
READER = DateReader()


@dataclass(frozen=True)
class Story:
    """An entry as the generator writes it, and as the reader must give it back."""

    type: str
    title_lines: tuple[str, ...]
    day: date | None  # None: an entry without a date (an event)
    paragraphs: tuple[tuple[str, ...], ...]  # lines of each summary paragraph
    credit: str | None
    credit_first: bool  # the credit stands where the type would, else where the title would
    month_line: bool  # a month line stands before it (and the numbering starts again)
    gaps: tuple[int, ...]  # blank lines between its parts (noise)

    @property
    def title(self) -> str:
        return " ".join(self.title_lines)

    @property
    def summary(self) -> str:
        return "\n\n".join(" ".join(lines) for lines in self.paragraphs)


words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)


@st.composite
def stories(draw: st.DrawFn, index: int) -> Story:
    title = draw(st.lists(words, min_size=1, max_size=3))
    title[-1] += f" {index}"  # titles differ: no two entries are one item
    dated = draw(st.booleans()) or draw(st.booleans())  # three in four have a date
    return Story(
        type=draw(st.sampled_from(TYPES)),
        title_lines=tuple(title),
        day=draw(st.dates(date(1990, 1, 1), date(2030, 12, 31))) if dated else None,
        paragraphs=tuple(
            tuple(draw(st.lists(words, min_size=1, max_size=3)))
            for _ in range(draw(st.integers(0 if dated else 1, 2)))
        ),
        credit=draw(st.sampled_from(CREDITS)),
        credit_first=draw(st.booleans()),
        month_line=draw(st.integers(0, 4)) == 0,
        gaps=tuple(draw(st.lists(st.integers(1, 3), min_size=6, max_size=6))),
    )


@st.composite
def listings(draw: st.DrawFn) -> tuple[str, str, list[Story], bool]:
    """(the page's text, its language, its stories, whether the last one is cut short)."""
    language = draw(st.sampled_from(LANGUAGES))
    count = draw(st.integers(1, 8))
    found = [draw(stories(index)) for index in range(count)]
    parts, number = ["Latest news", ""], 0
    starts = []  # where each entry's text begins, and where its date line ends
    for story in found:
        if story.month_line:
            parts += [month_of(story.day or date(2020, 5, 1), language), ""]
            number = 0
        number += 1
        gap = ["" for _ in range(story.gaps[0])]
        starts.append(len("\n".join(parts)) + 1)
        if story.credit and story.credit_first:
            parts += [f"  {number}. {story.credit}", *gap, f"    {story.type}", *gap]
        else:
            parts += [f"  {number}. {story.type}", *gap]
            if story.credit:
                parts += [f"    {story.credit}", *gap]
        parts += [f"    {line}" for line in story.title_lines]
        parts += ["" for _ in range(story.gaps[1])]
        if story.day is not None:
            parts += [f"    {day_of(story.day, language)}"]
            parts += ["" for _ in range(story.gaps[2])]
        for paragraph in story.paragraphs:
            parts += [f"    {line}" for line in paragraph] + ["" for _ in range(story.gaps[3])]
    text = "\n".join(parts) + "\n"
    cut = False
    last = found[-1]
    if last.day is not None and draw(st.booleans()):
        # Cut the page inside the last entry: after its first letters, before its date's end.
        begin = starts[-1] + text[starts[-1] :].index(".") + 3
        date_end = text.index(day_of(last.day, language), begin) + len(day_of(last.day, language))
        text, cut = text[: draw(st.integers(begin, date_end - 1))], True
    return text, language, found, cut


def day_of(day: date, language: str) -> str:
    pattern = {"en": "d MMMM y", "fr": "d MMMM y", "es": "d 'de' MMMM 'de' y"}[language]
    return str(format_date(day, pattern, locale=language))


def month_of(day: date, language: str) -> str:
    return str(format_date(day, "LLLL y", locale=language)).capitalize()


def expected_language(found: list[Story], language: str) -> str | None:
    """The page's language, if one of its dates names a month only that language has."""
    english_may = language == "en"
    told = [s for s in found if s.day and not (english_may and s.day.month == 5)]
    return language if told else None


@SETTINGS
@given(page=listings())
def test_every_complete_entry_is_read_once_with_its_fields_and_nothing_else(
    tmp_path: Path, page: tuple[str, str, list[Story], bool]
) -> None:
    text, language, found, cut = page
    event("cut short" if cut else "whole")
    for story in found:
        event("dated" if story.day else "undated")
        event("credit" if story.credit else "no credit")
        event("month line" if story.month_line else "no month line")
    path = tmp_path / "page.txt"
    path.write_text(text, "utf-8")
    complete = [s for s in found if s.day is not None]
    if cut:
        complete = complete[:-1]
    reader = ListingReader(path, READER)
    if not complete:
        with pytest.raises(NewsletterError, match="no complete entry"):
            list(reader)
        return
    entries = list(reader)
    assert [(e.type, e.title, e.date, e.summary, e.image_credit) for e in entries] == [
        (s.type, s.title, s.day, s.summary, s.credit) for s in complete
    ]
    page_language = expected_language(complete, language)
    assert {e.language for e in entries} == {page_language}
    assert reader.skipped == len(found) - len(complete)
    assert all(n.message.endswith("; skipped") for n in reader.notices)  # nothing else said


NOISE = st.sampled_from(["", "  1. News", "2. ", "9 November 2020", "31 February 2020",
                         "© X", "December 2020", "Avril", "14 F", "27 September 20",
                         "\t", "  3. © Y", "mayo de 2020", "1.", "0. Brief", "Title",
                         "x" * 300, "\u2028", "\x00", "\ufeff", "\r"])  # fmt: skip


@SETTINGS
@given(lines=st.lists(st.one_of(NOISE, st.text(max_size=40)), max_size=40))
def test_no_input_makes_the_reader_raise_anything_but_a_newsletter_error(
    tmp_path: Path, lines: list[str]
) -> None:
    path = tmp_path / "noise.txt"
    path.write_text("\n".join(lines), "utf-8", errors="surrogatepass")
    try:
        entries = list(ListingReader(path, READER))
    except NewsletterError as error:
        failure: NewsletterError | None = error
    else:
        failure = None
        assert all(entry.title and entry.type for entry in entries)
    assert failure is None or failure.path == path
