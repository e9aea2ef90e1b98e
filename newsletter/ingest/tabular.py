"""Read spreadsheets (CSV) and exports of other systems (JSON, JSON Lines) with a column mapping.

The mapping names, per field, the column (or JSON key) that holds it:

    [sources.coop-spreadsheet.columns]
    title = "Headline"
    date = "Published on"

Unmapped fields are found by their usual names (title, date, type, summary, url or link, image,
language), in any case. CSV files may start with a BOM and use ',', ';', tab or '|' between
fields. A row or line that cannot be an item is left out with a warning naming its line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from newsletter.config import COLUMN_FIELDS
from newsletter.errors import NewsletterError
from newsletter.ingest.dates import DateReader
from newsletter.ingest.documents import Document
from newsletter.ingest.fields import FieldReader, RawEntry, ReadingSettings
from newsletter.model import Entry

_USUAL_NAMES = {
    "title": ("title", "headline", "name"),
    "date": ("date", "published", "pubdate", "published_at", "publication_date"),
    "type": ("type", "kind", "category"),
    "summary": ("summary", "description", "abstract", "teaser"),
    "url": ("url", "link", "href"),
    "image": ("image", "image_url", "picture", "thumbnail"),
    "language": ("language", "lang"),
}
_RECORD_LISTS = ("items", "entries", "data", "results", "records")
_DELIMITERS = ",;\t|"
_BOM = "\ufeff"
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")  # a summary holding tags is HTML


def _column_for(field: str, columns: Iterable[str], mapping: Mapping[str, str]) -> str | None:
    if field in mapping:
        return mapping[field]
    by_name = {column.strip().casefold(): column for column in columns}
    return next((by_name[name] for name in _USUAL_NAMES[field] if name in by_name), None)


class _TabularReader(FieldReader):
    """What CSV and JSON readers share: the mapping, the builder, the notices."""

    def __init__(
        self,
        document: Document,
        dates: DateReader,
        columns: Mapping[str, str] | None,
        settings: ReadingSettings,
    ):
        super().__init__(document, dates, settings)
        self.mapping = dict(columns or {})

    def fields(self, names: Iterable[str]) -> dict[str, str]:
        """field -> column, for the fields these columns (or keys) hold."""
        names = list(names)
        found = {field: _column_for(field, names, self.mapping) for field in COLUMN_FIELDS}
        return {field: column for field, column in found.items() if column is not None}

    def header_fields(self, header: list[str]) -> dict[str, str]:
        """A CSV header's fields, checked: a file without a title or date column is an error."""
        fields = self.fields(header)
        for field in ("title", "date"):
            column = fields.get(field)
            if column is None or column not in header:
                shown = ", ".join(repr(name) for name in header) or "none"
                wanted = f"column {column!r} for the {field}" if column else f"{field!r} column"
                raise NewsletterError(
                    f"no {wanted} (columns: {shown}); map one in the source's [columns] table",
                    self.document.name,
                    1,
                )
        return fields

    def raw(self, record: Mapping[str, Any], fields: Mapping[str, str], where: str,
            line: int | None) -> RawEntry:  # fmt: skip
        def value(field: str) -> str | None:
            return _text(record.get(fields[field])) if field in fields else None

        summary = value("summary")
        return RawEntry(
            where=where,
            line=line,
            title=value("title"),
            date=value("date"),
            type=value("type"),
            summary=summary,
            summary_is_html=bool(summary and _TAG.search(summary)),
            url=value("url"),
            image=value("image"),
            language=value("language"),
        )

    def decode(self, data: bytes) -> str:
        charset = self.document.charset or "utf-8"
        try:
            text = data.decode(charset)
        except (UnicodeDecodeError, LookupError) as error:
            line = data[: getattr(error, "start", 0)].count(b"\n") + 1
            raise NewsletterError(
                f"not {charset} text; save the file as UTF-8", self.document.name, line
            ) from None
        return text.removeprefix(_BOM)


class CsvReader(_TabularReader):
    """Yields the entries of a CSV file with a header row, streamed: its size does not matter."""

    def __iter__(self) -> Iterator[Entry]:
        charset = self.document.charset or "utf-8-sig"
        with self.document.open() as binary:
            try:
                text = io.TextIOWrapper(binary, encoding=charset, newline="")
            except LookupError:
                raise NewsletterError(f"unknown charset {charset!r}", self.document.name) from None
            reader = csv.reader(text, self.dialect(text))
            try:
                for entry in self.rows(reader):
                    self.bytes_read = binary.tell()  # read ahead a little: near enough
                    yield entry
            except UnicodeDecodeError:
                shown = self.document.charset or "UTF-8"
                message = f"not {shown} text; save the file as UTF-8"
                raise NewsletterError(message, self.document.name, reader.line_num + 1) from None
            except csv.Error as error:
                raise NewsletterError(f"not readable CSV: {error}", self.document.name,
                                      reader.line_num) from None  # fmt: skip
            self.bytes_read = binary.tell()

    def dialect(self, text: io.TextIOWrapper) -> type[csv.Dialect]:
        """The file's delimiter, told from its start; quotes are always '"' (a sniffed quote
        character can be an apostrophe of the text)."""
        try:
            sample = text.read(8192)
            delimiter = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
        except csv.Error:
            delimiter = ","
        except UnicodeDecodeError:
            raise NewsletterError("not UTF-8 text; save the file as UTF-8", self.document.name,
                                  1) from None  # fmt: skip
        text.seek(0)

        class Dialect(csv.excel):
            pass

        Dialect.delimiter = delimiter
        return Dialect

    def rows(self, reader: Any) -> Iterator[Entry]:
        header = next(reader, None)
        if header is None:
            raise NewsletterError("empty file: expected a header row", self.document.name)
        header = [name.removeprefix(_BOM) for name in header]
        fields = self.header_fields(header)
        line = reader.line_num + 1
        for number, row in enumerate(reader, start=1):
            if any(cell.strip() for cell in row):
                record = dict(zip(header, row, strict=False))
                entry = self.builder.build(self.raw(record, fields, f"row {number}", line))
                if entry is not None:
                    yield entry
            line = reader.line_num + 1


class JsonReader(_TabularReader):
    """Yields the entries of a JSON array of objects (or an object holding one), or of JSON
    Lines (one object per line; a line that is not JSON is left out with a warning)."""

    def __iter__(self) -> Iterator[Entry]:
        data = self.document.read()
        self.bytes_read = len(data)
        text = self.decode(data)
        try:
            whole = json.loads(text)
        except json.JSONDecodeError as error:
            if text.lstrip().startswith("{") and _more_than_one_line(text):
                yield from self.lines(text)
                return
            raise NewsletterError(
                f"not valid JSON: {error.msg} at column {error.colno}",
                self.document.name,
                error.lineno,
            ) from None
        except RecursionError:
            if text.lstrip().startswith("{") and _more_than_one_line(text):
                yield from self.lines(text)  # one deep line: left out there, with a notice
                return
            raise NewsletterError("JSON nested too deeply to read", self.document.name) from None
        records = _records(whole)
        if records is None:
            raise NewsletterError(
                "expected a list of objects, or an object with one under "
                + " or ".join(repr(key) for key in _RECORD_LISTS),
                self.document.name,
            )
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                self.notices.skip(f"record {number} is not an object")
                continue
            fields = self.fields(record.keys())  # each record has the keys it has
            entry = self.builder.build(self.raw(record, fields, f"record {number}", None))
            if entry is not None:
                yield entry

    def lines(self, text: str) -> Iterator[Entry]:
        for line, content in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028
            if not content.strip():
                continue
            try:
                record = json.loads(content)
            except RecursionError:
                self.notices.skip("JSON nested too deeply", line)
                continue
            except json.JSONDecodeError as error:
                self.notices.skip(f"not valid JSON ({error.msg} at column {error.colno})", line)
                continue
            if not isinstance(record, dict):
                self.notices.skip("not a JSON object", line)
                continue
            fields = self.fields(record.keys())
            entry = self.builder.build(self.raw(record, fields, f"line {line}", line))
            if entry is not None:
                yield entry


def _records(whole: Any) -> list[Any] | None:
    if isinstance(whole, list):
        return whole
    if isinstance(whole, dict):
        for key in _RECORD_LISTS:
            if isinstance(whole.get(key), list):
                return list(whole[key])
        return [whole]  # one record alone (JSON Lines of one line)
    return None


def _more_than_one_line(text: str) -> bool:
    return sum(1 for line in text.split("\n") if line.strip()) > 1


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)
