"""Read a listing page saved as text: a heading, then numbered entries (type, title, date, summary).

    News, stories and statements on cooperatives

      1. News

        A two-day symposium is held to celebrate the centennial of the Cooperatives Unit

        27 November 2020

        The ILO held a two-day symposium on the occasion of the centennial...

The file is streamed line by line, so its size does not matter to memory; so that no line can
hold it all, a line over MAX_LINE_BYTES is an error, and a summary stops growing at MAX_SUMMARY.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

from newsletter.errors import Finding, NewsletterError
from newsletter.ingest.dates import DateError, DateReader, ReadDate
from newsletter.ingest.documents import Document
from newsletter.ingest.fields import (
    MAX_SUMMARY,
    MAX_TITLE,
    shorten_summary,
    summary_too_long,
    title_too_long,
)
from newsletter.markup import summary_from_text
from newsletter.model import Entry, date_problem

_ENTRY_START = re.compile(r"^(\d{1,7})\.\s+(\S.{0,79})$")
_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 8192
_BLOCK_BYTES = 1 << 20  # read a MiB at a time, cut at a line end
MAX_LINE_BYTES = 1 << 20  # a listing's longest line is a paragraph: this is no listing
_LINE_END = re.compile(rb"[\r\n]")


class _LineTooLong(Exception):
    """A line over MAX_LINE_BYTES, found before it was all read."""


def _read_blocks(file: BinaryIO, path: Path | str, size: int | None = None) -> Iterator[bytes]:
    """Blocks of whole lines (or one block of `size` bytes); read errors name the file."""
    try:
        if size is not None:
            yield file.read(size)
        else:
            yield from _whole_lines(file)
    except OSError as error:  # a read failing after the open (a device, a network share)
        raise NewsletterError(f"cannot read: {error.strerror or error}", path) from None


def _whole_lines(file: BinaryIO) -> Iterator[bytes]:
    """The file in blocks of about a MiB, each ending at a line end (but for the last);
    _LineTooLong when a line grows over MAX_LINE_BYTES, before it is held whole."""
    rest = b""
    while chunk := file.read(_BLOCK_BYTES):
        read_from = len(rest)
        chunk = rest + chunk
        if rest:  # the line begun in the last block ends here, or goes on
            line_end = _LINE_END.search(chunk, read_from)
            if (line_end.start() if line_end else len(chunk)) > MAX_LINE_BYTES:
                raise _LineTooLong
        end = chunk.rfind(b"\n") + 1 or chunk.rfind(b"\r") + 1  # CR alone: an old Mac's file
        rest, chunk = chunk[end:], chunk[:end]
        if chunk:
            yield chunk
    if rest:
        yield rest


MAX_TITLE_LINES = 4  # a title longer than this without a date means the date is missing
MAX_NOTICES = 50
MAX_WAITING = 10_000  # entries held back until the page's language is known

# A photo's credit, where an entry's type or title would be: "© ILO/M. Crozet 2021",
# "(c) Someone", "Photo: ...", "Crédit photo : ...", "Foto: ...".
_CREDIT = re.compile(
    r"^(?:©|\(c\)(?=\s)|(?:photos?|fotos?)\s*:|cr[ée]dits?(?:\s+photos?)?\s*:|cr[ée]dits?\s+photos?\b)",
    re.IGNORECASE,
)


_CREDIT_FIRST = frozenset("©(PpFfCc")  # what a credit's first character can be: a quick test
_MONTH_LINE = 25  # characters: a longer line is no month line (see DateReader.month_line)


class _Draft:
    """An entry being read: its header, and the lines seen so far."""

    __slots__ = ("credit", "date", "dateless", "line", "number", "numbered_list",
                 "paragraph_open", "paragraphs", "problem", "problem_line", "summary_length",
                 "title_closed", "title_lines", "type")  # fmt: skip

    def __init__(self, number: int, type: str | None, line: int, credit: str | None = None):
        self.number = number
        self.type = type  # None until read, when the entry's first line was a photo credit
        self.line = line
        self.credit = credit
        self.title_lines: list[str] = []
        self.date: ReadDate | None = None
        self.dateless = False  # its title ended and no date came: its summary is being read
        self.problem: str | None = None  # why it cannot be stored (a damaged date...)
        self.problem_line = line  # where that shows
        self.paragraphs: list[list[str]] = []
        self.paragraph_open = False
        self.title_closed = False  # a blank line after the title: the date must come next
        self.numbered_list = False  # the summary holds numbered lines that began no entry
        self.summary_length = 0  # characters of summary read; past MAX_SUMMARY, not all kept

    @property
    def title(self) -> str:
        return _clean(" ".join(self.title_lines))

    @property
    def in_header(self) -> bool:
        """Whether its type, credit, title and date are still being read."""
        return self.date is None and not self.dateless and self.problem is None

    def describe(self) -> str:
        return f"entry {self.number} ({_quote(self.title or self.type or '')})"

    def add_summary_line(self, text: str) -> None:
        before = self.summary_length
        if before:  # joined to the last line by a space, or to the last paragraph by a blank line
            self.summary_length += 1 if self.paragraph_open else 2
        self.summary_length += len(text)
        opened, self.paragraph_open = self.paragraph_open, True
        if before > MAX_SUMMARY:
            return  # to be cut anyway: counted for the notice, not held
        if not opened:
            self.paragraphs.append([])
        self.paragraphs[-1].append(text)


class _Lines:
    """Numbered, stripped lines of a file with look-ahead; refuses binary and non-UTF-8 input."""

    def __init__(self, document: Document):
        self.document = document
        self.path = document.name
        self.bytes_read = 0
        self.last_line = 0
        self._blocks = self._read()
        # Lines read and not yet given (a block's, and more when a look-ahead crossed into the
        # next): plain list indexing, as a generator per line would cost more than the reading.
        self._texts: list[str] = []
        self._next = 0  # the index in _texts of the next line to give
        self._first = 1  # the number of the line _texts[0]

    def _read(self) -> Iterator[list[str]]:
        """Each block's lines, stripped."""
        with self.document.open() as file:
            # Text never holds NUL: say "binary" before a decoding error can say anything else.
            self._refuse_binary(next(_read_blocks(file, self.path, _SNIFF_BYTES), b""), 0)
            file.seek(0)
            number = 0
            try:
                for block in _read_blocks(file, self.path):
                    self.bytes_read += len(block)
                    if number == 0 and block.startswith(_BOM):
                        block = block[len(_BOM) :]
                    text = self._decode(block, number)
                    if "\r" in text:  # CRLF, or a file from an old Mac with CR alone
                        text = text.replace("\r\n", "\n").replace("\r", "\n")
                    lines = text.split("\n")
                    if text.endswith("\n"):
                        lines.pop()  # the empty piece after the last newline
                    yield [line.strip() for line in lines]
                    number += len(lines)
            except _LineTooLong:
                too_long = f"this line is over {MAX_LINE_BYTES >> 20} MiB long: not a listing page"
                raise NewsletterError(too_long, self.path, number + 1) from None

    def _refuse_binary(self, data: bytes, lines_before: int) -> None:
        if b"\x00" in data:
            line = lines_before + data[: data.index(b"\x00")].count(b"\n") + 1
            raise NewsletterError("binary data, not a text listing page", self.path, line)

    def _decode(self, block: bytes, lines_before: int) -> str:
        """A block of whole lines as text; binary or non-UTF-8 data is an error at its line."""
        self._refuse_binary(block, lines_before)
        try:
            return block.decode("utf-8")
        except UnicodeDecodeError as error:
            line = lines_before + block[: error.start].count(b"\n") + 1
            column = error.start - block.rfind(b"\n", 0, error.start)
            raise NewsletterError(
                f"not UTF-8 text (byte 0x{block[error.start]:02x} at column {column}); "
                "save the listing as UTF-8",
                self.path,
                line,
            ) from None

    def _read_more(self) -> bool:
        """Add the next block's lines to those not yet given; False at the end of the file."""
        block: list[str] | None = []
        while block == []:
            block = next(self._blocks, None)
        if block is None:
            return False
        self._first += self._next
        self._texts = self._texts[self._next :] + block if self._next < len(self._texts) else block
        self._next = 0
        return True

    def __iter__(self) -> Iterator[tuple[int, str]]:
        while self._next < len(self._texts) or self._read_more():
            index = self._next
            self._next = index + 1
            self.last_line = self._first + index
            yield self.last_line, self._texts[index]

    def peek_text(self) -> str | None:
        """The next non-blank line, without consuming it (peek_texts(1), without a list: it
        is asked after every date)."""
        texts, index = self._texts, self._next
        while index < len(texts):
            if texts[index]:
                return texts[index]
            index += 1
        found = self.peek_texts(1)  # the next block is needed
        return found[0] if found else None

    def peek_texts(self, count: int) -> list[str]:
        """The next `count` non-blank lines, without consuming them."""
        found: list[str] = []
        index = self._next
        while len(found) < count:
            if index == len(self._texts):
                before = self._next
                if not self._read_more():
                    break
                index -= before  # the lines given were dropped from the front
            text = self._texts[index]
            if text:
                found.append(text)
            index += 1
        return found


class ListingReader:
    """Yields the entries of one listing file; `heading`, `notices` and `skipped` fill in as it
    reads.

    An entry that cannot be read (no date, a damaged date, no title, a date cut off by the end
    of the page) is skipped with a notice naming its line, and the page's other entries are
    read; `strict` makes the first such entry an error instead. Month lines that group entries
    ("December 2020", "Avril") are passed over wherever they stand between entries, and the
    numbering may start again after one. A photo credit where the type or the title would be
    is kept as the entry's `image_credit`. An entry's language is its date's when the month's
    name tells, else the page's (from its other dates), else the source's.
    """

    def __init__(
        self,
        source: Path | Document,
        dates: DateReader,
        language: str | None = None,
        *,
        override: str | None = None,
        strict: bool = False,
        undated: str = "skip",
        today: date | None = None,
    ):
        document = source if isinstance(source, Document) else Document.from_path(source)
        self.path = document.name
        self.dates = dates
        self.language = language  # the source's: the last resort
        self.override = override  # the editor's: over everything
        self.strict = strict
        self.undated = undated
        self.today = today or date.today()
        self.heading: str | None = None
        self.notices: list[Finding] = []
        self.entries_read = 0
        self.skipped = 0
        self.page_language: str | None = None
        self._lines = _Lines(document)

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def error(self, line: int, message: str) -> NewsletterError:
        return NewsletterError(message, self.path, line)

    def notice(self, line: int, message: str) -> None:
        if len(self.notices) < MAX_NOTICES:
            self.notices.append(Finding(message, self.path, line))
        elif len(self.notices) == MAX_NOTICES:
            self.notices.append(Finding("more notices left out", self.path, line))

    def skip(self, line: int, message: str) -> None:
        """An entry left out: a notice, or with `strict` the file's error."""
        if self.strict:
            raise self.error(line, f"{message} (--strict refuses the file)")
        self.skipped += 1
        self.notice(line, f"{message}; skipped")

    def __iter__(self) -> Iterator[Entry]:
        """The entries, each with its language: those whose date does not tell wait (a few)
        until another date of the page does, or the page ends."""
        entries = self._entries()
        if self.override:
            for entry in entries:
                yield entry._replace(language=self.override)
            return
        waiting: list[Entry] = []
        for entry in entries:
            if entry.language is None and self.page_language is None:
                waiting.append(entry)
                if len(waiting) < MAX_WAITING:
                    continue
                self.page_language = self.language  # a long page of no telling dates
            language = self.page_language or entry.language
            yield from (held._replace(language=language) for held in waiting)
            yield entry if entry.language else entry._replace(language=language)
            break
        else:  # the page ended with no telling date
            yield from (held._replace(language=self.language) for held in waiting)
            return
        yield from entries  # finish() gives them the page's language from now on

    def _entries(self) -> Iterator[Entry]:
        draft: _Draft | None = None
        previous_blank = True
        after_month = False  # a month line since the last entry began: numbers may restart
        for number, text in iter(self._lines):
            if not text:
                if draft is not None:
                    draft.paragraph_open = False
                    draft.title_closed = bool(draft.title_lines)
                previous_blank = True
                continue
            start = _ENTRY_START.match(text) if text[0].isdigit() else None  # most lines: no
            if self.heading is None:
                if not start:
                    self.heading = _clean(text)
                    previous_blank = False
                    continue
                self.heading = ""
                self.notice(number, "no heading line before the first entry")
            if draft is None:  # between the heading and the first entry
                if start:
                    draft = self.start_entry(number, start, expected=None)
                elif self.dates.month_line(text):
                    after_month = True
                else:
                    self.notice(number, f"{_quote(text)} is neither an entry nor a month; "
                                        "passed over")  # fmt: skip
            elif draft.in_header:
                if start and self.ends_header(start, draft, after_month):
                    if entry := self.finish(draft):
                        yield entry
                    draft = self.start_entry(number, start, draft.number + 1, after_month)
                    after_month = False
                else:
                    after_month = self.read_header_line(number, text, draft) or after_month
            elif start and self.starts_entry(start, draft, previous_blank, after_month):
                if entry := self.finish(draft):
                    yield entry
                draft = self.start_entry(number, start, draft.number + 1, after_month)
                after_month = False
            elif len(text) <= _MONTH_LINE and self.dates.month_line(text) and self.at_boundary():
                after_month = True  # a group's heading, not the summary's last words
            else:
                draft.numbered_list = draft.numbered_list or bool(start)
                draft.add_summary_line(text)
            previous_blank = False

        last = max(self._lines.last_line, 1)
        if self.heading is None:
            raise self.error(
                last,
                "empty file: expected a heading, then entries such as "
                "'1. News', a title and a date",
            )
        if draft is None:
            raise self.error(
                last,
                "no entries after the heading: expected entries such as "
                "'1. News', a title and a date",
            )
        if draft.in_header:
            draft.problem = "cut short by the end of the page: it has no date"
        if entry := self.finish(draft):
            yield entry
        if not self.entries_read:
            message = "no complete entry (each needs a type, a title and a date)"
            first = next((n for n in self.notices if n.message.endswith("; skipped")), None)
            if first is not None:  # why, from the first entry left out
                why = first.message.removesuffix("; skipped")
                raise self.error(first.line or last, f"{message}; {why}")
            raise self.error(last, message)

    def language_of(self, draft: _Draft) -> str | None:
        """Its date's language when the month's name tells (the page's, from the first such
        date), else the page's; None while the page has not told."""
        told = draft.date.language if draft.date is not None else None
        if told is not None and self.page_language is None:
            self.page_language = told
        return told or self.page_language

    def start_entry(
        self, number: int, start: re.Match[str], expected: int | None, after_month: bool = False
    ) -> _Draft:
        found = int(start[1])
        if expected is not None and found != expected and not after_month:
            self.notice(
                number,
                f"entry {found} follows entry {expected - 1}; "
                f"an entry may be missing or misnumbered",
            )
        first = _clean(start[2])
        if first[0] in _CREDIT_FIRST and _CREDIT.match(first):
            return _Draft(number=found, type=None, line=number, credit=first)
        return _Draft(number=found, type=first, line=number)

    def read_header_line(self, number: int, text: str, draft: _Draft) -> bool:
        """Read a line of an entry's header (its type after a credit, a credit, its title,
        its date); True when the line is a month line that ends a dateless entry."""
        if draft.type is None:  # the entry began with a photo credit: the type comes next
            if _CREDIT.match(text):
                draft.credit = _clean(text)
            else:
                draft.type = _clean(text)
            return False
        if not draft.title_lines and text[0] in _CREDIT_FIRST and _CREDIT.match(text):
            draft.credit = _clean(text)
            return False
        try:
            read = self.dates.read(text)
        except DateError as error:
            if self.date_follows():  # "30 Years 2020", a title that looks like a date
                draft.title_lines.append(text)
            else:
                draft.problem, draft.problem_line = str(error), number
            return False
        if read is not None and self.date_follows():
            draft.title_lines.append(text)  # the title ends with a date: the date is next
        elif read is not None:
            if draft.title_lines:
                draft.date = read
            else:
                draft.problem, draft.problem_line = "no title before its date", number
        elif draft.title_lines and self.at_end() and self.dates.cut_date(text):
            draft.problem = f"its date is cut short by the end of the page ({_quote(text)})"
            draft.problem_line = number
        elif draft.title_closed or len(draft.title_lines) >= MAX_TITLE_LINES:
            draft.dateless = True  # what follows its title is its summary
            if self.dates.month_line(text) and self.at_boundary():
                return True
            draft.add_summary_line(text)
        else:
            draft.title_lines.append(text)  # a numbered first line is a title ("1. Why...")
        return False

    def ends_header(self, start: re.Match[str], draft: _Draft, after_month: bool) -> bool:
        """Whether a numbered line read where a title or date is due begins the next entry
        (the one being read then has no date), rather than being a title ("1. Why...")."""
        if not draft.title_lines:
            return False
        if after_month or int(start[1]) == draft.number + 1:
            return True
        upcoming = self._lines.peek_texts(MAX_TITLE_LINES + 1)
        return any(self.dates.looks_like_date(text) for text in upcoming[1:])

    def date_follows(self) -> bool:
        upcoming = self._lines.peek_text()
        return upcoming is not None and self.dates.looks_like_date(upcoming)

    def at_end(self) -> bool:
        return not self._lines.peek_texts(1)

    def at_boundary(self) -> bool:
        """Whether the next line begins an entry, or there is none."""
        upcoming = self._lines.peek_texts(1)
        return not upcoming or bool(_ENTRY_START.match(upcoming[0]))

    def starts_entry(
        self, start: re.Match[str], draft: _Draft, previous_blank: bool, after_month: bool
    ) -> bool:
        """Whether a numbered line in a summary begins the next entry.

        After a month line it does (numbers may start again there). The next number does,
        unless the summary is itself a numbered list. Any other numbered line does only after
        a blank line and when a title and a date follow it.
        """
        if after_month:
            return True
        if int(start[1]) == draft.number + 1 and not draft.numbered_list:
            return True
        if not previous_blank:
            return False
        upcoming = self._lines.peek_texts(MAX_TITLE_LINES + 1)
        for index, text in enumerate(upcoming):
            if _ENTRY_START.match(text):
                return False
            if self.dates.looks_like_date(text):
                return index > 0
        # Nothing conclusive ahead (the end of the file): trust the expected number.
        return int(start[1]) == draft.number + 1 and len(upcoming) <= MAX_TITLE_LINES

    def finish(self, draft: _Draft) -> Entry | None:
        """The entry read, if it can be stored; else None and a notice (`strict`: an error)."""
        title = draft.title
        if draft.problem is None and draft.type is None:
            draft.problem = "only a photo credit, no type"
        elif draft.problem is None and not title:
            draft.problem = "no title"
        if draft.problem is None and draft.date is not None:
            draft.problem = date_problem(draft.date.value)
        if draft.problem is None and len(title) > MAX_TITLE:
            draft.problem = title_too_long(title)
        if draft.problem is not None:
            self.skip(draft.problem_line, f"{draft.describe()}: {draft.problem}")
            return None
        undated = draft.date is None
        if undated and self.undated != "first-seen":
            self.skip(draft.line, f"{draft.describe()}: no date (a source with "
                                  'undated = "first-seen" stores such entries)')  # fmt: skip
            return None
        self.entries_read += 1
        summary = "\n\n".join([_clean(" ".join(lines)) for lines in draft.paragraphs])
        summary = summary_from_text(summary)  # text: a '<' in it is not markup
        if len(summary) > MAX_SUMMARY:
            length = max(len(summary), draft.summary_length)  # with the lines not kept
            self.notice(draft.line, f"{draft.describe()}: {summary_too_long(length)}")
            summary = shorten_summary(summary)
        assert draft.type is not None
        return Entry(
            type=draft.type,
            title=title,
            date=self.today if draft.date is None else draft.date.value,
            summary=summary,
            language=self.language_of(draft),
            line=draft.line,
            image_credit=draft.credit,
            undated=undated,
        )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    """One line of normalised text; control characters (terminal escapes) go."""
    text = unicodedata.normalize("NFC", text)
    # Most lines are clean already: printable text has no control characters and no
    # whitespace but the space, so splitting and joining would give it back unchanged.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(_CONTROL.sub("", text).split())


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
