"""Themes: Jinja environments over template folders, with their labels; errors name a line."""

from __future__ import annotations

import hashlib
import re
import traceback
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from newsletter.errors import NewsletterError
from newsletter.labels import DEFAULT_THEME, Labels, LabelTables

__all__ = ["DEFAULT_THEME", "Labels", "Theme", "load_theme", "theme_folders"]


_JINJA_CONSTRUCT = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")


def _autoescape(name: str | None) -> bool:
    # Markup templates escape every value; the text part and CSS partials take them as they are.
    return name is not None and name.endswith((".mjml.j2", ".html.j2", ".xml.j2"))


class Theme:
    """Templates looked up in `folders` in order (a newsletter's own theme, then the default)."""

    def __init__(self, folders: Sequence[Path], bytecode_cache: Path | None = None):
        self.folders = tuple(folders)
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(folder) for folder in self.folders]),
            # Compiled templates kept between runs (the archive builds in a fresh process).
            bytecode_cache=jinja2.FileSystemBytecodeCache(str(bytecode_cache))
            if bytecode_cache
            else None,
            autoescape=_autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.environment.filters["wordwrap"] = wordwrap
        self.labels = LabelTables.read(self.folders)
        self._languages: dict[str, Labels] = {}  # an archive asks once per page

    def labels_for(self, language: str) -> Labels:
        """The theme's words in `language`: all of them, or a NewsletterError naming the
        first one missing (never English in their place)."""
        if language not in self._languages:
            self._languages[language] = self.labels.labels(language)
        return self._languages[language]

    def render(self, name: str, context: dict[str, Any]) -> str:
        """Render one template; any error becomes a NewsletterError at the template's line."""
        try:
            return self.environment.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as error:
            raise NewsletterError(
                f"template error: {error.message}", error.filename or error.name, error.lineno
            ) from None
        except jinja2.TemplateNotFound as error:
            folders = ", ".join(str(folder) for folder in self.folders)
            raise NewsletterError(f"no template {error.name} in {folders}") from None
        except Exception as error:  # an undefined name, a filter failing on a value...
            path, line = _template_frame(error)
            raise NewsletterError(f"template error: {error}", path, line) from None

    def digest(self) -> str:
        """Of every file of the theme (templates, labels, assets): any change shows in it."""
        found = hashlib.sha256()
        for folder in self.folders:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                found.update(str(path.relative_to(folder)).encode() + b"\x00")
                found.update(path.read_bytes())
        return found.hexdigest()

    def archive_assets(self) -> dict[str, bytes]:
        """The archive's static files (archive/static/), a theme's own over the default's."""
        assets: dict[str, bytes] = {}
        for folder in reversed(self.folders):
            static = folder / "archive" / "static"
            if static.is_dir():
                for path in sorted(p for p in static.iterdir() if p.is_file()):
                    assets[path.name] = path.read_bytes()
        return dict(sorted(assets.items()))

    def source_lines(self) -> list[tuple[Path, int, str]]:
        """Every line of every template of the theme, for mapping compiled output back."""
        lines = []
        for folder in self.folders:
            for path in sorted(folder.rglob("*.j2")):
                text = path.read_text(encoding="utf-8")
                lines += [(path, n, line) for n, line in enumerate(text.splitlines(), 1)]
        return lines

    def locate(self, output_line: str) -> tuple[Path, int] | None:
        """The template line most likely to have produced `output_line`, if any stands out.

        A template line's literal parts (without its Jinja constructs) must all appear in the
        output line, in order; the line with the most literal text wins.
        """
        best: tuple[int, Path, int] | None = None
        for path, number, line in self.source_lines():
            parts = [part.strip() for part in _JINJA_CONSTRUCT.split(line) if part.strip()]
            position, found = 0, 0
            for part in parts:
                at = output_line.find(part, position)
                if at < 0:
                    break
                position, found = at + len(part), found + len(part)
            else:
                if found >= 4 and (best is None or found > best[0]):
                    best = (found, path, number)
        return (best[1], best[2]) if best else None


@jinja2.pass_environment
def wordwrap(
    environment: jinja2.Environment,
    text: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    """Jinja's `wordwrap`, without textwrap's cost (a third of the text part) where a plain
    greedy fill gives the same lines: single-spaced text, words neither broken nor split at
    hyphens. tests/render/test_wordwrap.py holds the two to the same output."""
    from jinja2.filters import do_wordwrap

    if break_long_words or break_on_hyphens or " ".join(text.split()) != text:
        return do_wordwrap(environment, text, width, break_long_words, wrapstring, break_on_hyphens)
    if len(text) <= width:
        return text  # most lines of a text part: a title, a date, a label
    return (wrapstring or environment.newline_sequence).join(greedy_fill(text, width))


def greedy_fill(text: str, width: int) -> list[str]:
    """Words on lines of at most `width` columns; a longer word alone on its line."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def _template_frame(error: BaseException) -> tuple[str | None, int | None]:
    """The innermost template line in an error's traceback (Jinja maps frames to templates)."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".j2"):
            return frame.filename, frame.lineno
    return None, None


@lru_cache(maxsize=16)
def load_theme(folders: tuple[Path, ...]) -> Theme:
    """A theme, kept for the life of the process (templates are compiled once)."""
    return Theme(folders)


def theme_folders(own: Path | None) -> tuple[Path, ...]:
    return (own, DEFAULT_THEME) if own else (DEFAULT_THEME,)
