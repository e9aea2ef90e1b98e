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
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from newsletter.errors import NewsletterError, Notice
from newsletter.ingest.dates import DateError, DateReader, ReadDate
from newsletter.ingest.documents import Document
from newsletter.ingest.fields import (
    MAX_SUMMARY,
    MAX_TITLE,
    shorten_summary,
    summary_too_long,
    title_too_long,
)
from newsletter.ingest.markup import summary_from_text
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


class _Draft:
    """An entry being read: its header, and the lines seen so far."""

    __slots__ = ("date", "line", "number", "numbered_list", "paragraph_open", "paragraphs",
                 "summary_length", "title_closed", "title_lines", "type")  # fmt: skip

    def __init__(self, number: int, type: str, line: int):
        self.number = number
        self.type = type
        self.line = line
        self.title_lines: list[str] = []
        self.date: ReadDate | None = None
        self.paragraphs: list[list[str]] = []
        self.paragraph_open = False
        self.title_closed = False  # a blank line after the title: the date must come next
        self.numbered_list = False  # the summary holds numbered lines that began no entry
        self.summary_length = 0  # characters of summary read; past MAX_SUMMARY, not all kept

    @property
    def title(self) -> str:
        return _clean(" ".join(self.title_lines))

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
        self._lines = self._read()
        self._ahead: deque[tuple[int, str]] = deque()

    def _read(self) -> Iterator[tuple[int, str]]:
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
                    yield from enumerate((line.strip() for line in lines), start=number + 1)
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

    def __iter__(self) -> Iterator[tuple[int, str]]:
        lines, ahead = self._lines, self._ahead
        while True:
            if ahead:
                line = ahead.popleft()
            else:
                upcoming = next(lines, None)
                if upcoming is None:
                    return
                line = upcoming
            self.last_line = line[0]
            yield line

    def peek_texts(self, count: int) -> list[str]:
        """The next `count` non-blank lines, without consuming them."""
        while sum(1 for _, text in self._ahead if text) < count:
            try:
                self._ahead.append(next(self._lines))
            except StopIteration:
                break
        return [text for _, text in self._ahead if text][:count]


class ListingReader:
    """Yields the entries of one listing file; `heading` and `notices` fill in as it reads."""

    def __init__(self, source: Path | Document, dates: DateReader, language: str | None = None):
        document = source if isinstance(source, Document) else Document.from_path(source)
        self.path = document.name
        self.dates = dates
        self.language = language
        self.heading: str | None = None
        self.notices: list[Notice] = []
        self.entries_read = 0
        self._lines = _Lines(document)

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def error(self, line: int, message: str) -> NewsletterError:
        return NewsletterError(message, self.path, line)

    def notice(self, line: int, message: str) -> None:
        if len(self.notices) < MAX_NOTICES:
            self.notices.append(Notice(message, self.path, line))
        elif len(self.notices) == MAX_NOTICES:
            self.notices.append(Notice("more notices left out", self.path, line))

    def __iter__(self) -> Iterator[Entry]:
        draft: _Draft | None = None
        previous_blank = True
        for number, text in iter(self._lines):
            if not text:
                if draft is not None:
                    draft.paragraph_open = False
                    draft.title_closed = bool(draft.title_lines)
                previous_blank = True
                continue
            start = _ENTRY_START.match(text)
            if self.heading is None and draft is None:
                if not start:
                    self.heading = _clean(text)
                    continue
                self.heading = ""
                self.notice(number, "no heading line before the first entry")
            if draft is None:
                if not start:
                    raise self.error(
                        number,
                        f"expected the first entry, such as '1. News', "
                        f"after the heading; found {_quote(text)}",
                    )
                draft = self.start_entry(number, start, expected=None)
            elif draft.date is None:
                self.read_title_or_date(number, text, start, draft)
            elif start and self.starts_entry(start, draft, previous_blank):
                entry = self.finish(draft)
                if entry is not None:
                    yield entry
                draft = self.start_entry(number, start, expected=draft.number + 1)
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
        if draft.date is None:
            self.notice(
                draft.line,
                f"the last entry ({draft.number}. {draft.type}) is "
                f"truncated: it has no date, so it was skipped",
            )
        elif (entry := self.finish(draft)) is not None:
            yield entry
        if not self.entries_read:
            raise self.error(last, "no complete entry (each needs a type, a title and a date)")

    def start_entry(self, number: int, start: re.Match[str], expected: int | None) -> _Draft:
        found = int(start[1])
        if expected is not None and found != expected:
            self.notice(
                number,
                f"entry {found} follows entry {expected - 1}; "
                f"an entry may be missing or misnumbered",
            )
        return _Draft(number=found, type=_clean(start[2]), line=number)

    def read_title_or_date(
        self, number: int, text: str, start: re.Match[str] | None, draft: _Draft
    ) -> None:
        try:
            read = self.dates.read(text)
        except DateError as error:
            if self.date_follows():  # "30 Years 2020", a title that looks like a date
                draft.title_lines.append(text)
                return
            raise self.error(number, str(error)) from None
        if read is not None and self.date_follows():
            draft.title_lines.append(text)  # the title ends with a date: the date is next
        elif read is not None:
            if not draft.title_lines:
                raise self.error(
                    number,
                    f"entry {draft.number} ({draft.type}) has no title: "
                    f"expected a title line before its date",
                )
            draft.date = read
        elif start and draft.title_lines:
            raise self.error(
                number, self.missing_date(draft, f"found the next entry {_quote(text)}")
            )
        elif draft.title_closed or len(draft.title_lines) >= MAX_TITLE_LINES:
            raise self.error(number, self.missing_date(draft, f"found {_quote(text)}"))
        else:
            draft.title_lines.append(text)  # a numbered first line is a title ("1. Why...")

    def date_follows(self) -> bool:
        upcoming = self._lines.peek_texts(1)
        return bool(upcoming) and self.dates.looks_like_date(upcoming[0])

    def missing_date(self, draft: _Draft, found: str) -> str:
        return (
            f"entry {draft.number} ({_quote(draft.title, 50)}) has no date line: expected "
            f"a date such as '09 November 2020' after the title, {found}"
        )

    def starts_entry(self, start: re.Match[str], draft: _Draft, previous_blank: bool) -> bool:
        """Whether a numbered line in a summary begins the next entry.

        The next number does, unless the summary is itself a numbered list. Any other numbered
        line does only after a blank line and when a title and a date follow it.
        """
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
        """The entry read; None (with a notice) when its date is out of range, or its "title"
        is too long to be one."""
        assert draft.date is not None
        self.entries_read += 1
        title = draft.title
        problem = date_problem(draft.date.value)
        if problem:
            self.notice(draft.line, f"entry {draft.number} ({_quote(title, 50)}): "
                                    f"{problem}; left out")  # fmt: skip
            return None
        if len(title) > MAX_TITLE:
            where = f"entry {draft.number} ({_quote(title)})"
            self.notice(draft.line, f"{where}: {title_too_long(title)}; left out")
            return None
        summary = "\n\n".join(_clean(" ".join(lines)) for lines in draft.paragraphs)
        summary = summary_from_text(summary)  # text: a '<' in it is not markup
        if len(summary) > MAX_SUMMARY:
            length = max(len(summary), draft.summary_length)  # with the lines not kept
            self.notice(draft.line, f"entry {draft.number} ({_quote(title)}): "
                                    f"{summary_too_long(length)}")  # fmt: skip
            summary = shorten_summary(summary)
        return Entry(
            type=draft.type,
            title=title,
            date=draft.date.value,
            summary=summary,
            language=self.language or draft.date.language,
            line=draft.line,
        )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    """One line of normalised text; control characters (terminal escapes) go."""
    return " ".join(_CONTROL.sub("", unicodedata.normalize("NFC", text)).split())


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
