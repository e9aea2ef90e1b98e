"""The words a theme prints, per language, from its labels.toml files: none borrowed from
another language, French ones typeset the French way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.tomltext import parse_toml, read_toml_text

LABELS = "labels.toml"
REFERENCE = "en"  # the language a theme writes every label in; the others must have them all
TYPES = "types"  # a language's sub-table: the sources' type labels ("News") in its words


def _default_theme() -> Path:
    """The default theme: inside the package when installed from a wheel (which ships the
    top-level templates/ as newsletter/templates/), else the checkout's templates/ folder."""
    installed = Path(__file__).resolve().parent / "templates" / "default"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[1] / "templates" / "default"


DEFAULT_THEME = _default_theme()
PUBLIC_PAGES = DEFAULT_THEME.parent / "public"

# French spacing (Imprimerie nationale): a no-break space before a colon, a narrow one before
# ; ! ? and inside guillemets. Both no-break, so the sign never starts a line; U+202F shows in
# Gmail, Apple Mail and Outlook's fonts alike.
_SPACE = "[ \u00a0\u202f]*"
_FRENCH = (
    (re.compile(_SPACE + ":"), "\u00a0:"),
    (re.compile(_SPACE + "([;!?])"), "\u202f\\1"),
    (re.compile("«" + _SPACE), "«\u202f"),
    (re.compile(_SPACE + "»"), "\u202f»"),
)


def typeset(text: str, language: str) -> str:
    """A theme's own words spaced as the language wants (only French differs, for now)."""
    if base_language(language) == "fr":
        for pattern, spaced in _FRENCH:
            text = pattern.sub(spaced, text)
    return text


def base_language(language: str) -> str:
    return language.split("-")[0].split("_")[0].lower()


def _fold(label: str) -> str:
    return " ".join(label.split()).casefold()


class Labels:
    """The words a theme prints in one language, as `labels.read_more` in templates.

    Not a dict: `labels.items` would be the dict's method, printed as such, where a label
    called "items" was meant; here an unknown label is an error naming it.
    """

    __slots__ = ("_types", "_words", "language")

    def __init__(self, language: str, words: dict[str, str], types: dict[str, str] | None = None):
        self.language = language
        self._words = {key: typeset(value, language) for key, value in words.items()}
        self._types = {_fold(key): typeset(value, language) for key, value in (types or {}).items()}

    def __getattr__(self, name: str) -> str:
        try:
            return self._words[name]
        except KeyError:
            raise AttributeError(f"no label {name!r} in the theme's {LABELS}") from None

    def __getitem__(self, name: str) -> str:
        return self.__getattr__(name)

    def type_label(self, label: str) -> str:
        """A source's type label in this language; one the theme does not know is the
        source's own word, shown as it is."""
        return self._types.get(_fold(label), label)

    def knows_type(self, label: str) -> bool:
        return _fold(label) in self._types

    def __repr__(self) -> str:
        return f"Labels({self.language!r}, {sorted(self._words.items())!r}, {self._types!r})"


@dataclass(frozen=True, slots=True)
class MissingLabel:
    key: str  # "read_more", or "types.News"
    path: Path  # the labels.toml that should have it
    line: int | None  # of the language's table there, if it has one

    @property
    def message(self) -> str:
        return f"no {self.key!r} label for this language (the theme has it in {REFERENCE!r})"


@dataclass
class LabelTables:
    """Every language's labels from a theme's folders, with where each table starts."""

    words: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, dict[str, str]] = field(default_factory=dict)
    tables: dict[str, tuple[Path, int]] = field(default_factory=dict)  # language -> its [table]
    files: list[Path] = field(default_factory=list)

    @classmethod
    def read(cls, folders: Sequence[Path]) -> LabelTables:
        found = cls()
        for folder in reversed(folders):  # a theme's own words win over the default's
            path = folder / LABELS
            if path.is_file():
                found._add(path)
        return found

    def _add(self, path: Path) -> None:
        try:
            text = read_toml_text(path)
        except UnicodeDecodeError as error:
            raise NewsletterError(f"cannot read: {error}", path) from None
        self.files.append(path)
        for language, table in parse_toml(text, path).items():
            if not isinstance(table, dict):
                raise NewsletterError(f"{language!r} is not a table of labels", path)
            types = table.get(TYPES, {})
            words = {key: value for key, value in table.items() if key != TYPES}
            for key, value in (*words.items(), *types.items()):
                if not isinstance(value, str):
                    raise NewsletterError(f"label {language}.{key} is not text", path)
            self.words.setdefault(language, {}).update(words)
            self.types.setdefault(language, {}).update(types)
            line = _table_line(text, language)
            if line or language not in self.tables:
                self.tables[language] = (path, line or 1)

    def missing(self, language: str) -> list[MissingLabel]:
        """The labels the reference language has and `language` lacks."""
        words, types = self._merged(language, self.words), self._merged(language, self.types)
        path, line = self.tables.get(
            language, self.tables.get(base_language(language), (self._home(), 0))
        )
        found = [k for k in self.words.get(REFERENCE, {}) if k not in words]
        folded = {_fold(k) for k in types}
        found += [f"{TYPES}.{k}" for k in self.types.get(REFERENCE, {}) if _fold(k) not in folded]
        return [MissingLabel(key, path, line or None) for key in found]

    def labels(self, language: str) -> Labels:
        """The language's labels, whole; a missing one is an error, never English instead."""
        missing = self.missing(language)
        if missing:
            first = missing[0]
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise NewsletterError(
                f"no {first.key!r} label in {language!r}{more}: add it to the theme's "
                f"[{language}] table", first.path, first.line
            )  # fmt: skip
        words, types = self._merged(language, self.words), self._merged(language, self.types)
        return Labels(language, words, types)

    def _merged(self, language: str, tables: dict[str, dict[str, str]]) -> dict[str, str]:
        """`pt-BR` takes `pt`'s words and its own over them; nothing from English."""
        base = base_language(language)
        return {**tables.get(base, {}), **(tables.get(language, {}) if language != base else {})}

    def _home(self) -> Path:
        return self.files[-1] if self.files else DEFAULT_THEME / LABELS


def _table_line(text: str, language: str) -> int | None:
    header = re.compile(rf"^\s*\[\s*\"?{re.escape(language)}\"?\s*\]")
    for number, line in enumerate(text.splitlines(), 1):
        if header.match(line):
            return number
    return None


@lru_cache(maxsize=16)
def labels_for(folders: tuple[Path, ...], language: str) -> Labels:
    """A theme's labels in one language, read once per process (as its templates are)."""
    return LabelTables.read(folders).labels(language)


def public_labels(language: str) -> Labels:
    """The public pages' words (templates/public/labels.toml) in one language."""
    return labels_for((PUBLIC_PAGES,), language)


def language_name(code: str) -> str:
    """A language as it names itself, capitalised ("Français", "Español"): how a reader finds
    their own among several, in a switcher, a choice or the tag of a story kept in it."""
    from babel import Locale, UnknownLocaleError

    if not code:
        return ""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code
