"""Subscriber lists (CSV): read, checked, and every problem listed rather than sent.

The csv module reads the file as a whole, so a quoted name may span lines and every row keeps
its true line number; a line separator that the csv module does not break at (U+2028 and the
like) stays inside its cell, where the name check refuses it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import Finding, NewsletterError
from newsletter.headers import HeaderKind, header_problem
from newsletter.model import Subscriber as Subscriber  # where the sending stage finds it

if TYPE_CHECKING:
    from _csv import Reader as _CsvReader

ADDRESS_COLUMNS = ("email", "e-mail", "email address", "address", "mail")
NAME_COLUMNS = ("name", "full name", "display name")
LANGUAGE_COLUMNS = ("language", "lang", "locale")
MAX_ATTRIBUTE = 1000  # characters of one other column's value, kept as an attribute
_SNIFF_CHARACTERS = 64 * 1024  # the first rows, for the dialect
# A name that reads like a header line could mislead a reader even once safely encoded.
_HEADER_LIKE = re.compile(r"(?i)\b(?:bcc|cc|to|from|subject|reply-to|content-[a-z]+)\s*:")


def read_subscribers(path: Path) -> tuple[list[Subscriber], list[Finding]]:
    """The list's subscribers, and the rows that cannot be sent to (listed, never sent)."""
    subscribers: list[Subscriber] = []
    problems: list[Finding] = []
    for row in subscriber_rows(path):
        (problems if isinstance(row, Finding) else subscribers).append(row)  # type: ignore[arg-type]
    return subscribers, problems


def subscriber_rows(path: Path) -> Iterator[Subscriber | Finding]:
    """Each row of the list, as it is read: a subscriber, or why the row is skipped (or its
    name dropped); a NewsletterError, even halfway, for a file that cannot be read."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            sample = file.read(_SNIFF_CHARACTERS)
            if not sample.strip():
                raise NewsletterError("the subscriber list is empty", path, 1)
            dialect = _dialect(sample)
            file.seek(0)
            yield from _read_rows(csv.reader(file, dialect), path)
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


def _read_rows(rows: _CsvReader, path: Path) -> Iterator[Subscriber | Finding]:
    from email_validator import EmailNotValidError

    header = [column.strip().lower() for column in next(rows, [])]
    address_column = _column(header, ADDRESS_COLUMNS)
    if address_column is None:
        raise NewsletterError(
            f"no email column (columns: {', '.join(header) or 'none'}; expected one of "
            f"{', '.join(ADDRESS_COLUMNS)})",
            path,
            1,
        )
    name_column = _column(header, NAME_COLUMNS)
    language_column = _column(header, LANGUAGE_COLUMNS)
    known = {address_column, name_column, language_column}
    others = [(i, column) for i, column in enumerate(header) if i not in known and column]

    first_line: dict[str, int] = {}
    line = rows.line_num + 1  # where the next row starts
    for row in rows:
        number, line = line, rows.line_num + 1  # a quoted cell may span lines
        if not any(cell.strip() for cell in row):
            continue
        raw = _cell(row, address_column).strip()
        name = _cell(row, name_column).strip(" \t")  # str.strip() would drop U+2028 unseen
        try:
            normalized, ascii_address = checked_address(raw)
        except EmailNotValidError as error:
            yield _problem(path, number, raw, f"invalid address: {error}")
            continue
        name_problem = header_problem(name, HeaderKind.NAME)
        if name_problem and len(name) > HeaderKind.NAME.limit:
            # Its characters are fine (they are checked first), it is only too long: the
            # address is good, the name is left out.
            yield _problem(path, number, name, f"the name: {name_problem}", False)
            name, name_problem = "", None
        if name_problem:
            yield _problem(path, number, name, f"the name: {name_problem}")
            continue
        if _HEADER_LIKE.search(name):
            yield _problem(path, number, name, "a name that reads like a header")
            continue
        language = _cell(row, language_column).strip()
        if language_problem(language):
            yield _problem(path, number, language, "not a language tag such as en or pt-BR")
            continue
        key = normalized.lower()
        if key in first_line:
            yield _problem(path, number, raw, f"the same address as line {first_line[key]}")
            continue
        first_line[key] = number
        attributes = {
            column: value[:MAX_ATTRIBUTE]
            for i, column in others
            if (value := _cell(row, i).strip())
        }
        yield Subscriber(
            normalized, name, ascii_address, language.replace("_", "-").lower(), attributes
        )


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
# Plain ASCII addresses, for which email-validator's answer is known without asking it (it
# takes some 60 µs an address, a minute for a million): a dot-atom of the usual characters,
# a domain of letter-digit-hyphen labels without "--" (nothing IDNA would touch), a
# top-level domain of letters, none of the special-use names. Everything else goes to it;
# tests/export/test_subscribers_and_formats.py holds the two to the same answers.
_PLAIN_ADDRESS = re.compile(
    r"(?P<local>[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*)"
    r"@(?P<domain>(?:(?!-)(?![A-Za-z0-9-]*--)[A-Za-z0-9-]{1,63}(?<!-)\.)+[A-Za-z]{2,63})"
)


def language_problem(language: str) -> str | None:
    """Why `language` is not a language tag (such as fr or pt-BR); None when it is, or empty."""
    if language and not _LANGUAGE.fullmatch(language):
        return f"{language!r} is not a language tag such as en or pt-BR"
    return None


def normalised_address(raw: str) -> str:
    """The address as the list holds it (email-validator's form: the domain in Unicode and
    lower case), or the text itself, trimmed, when it is no valid address."""
    from email_validator import EmailNotValidError

    try:
        return checked_address(raw.strip())[0]
    except EmailNotValidError:
        return raw.strip()


def checked_address(raw: str) -> tuple[str, str | None]:
    """The address as email-validator normalises it, and its ASCII form (None when it has
    none); EmailNotValidError for anything that is not an address one can send to."""
    plain = _PLAIN_ADDRESS.fullmatch(raw)
    if plain and len(plain["local"]) <= 64 and len(raw) <= 254:
        domain = plain["domain"].lower()
        if len(domain) <= 253 and domain.rsplit(".", 1)[1] not in _special_use_names():
            address = f"{plain['local']}@{domain}"
            return address, address
    from email_validator import validate_email

    checked = validate_email(raw, check_deliverability=False)
    return checked.normalized, checked.ascii_email


@cache
def _special_use_names() -> frozenset[str]:
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    return frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(name) for name in names if name in header), None)


def _cell(row: list[str], column: int | None) -> str:
    return row[column] if column is not None and column < len(row) else ""


def _problem(path: Path, line: int, value: str, message: str, skipped: bool = True) -> Finding:
    """A row that is not sent to (code "skipped"), or sent without its name ("name-dropped")."""
    outcome = "skipped" if skipped else "sent without a name"
    code = "skipped" if skipped else "name-dropped"
    return Finding(f"{message} ({_shown(value)}); {outcome}", path, line, "warning", code)


def _shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")
