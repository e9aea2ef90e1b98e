"""Read the dates that listing pages print: `09 November 2020`, `9 de noviembre de 2020`..."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

DEFAULT_LANGUAGES = ("en", "fr", "es")

_ORDINAL = r"(?:st|nd|rd|th|er|re|º|°|ª)?"
_MONTH = r"(?P<month>[^\W\d_]{3,}\.?)"
_DAY_FIRST = re.compile(
    rf"^(?P<day>\d{{1,2}}){_ORDINAL}\.?\s+(?:de\s+)?{_MONTH},?\s+(?:de[l]?\s+)?(?P<year>\d{{4}})$",
    re.IGNORECASE,
)
_MONTH_FIRST = re.compile(
    rf"^{_MONTH}\s+(?P<day>\d{{1,2}}){_ORDINAL},?\s+(?P<year>\d{{4}})$", re.IGNORECASE
)
_ISO = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})$")
# A month on a line of its own, with or without its year: "December 2020", "Avril",
# "diciembre de 2020": listings group their entries under such lines.
_MONTH_LINE = re.compile(r"^(?P<month>[^\W\d_]{3,}\.?)(?:,?\s+(?:de\s+)?(?P<year>\d{4}))?$")
# The start of a day-first date cut off by the end of a saved page: "27 September 20", "14 F".
_CUT_DATE = re.compile(r"^\d{1,2}(?:\.?\s+(?:de\s+)?[^\W\d_]*\.?(?:,?\s+(?:de\s+)?\d{0,3})?)?$")
_COMBINING_MARKS = re.compile(r"[\u0300-\u036f]")
_MAX_REMEMBERED = 100_000


@dataclass(frozen=True, slots=True)
class ReadDate:
    """A date and, when its month name tells, the language it was written in."""

    value: date
    language: str | None


class DateError(ValueError):
    """A line shaped like a date that is not one: an unknown month name or an impossible day."""


def _fold(name: str) -> str:
    name = _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", name))
    return name.casefold().rstrip(".")


class DateReader:
    """Recognises date lines in the given languages, using Babel's (CLDR) month names."""

    def __init__(self, languages: Iterable[str] = DEFAULT_LANGUAGES):
        self.languages = tuple(dict.fromkeys(languages))
        self.months = _month_names(self.languages)
        # Every month name, ambiguous ones too ("mayo", "May"): enough to tell a month line.
        self.all_months = frozenset(_month_names(self.languages, ambiguous=True))
        self._known: dict[
            str, ReadDate
        ] = {}  # date lines repeat; titles, which also pass here, do not

    def looks_like_date(self, text: str) -> bool:
        """Whether a line has the shape of a date, whether or not it is a valid one."""
        if not text[-1:].isdigit():  # every shape ends with a digit: most lines are quickly not
            return False
        return bool(_DAY_FIRST.match(text) or _MONTH_FIRST.match(text) or _ISO.match(text))

    def month_line(self, text: str) -> bool:
        """Whether a line is a month alone (with or without its year), as listings group
        their entries under."""
        if len(text) > 25:
            return False
        match = _MONTH_LINE.match(text)
        return match is not None and _fold(match["month"]) in self.all_months

    def cut_date(self, text: str) -> bool:
        """Whether a line is the beginning of a date, cut short ("27 September 20", "14 F")."""
        return bool(_CUT_DATE.match(text)) and not self.looks_like_date(text)

    def read(self, text: str) -> ReadDate | None:
        """The date on a line, None if the line is not shaped like a date; DateError if invalid."""
        known = self._known.get(text)
        if known is None:
            known = self._read(text)
            if known is not None and len(self._known) < _MAX_REMEMBERED:
                self._known[text] = known
        return known

    def _read(self, text: str) -> ReadDate | None:
        if not text[-1:].isdigit():  # see looks_like_date
            return None
        match = _DAY_FIRST.match(text) or _MONTH_FIRST.match(text)
        language = None
        if match:
            name = _fold(match["month"])
            if name not in self.months:
                raise DateError(
                    f"unknown month name {match['month']!r} in date {text!r} "
                    f"(dates are read in: {', '.join(self.languages)})"
                )
            month, languages = self.months[name]
            language = languages[0] if len(languages) == 1 else None
        else:
            match = _ISO.match(text)
            if not match:
                return None
            month = int(match["month"])
        try:
            return ReadDate(date(int(match["year"]), month, int(match["day"])), language)
        except ValueError as error:
            raise DateError(f"impossible date {text!r}: {error}") from None


def _month_names(
    languages: tuple[str, ...], *, ambiguous: bool = False
) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Folded month name -> (month number, languages that use it), wide and abbreviated forms;
    `ambiguous`: with the names that mean different months in different languages too."""
    from babel import Locale, UnknownLocaleError

    found: dict[str, dict[int, list[str]]] = {}
    for language in languages:
        try:
            locale = Locale.parse(language.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue  # a language Babel does not know cannot contribute month names
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for month, name in locale.months[context][width].items():
                    users = found.setdefault(_fold(name), {}).setdefault(month, [])
                    if language not in users:
                        users.append(language)
    # A name meaning different months in different languages is ambiguous: leave it out.
    return {
        name: next((month, tuple(users)) for month, users in months.items())
        for name, months in found.items()
        if len(months) == 1 or ambiguous
    }
