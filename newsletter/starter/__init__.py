"""`newsletter init`: a new workspace that works at once: a commented newsletter.toml, an
example source dated last month, the issues/ folder, and (on request) a copy of the default
theme to edit."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from string import Template

from newsletter.errors import NewsletterError
from newsletter.files import write_atomically
from newsletter.headers import HeaderKind, header_problem
from newsletter.render.theme import DEFAULT_THEME

_HERE = Path(__file__).resolve().parent
_ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Started:
    """What `init` wrote, and what to type next."""

    folder: Path
    written: tuple[Path, ...]
    newsletter: str  # the newsletter's slug
    month: str  # the example items' month, YYYY-MM

    @property
    def next_commands(self) -> tuple[str, ...]:
        issue = f"{self.newsletter}/{self.month}"
        return (
            "newsletter ingest --all",
            f"newsletter draft {self.newsletter} --month {self.month}",
            f"newsletter preview {issue}",
        )


def slug_for(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    return slug or "newsletter"


def start_workspace(folder: Path, *, name: str, today: date, theme: bool = False) -> Started:
    """Write a new workspace into `folder` (made if missing); refuses one that has a
    newsletter.toml already, and writes nothing then."""
    problem = header_problem(name, HeaderKind.NAME)
    if problem is not None or '"' in name or "\\" in name:
        raise NewsletterError(f"--name: {problem or 'no quotes or backslashes'}")
    config = folder / "newsletter.toml"
    if config.exists():
        raise NewsletterError("a workspace already: nothing written", config)
    if theme and (folder / "theme").exists():
        raise NewsletterError("exists already: the theme was not copied", folder / "theme")
    slug = slug_for(name)
    last_month = today.replace(day=1) - timedelta(days=1)
    days = {
        f"day_{day}": f"{day} {_ENGLISH_MONTHS[last_month.month - 1]} {last_month.year}"
        for day in (3, 9, 17, 24)
    }
    theme_line = 'templates = "theme"   # your copy of the default theme, searched first'
    if not theme:
        theme_line = f"# {theme_line}  (`newsletter init --theme`)"
    files = {
        config: _fill("newsletter.toml.tmpl", name=name, slug=slug, theme_line=theme_line),
        folder / "sources" / "example-listing.txt": _fill("example-listing.txt.tmpl", **days),
    }
    written: list[Path] = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text)
        written.append(path)
    (folder / "issues").mkdir(exist_ok=True)
    written.append(folder / "issues")
    if theme:
        shutil.copytree(DEFAULT_THEME, folder / "theme")
        written.append(folder / "theme")
    return Started(folder, tuple(written), slug, f"{last_month:%Y-%m}")


def _fill(template: str, **values: str) -> str:
    return Template((_HERE / template).read_text(encoding="utf-8")).substitute(values)
