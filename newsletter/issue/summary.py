"""The issue files at a glance: what `newsletter issues` lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.issue import check_issue, issue_files


@dataclass(frozen=True, slots=True)
class IssueSummary:
    """One issue file; an invalid one says its first error where its title would be."""

    name: str  # newsletter/slug
    status: str  # draft | published | invalid
    start: date | None
    end: date | None
    items: int
    title: str
    path: Path
    language: str = ""


def list_issues(config: Config, newsletter: str | None = None) -> list[IssueSummary]:
    """Every issue file (of one newsletter, if given), by newsletter then slug."""
    return [
        _summary(path, config)
        for path in issue_files(config)
        if not newsletter or path.parent.name == newsletter
    ]


def _summary(path: Path, config: Config) -> IssueSummary:
    try:
        issue, findings = check_issue(path, config)
    except NewsletterError as error:  # a file tomllib cannot read: one row, as it says
        issue, problem = None, _on_line(error.line, error.message)
    else:
        first = next((f for f in findings if f.severity == "error"), None)
        problem = _on_line(first.line, first.message) if first else ""
    name = f"{path.parent.name}/{path.stem}"
    if issue is None:
        return IssueSummary(name, "invalid", None, None, 0, problem, path)
    return IssueSummary(
        name,
        issue.status,
        issue.start,
        issue.end,
        len(issue.items),
        issue.title,
        path,
        issue.language,
    )


def _on_line(line: int | None, message: str) -> str:
    return f"line {line}: {message}" if line else message
