"""What the commands share: options, period parsing, and printing (consoles, JSON and CSV
records, the one progress bar). Nothing heavy is imported before a command needs it."""

from __future__ import annotations

import calendar
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from newsletter.errors import NewsletterError
from newsletter.files import shown_path

if TYPE_CHECKING:
    from rich.console import Console

    from newsletter.model import Item

F = TypeVar("F", bound=Callable[..., Any])
SHORT_UID = 10

_shown_path = shown_path  # the name the command modules have always used


def _console(stderr: bool = False) -> Console:
    import os

    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 120  # a file or a pipe: wide enough that titles stay readable
    return console


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# Shared options


class MonthType(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    name = "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            first = datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            self.fail(f"{value!r} is not a month like 2020-11", param, ctx)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return first, last


def period_options(function: F) -> F:
    day = click.DateTime(formats=["%Y-%m-%d"])
    function = click.option("--month", type=MonthType(), help="Items of one month.")(function)
    function = click.option("--to", "end", type=day, help="Items up to this day (YYYY-MM-DD).")(
        function
    )
    return click.option("--from", "start", type=day, help="Items from this day on (YYYY-MM-DD).")(
        function
    )


def resolve_period(
    start: datetime | None, end: datetime | None, month: tuple[date, date] | None
) -> tuple[date | None, date | None]:
    if month and (start or end):
        raise click.UsageError("give --month, or --from/--to, not both")
    if month:
        _check_dates(("--month", month[0]), ("--month", month[1]))
        return month
    first, last = (start.date() if start else None), (end.date() if end else None)
    _check_dates(("--from", first), ("--to", last))
    if first and last and last < first:
        raise click.UsageError(f"--to {last} is before --from {first}")
    return first, last


def _check_dates(*given: tuple[str, date | None]) -> None:
    """A NewsletterError for the first date outside the dates newsletter works with."""
    from newsletter.model import date_problem

    for option, day in given:
        problem = date_problem(day) if day else None
        if problem:
            raise NewsletterError(f"{option}: {problem}")


def format_option(function: F) -> F:
    return click.option(
        "--format",
        "output",
        type=click.Choice(["table", "json", "csv"]),
        default="table",
        show_default=True,
        help="How to print the result.",
    )(function)


# Printing


def print_records(records: Sequence[dict[str, Any]], output: str) -> None:
    """JSON or CSV of plain records, for scripts."""
    if output == "json":
        import json

        click.echo(json.dumps(list(records), ensure_ascii=False, indent=2, default=str))
        return
    import csv

    def cell(value: Any) -> Any:
        return spreadsheet_safe(";".join(value) if isinstance(value, list) else value)

    writer = csv.writer(sys.stdout, lineterminator="\n")
    if records:
        writer.writerow(records[0].keys())
    for record in records:
        writer.writerow(cell(value) for value in record.values())


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell: a text a spreadsheet would run as a formula (=HYPERLINK(...)) is written as
    text with a leading "'", as OWASP advises against CSV injection (JSON is left as it is)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def item_record(item: Item) -> dict[str, Any]:
    return {
        "uid": item.uid,
        "date": item.date.isoformat(),
        "type": item.type,
        "title": item.title,
        "summary": item.summary,
        "url": item.url,
        "language": item.language,
        "image": item.image,
        "topics": list(item.topics),
        "sources": list(item.sources),
        "first_seen": item.first_seen.isoformat() if item.first_seen else None,
        "updated": item.updated.isoformat() if item.updated else None,
    }


def print_warnings(console: Console, notices: Sequence[object]) -> None:
    for notice in notices:
        console.print(f"[yellow]warning:[/] {_escape(str(notice))}")


class progress_bar:  # named as a function: `with progress_bar(...) as update:`
    """The one progress bar: transient, on a terminal only, of bytes (a file being read),
    messages (a send) or pages (a build). The `with` gives `update(done, total=None)`, or None
    where no bar is shown."""

    def __init__(
        self,
        console: Console,
        unit: Literal["bytes", "messages", "pages"],
        label: str,
        total: int | None = None,
        show: bool = True,
    ):
        self.bar = None
        if show and console.is_terminal:
            from rich.progress import Progress

            self.bar = Progress(*_columns(unit, label), console=console, transient=True)
            self.task = self.bar.add_task(label, total=total)

    def __enter__(self) -> Callable[..., None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        bar, task = self.bar, self.task

        def update(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total)

        return update

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _columns(unit: str, label: str) -> list[Any]:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.1f} msg/s" if speed else "", style="dim")

    if unit == "bytes":
        columns = [DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
        return ["{task.description}", BarColumn(), *columns]
    if unit == "messages":
        columns = [MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
        return [TextColumn(label), BarColumn(), *columns]
    return [TextColumn(label), BarColumn(), MofNCompleteColumn()]


def file_size(path: Path | None) -> int:
    """The size of a file to read, 0 for none (a URL)."""
    return path.stat().st_size if path is not None and path.is_file() else 0
