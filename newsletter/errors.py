"""The one user-facing error type, and the one type of finding (a problem at a place) that
travels with results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


def _where(path: Path | str | None, line: int | None) -> str:
    if path is None:
        return ""
    return f"{path}:{line}: " if line is not None else f"{path}: "


class NewsletterError(Exception):
    """A problem the user can act on: shown as one line `path:line: message`, exit status 1."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        return f"{_where(self.path, self.line)}{self.message}"

    def __reduce__(self) -> tuple[type[NewsletterError], tuple[str, Path | str | None, int | None]]:
        # Keeps path and line when the error crosses from a reading process to the writer.
        return (type(self), (self.message, self.path, self.line))


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem at a place, as every reader and every check reports it: what, where, how grave
    (a warning lets the work go on; an error stops it), and a short code a program can match.

    `str()` is `path:line: message`; `labelled()` puts the severity after the place."""

    message: str
    path: Path | str | None = None
    line: int | None = None
    severity: Literal["error", "warning"] = "warning"
    code: str = ""

    def __str__(self) -> str:
        return f"{_where(self.path, self.line)}{self.message}"

    def labelled(self) -> str:
        return f"{_where(self.path, self.line)}{self.severity}: {self.message}"


def database_failure(error: BaseException) -> str | None:
    """One line for a failure the database reported (a locked, read-only or foreign file)."""
    import sys

    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return None
    reason = (str(error.orig).strip().splitlines() or ["unknown"])[0]
    hint = " (is another newsletter command writing to it?)" if "locked" in reason else ""
    return f"database error: {reason}{hint}"
