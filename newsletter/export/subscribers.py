"""Subscriber lists (CSV): read, checked, and every problem listed rather than sent.

The csv module reads the file as a whole, so a quoted name may span lines and every row keeps
its true line number; a line separator that the csv module does not break at (U+2028 and the
like) stays inside its cell, where the name check refuses it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import Finding, NewsletterError
from newsletter.headers import HeaderKind, header_problem

if TYPE_CHECKING:
    from _csv import Reader as _CsvReader

ADDRESS_COLUMNS = ("email", "e-mail", "email address", "address", "mail")
NAME_COLUMNS = ("name", "full name", "display name")
_SNIFF_CHARACTERS = 64 * 1024  # the first rows, for the dialect
# A name that reads like a header line could mislead a reader even once safely encoded.
_HEADER_LIKE = re.compile(r"(?i)\b(?:bcc|cc|to|from|subject|reply-to|content-[a-z]+)\s*:")


@dataclass(frozen=True, slots=True)
class Subscriber:
    address: str  # as email-validator normalises it (an internationalised domain in Unicode)
    name: str = ""
    ascii_address: str | None = None  # the same address in ASCII (IDNA domain), when it has one

    @property
    def key(self) -> str:
        """Addresses differing only in case are one subscriber."""
        return self.address.lower()

    @property
    def smtp_address(self) -> str:
        """What SMTP and the To: header use: ASCII when it can be, else UTF-8 (SMTPUTF8)."""
        return self.ascii_address or self.address


def read_subscribers(path: Path) -> tuple[list[Subscriber], list[Finding]]:
    """The list's subscribers, and the rows that cannot be sent to (listed, never sent)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            sample = file.read(_SNIFF_CHARACTERS)
            if not sample.strip():
                raise NewsletterError("the subscriber list is empty", path, 1)
            dialect = _dialect(sample)
            file.seek(0)
            return _read_rows(csv.reader(file, dialect), path)
    except (OSError, UnicodeDecodeError) as error:
        raise NewsletterError(f"cannot read the subscriber list: {error}", path) from None
    except csv.Error as error:
        raise NewsletterError(f"not a readable CSV file: {error}", path) from None


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The dialect of the first rows (whole ones: a cut last row would mislead the sniffer)."""
    if len(sample) == _SNIFF_CHARACTERS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    rows_only = sample.partition("\n")[2]  # a one-column header says nothing of the rest
    for text in (sample, rows_only):
        try:
            return csv.Sniffer().sniff(text, delimiters=",;\t")
        except csv.Error:
            continue
    return csv.excel


def _read_rows(rows: _CsvReader, path: Path) -> tuple[list[Subscriber], list[Finding]]:
    from email_validator import EmailNotValidError, validate_email

    header = [column.strip().lower() for column in next(rows, [])]
    address_column = next((header.index(c) for c in ADDRESS_COLUMNS if c in header), None)
    if address_column is None:
        raise NewsletterError(
            f"no email column (columns: {', '.join(header) or 'none'}; expected one of "
            f"{', '.join(ADDRESS_COLUMNS)})",
            path,
            1,
        )
    name_column = next((header.index(c) for c in NAME_COLUMNS if c in header), None)

    subscribers: list[Subscriber] = []
    problems: list[Finding] = []
    first_line: dict[str, int] = {}
    line = rows.line_num + 1  # where the next row starts
    for row in rows:
        number, line = line, rows.line_num + 1  # a quoted cell may span lines
        if not any(cell.strip() for cell in row):
            continue
        raw = row[address_column].strip() if address_column < len(row) else ""
        name = ""
        if name_column is not None and name_column < len(row):
            name = row[name_column].strip(" \t")  # str.strip() would drop U+2028 unseen
        try:
            checked = validate_email(raw, check_deliverability=False)
        except EmailNotValidError as error:
            problems.append(_problem(path, number, raw, f"invalid address: {error}"))
            continue
        name_problem = header_problem(name, HeaderKind.NAME)
        if name_problem and len(name) > HeaderKind.NAME.limit:
            # Its characters are fine (they are checked first), it is only too long: the
            # address is good, the name is left out.
            problems.append(_problem(path, number, name, f"the name: {name_problem}", False))
            name, name_problem = "", None
        if name_problem:
            problems.append(_problem(path, number, name, f"the name: {name_problem}"))
            continue
        if _HEADER_LIKE.search(name):
            problems.append(_problem(path, number, name, "a name that reads like a header"))
            continue
        subscriber = Subscriber(checked.normalized, name, checked.ascii_email)
        if subscriber.key in first_line:
            earlier = first_line[subscriber.key]
            problems.append(_problem(path, number, raw, f"the same address as line {earlier}"))
            continue
        first_line[subscriber.key] = number
        subscribers.append(subscriber)
    return subscribers, problems


def _problem(path: Path, line: int, value: str, message: str, skipped: bool = True) -> Finding:
    """A row that is not sent to (code "skipped"), or sent without its name ("name-dropped")."""
    outcome = "skipped" if skipped else "sent without a name"
    code = "skipped" if skipped else "name-dropped"
    return Finding(f"{message} ({_shown(value)}); {outcome}", path, line, "warning", code)


def _shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")
