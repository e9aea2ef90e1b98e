"""Subscriber lists (CSV): read, checked, and every problem listed rather than sent."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import NewsletterError

ADDRESS_COLUMNS = ("email", "e-mail", "email address", "address", "mail")
NAME_COLUMNS = ("name", "full name", "display name")
# A name that reads like a header line could mislead a reader even once safely encoded.
_HEADER_LIKE = re.compile(r"(?i)\b(?:bcc|cc|to|from|subject|reply-to|content-[a-z]+)\s*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Subscriber:
    address: str  # as email-validator normalises it
    name: str = ""

    @property
    def key(self) -> str:
        """Addresses differing only in case are one subscriber."""
        return self.address.lower()


@dataclass(frozen=True, slots=True)
class SubscriberProblem:
    line: int
    value: str
    message: str

    def describe(self, path: Path) -> str:
        return f"{path}:{self.line}: {self.message} ({self.value!r}); skipped"


def read_subscribers(path: Path) -> tuple[list[Subscriber], list[SubscriberProblem]]:
    """The list's subscribers, and the rows that cannot be sent to (listed, never sent)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise NewsletterError(f"cannot read the subscriber list: {error}", path) from None
    if not text.strip():
        raise NewsletterError("the subscriber list is empty", path, 1)
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(text.splitlines(keepends=True), dialect)
    header = [column.strip().lower() for column in next(rows)]
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
    problems: list[SubscriberProblem] = []
    first_line: dict[str, int] = {}
    for row in rows:
        number = rows.line_num  # right even when a quoted name spans lines
        if not any(cell.strip() for cell in row):
            continue
        raw = row[address_column].strip() if address_column < len(row) else ""
        name = (
            row[name_column].strip() if name_column is not None and name_column < len(row) else ""
        )
        try:
            address = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError as error:
            problems.append(SubscriberProblem(number, raw, f"invalid address: {error}"))
            continue
        if _CONTROL.search(name):
            problems.append(SubscriberProblem(number, name, "line breaks or control characters "
                                                            "in the name"))  # fmt: skip
            continue
        if _HEADER_LIKE.search(name):
            problems.append(SubscriberProblem(number, name, "a name that reads like a header"))
            continue
        subscriber = Subscriber(address, name)
        if subscriber.key in first_line:
            problems.append(
                SubscriberProblem(
                    number, raw, f"the same address as line {first_line[subscriber.key]}"
                )
            )
            continue
        first_line[subscriber.key] = number
        subscribers.append(subscriber)
    return subscribers, problems
