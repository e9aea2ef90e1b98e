"""The `newsletter` command: parse arguments, call one library function, print the result.

Heavy modules (SQLAlchemy, Babel, rich) are imported inside the commands that need them, so
that `newsletter --help` answers at once.
"""

from __future__ import annotations

import calendar
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from newsletter import __version__
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from rich.console import Console

    from newsletter.config import Config
    from newsletter.ingest import IngestReport
    from newsletter.issue import Issue
    from newsletter.model import Item
    from newsletter.pool import Pool

F = TypeVar("F", bound=Callable[..., Any])
PROGRESS_BAR_FROM = 4 * 1024 * 1024  # bytes: smaller files ingest too fast to need one
SHORT_UID = 10


class UserError(click.ClickException):
    """A NewsletterError on its way to the terminal: one line, exit status 1."""

    exit_code = 1


class NewsletterGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as error:
            if isinstance(error.path, Path):  # as short as the paths the commands print
                error = NewsletterError(error.message, Path(_shown_path(error.path)), error.line)
            raise UserError(str(error)) from None
        except OSError as error:  # the disk or a file said no: say which, in one line
            where = f"{error.filename}: " if error.filename else ""
            raise UserError(f"{where}{error.strerror or error}") from None
        except Exception as error:
            message = _database_failure(error)
            if message is None:
                raise  # a bug: the traceback is for us
            raise UserError(message) from None


def _database_failure(error: Exception) -> str | None:
    """One line for a failure the database reported (a locked, read-only or foreign file)."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return None
    reason = (str(error.orig).strip().splitlines() or ["unknown"])[0]
    hint = " (is another newsletter command writing to it?)" if "locked" in reason else ""
    return f"database error: {reason}{hint}"


class Workspace:
    """What the commands share: the config and the pool, each opened on first use."""

    def __init__(self, config_path: Path | None):
        self.config_path = config_path
        self._pool: Pool | None = None

    @cached_property
    def config(self) -> Config:
        from newsletter.config import load_config

        return load_config(self.config_path)

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            from newsletter.pool import Pool

            topics = {slug: topic.name for slug, topic in self.config.topics.items()}
            self._pool = Pool.open(self.config.database_url, topics)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


pass_workspace = click.make_pass_decorator(Workspace)


def _console(stderr: bool = False) -> Console:
    import os

    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 120  # a file or a pipe: wide enough that titles stay readable
    return console


@click.group(cls=NewsletterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="NEWSLETTER_CONFIG",
    help="The newsletter.toml to use [default: found in the working folder or above].",
)
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Build an organisation's email newsletter from the items it publishes.

    \b
    The flow:  ingest -> pool -> select -> draft -> render -> export / archive
    Start with `newsletter ingest --all`, then `newsletter items --month 2020-11`.
    """
    workspace = Workspace(config_path)
    ctx.obj = workspace
    ctx.call_on_close(workspace.close)


def main() -> None:
    cli(prog_name="newsletter")


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


def print_records(records: Sequence[dict[str, Any]], output: str) -> None:
    """JSON or CSV of plain records, for scripts."""
    if output == "json":
        import json

        click.echo(json.dumps(list(records), ensure_ascii=False, indent=2, default=str))
        return
    import csv

    def cell(value: Any) -> Any:
        if isinstance(value, list):
            value = ";".join(value)
        # A text a spreadsheet would run as a formula (=HYPERLINK(...)) is written as text
        # with a leading "'", as OWASP advises against CSV injection; JSON is left as it is.
        if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
            return "'" + value
        return value

    writer = csv.writer(sys.stdout, lineterminator="\n")
    if records:
        writer.writerow(records[0].keys())
    for record in records:
        writer.writerow(cell(value) for value in record.values())


# Commands: init


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--name", default="Our newsletter", show_default=True, help="The newsletter's name.")
@click.option("--theme", is_flag=True, help="Also copy the default theme into theme/ to edit.")
def init(folder: Path, name: str, theme: bool) -> None:
    """Start a workspace in FOLDER: a commented newsletter.toml, an example source and issues/.

    Nothing is asked and nothing is overwritten: a folder with a newsletter.toml is refused.
    """
    from newsletter.starter import start_workspace

    started = start_workspace(folder, name=name, today=date.today(), theme=theme)
    for path in started.written:
        click.echo(f"wrote {path}{'/' if path.is_dir() else ''}")
    hop = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder}\n"
    steps = "\n".join(f"  {command}" for command in started.next_commands)
    click.echo(f"\nNext:\n{'  ' + hop if hop else ''}{steps}")


# Commands: ingest


@cli.command()
@click.argument("locations", nargs=-1, metavar="[FILE|URL]...")
@click.option("--all", "every_source", is_flag=True, help="Ingest every source in the config.")
@click.option("--source", "source_name", help="The configured source these come from.")
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["listing", "feed", "html", "csv", "json"]),
    help="Read as this format [default: the source's, else told from the content].",
)
@click.option("--topic", "topics", multiple=True, help="Also tag every item with this topic.")
@click.option(
    "--lang",
    "language",
    help="Language of the items (default: the source's, or the language of each date).",
)
@click.option(
    "--refetch", is_flag=True, help="Fetch URLs whole, even if unchanged since the last fetch."
)
@click.option(
    "--strict", is_flag=True, help="Refuse a file at its first entry that cannot be read."
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Let URLs reach loopback, private and link-local addresses (an intranet server).",
)
@pass_workspace
def ingest(
    workspace: Workspace,
    locations: tuple[str, ...],
    every_source: bool,
    source_name: str | None,
    source_format: str | None,
    topics: tuple[str, ...],
    language: str | None,
    refetch: bool,
    strict: bool,
    allow_private: bool,
) -> None:
    """Read sources into the item pool: files, URLs, or every configured source.

    Listing pages saved as text, RSS/Atom feeds, HTML listing pages (with the source's CSS
    selectors), CSV and JSON; the format is told from the content. URLs are fetched politely,
    only when changed, and never from this machine or its local network unless the source says
    allow_private = true (or --allow-private). Each file or page is stored in one transaction:
    its entries that cannot be read are skipped with a warning (--strict: the file is refused
    instead), and a file that is not what it claims stores nothing. An item the pool has (by
    URL, or by type, title and date) is stored once, and one that another source already told
    with a near-identical title and date is merged into it.
    """
    from newsletter.config import SourceConfig
    from newsletter.ingest import IngestOptions, ingest_source, is_url, source_for, source_for_url

    if every_source and source_name:
        raise click.UsageError("--source names the source of FILES; --all reads every source")
    config = workspace.config
    options = IngestOptions(topics, language, source_format, refetch, strict, allow_private)
    options.check(config)
    jobs: list[SourceConfig] = []
    for location in locations:
        if is_url(location):
            jobs.append(source_for_url(config, location, source_name))
            jobs[-1] = _at(jobs[-1], url=location)
        else:
            path = Path(location)
            jobs.append(_at(source_for(config, path, source_name), path=path))
    if every_source:
        jobs += config.sources.values()
    if not jobs:
        raise click.UsageError("give files or URLs to ingest, or --all")
    pool = workspace.pool
    out, err = _console(), _console(stderr=True)
    failed = 0
    for source in jobs:
        try:
            with _progress(source.path, err) as on_progress:
                report = ingest_source(pool, config, source, options, on_progress=on_progress)
        except NewsletterError as error:
            if len(jobs) == 1:
                message = f"{error.message} (nothing stored)"
                raise NewsletterError(message, error.path, error.line) from None
            failed += 1
            err.print(f"[red]error:[/] {_escape(str(error))} [dim](nothing stored)[/]")
            continue
        except Exception as error:
            # One source the database refuses (or a bug in one reader) must not keep the
            # others from being read: say which, in one line, and go on.
            if len(jobs) == 1:
                raise
            failed += 1
            problem = _database_failure(error) or f"{type(error).__name__}: {error}"
            where = source.url or str(source.path)
            err.print(f"[red]error:[/] {_escape(where)}: {_escape(problem.splitlines()[0])} "
                      "[dim](nothing stored)[/]")  # fmt: skip
            continue
        for notice in report.notices:
            err.print(f"[yellow]warning:[/] {_escape(str(notice))}")
        out.print(_ingest_line(report))
    pool.optimise()
    if failed:
        raise UserError(f"{failed} of {len(jobs)} sources failed; the others were stored")


def _at(source: Any, **where: Any) -> Any:
    """The source, read from this path or URL (and not from the other)."""
    from dataclasses import replace

    return replace(source, **({"path": None, "url": None} | where))


def _ingest_line(report: IngestReport) -> str:
    where = report.location
    shown = _escape(_shown_path(where) if isinstance(where, Path) else where)
    if report.not_modified:
        return f"{shown} [dim]({_escape(report.source)})[/]: not modified since the last fetch"
    head = f"{shown} [dim]({_escape(report.source)}, {report.format})[/]: "
    counts = report.counts
    plural = "" if report.duplicates == 1 else "s"
    read = report.entries + report.skipped
    line = (
        f"{head}{read} {'entry' if read == 1 else 'entries'}: "
        f"[bold green]{counts.new} new[/], "
        f"[bold]{counts.updated} updated[/], {counts.unchanged} unchanged, "
        f"{report.duplicates} duplicate{plural}"
    )
    if report.skipped:
        line += f", [yellow]{report.skipped} skipped[/] (see the warnings)"
    if counts.merged:
        line += f", {counts.merged} merged into items of other sources"
    if counts.listed:
        line += (
            f", [yellow]{counts.listed} possible duplicate{'s' if counts.listed != 1 else ''}[/]"
        )
        line += " (newsletter dupes)"
    return line


class _progress:
    """A byte progress bar on the terminal for big files; a no-op otherwise."""

    def __init__(self, path: Path | None, console: Console):
        size = path.stat().st_size if path is not None and path.is_file() else 0
        self.bar = None
        if size >= PROGRESS_BAR_FROM and console.is_terminal:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.bar = Progress(
                "{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task(path.name if path else "", total=size)

    def __enter__(self) -> Callable[[int], None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        bar, task = self.bar, self.task
        return lambda done: bar.update(task, completed=done)

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


# Commands: the pool


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


@cli.command()
@period_options
@click.option("--topic", "topics", multiple=True, help="Items with any of these topics.")
@click.option("--type", "types", multiple=True, help="Items of any of these types (e.g. News).")
@click.option("--search", help="Items whose title or summary contains this text.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many items.")
@format_option
@pass_workspace
def items(
    workspace: Workspace,
    start: datetime | None,
    end: datetime | None,
    month: tuple[date, date] | None,
    topics: tuple[str, ...],
    types: tuple[str, ...],
    search: str | None,
    limit: int | None,
    output: str,
) -> None:
    """List pool items, newest first."""
    from newsletter.model import ItemQuery

    first, last = resolve_period(start, end, month)
    workspace.config.check_topics(topics)
    query = ItemQuery(
        start=first,
        end=last,
        topics=topics,
        types=types,
        search=search,
        limit=limit,
        provenance=True,
    )
    found = workspace.pool.select_items(query)
    if output != "table":
        print_records([item_record(item) for item in found], output)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("uid", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("type", max_width=14)
    table.add_column("title", ratio=1)
    table.add_column("topics", max_width=25)
    for item in found:
        # A uid prefix is enough wherever a uid is asked for; the JSON and CSV carry it whole.
        table.add_row(
            Text(item.uid[:SHORT_UID], style="dim"),
            item.date.isoformat(),
            Text(item.type),
            Text(item.title),
            Text(", ".join(item.topics)),
        )
    console = _console()
    console.print(table)
    console.print(f"[dim]{len(found)} item{'' if len(found) == 1 else 's'}[/]")


@cli.command()
@format_option
@pass_workspace
def topics(workspace: Workspace, output: str) -> None:
    """List the topic taxonomy with how many items carry each topic."""
    config = workspace.config
    summaries = workspace.pool.topic_summaries()
    if output != "table":
        print_records(
            [
                {
                    "slug": summary.slug,
                    "name": summary.name,
                    "items": summary.items,
                    "keywords": list(config.topics[summary.slug].keywords)
                    if summary.slug in config.topics
                    else [],
                    "in_config": summary.slug in config.topics,
                }
                for summary in summaries
            ],
            output,
        )
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("slug", "name", "items", "keywords"):
        table.add_column(column, justify="right" if column == "items" else "left")
    for summary in summaries:
        topic = config.topics.get(summary.slug)
        keywords = ", ".join(topic.keywords) if topic else "(no longer in the config)"
        table.add_row(
            Text(summary.slug), Text(summary.name), str(summary.items), Text(keywords, style="dim")
        )
    _console().print(table)


@cli.command()
@click.option("--newsletter", "newsletter_slug", help="The newsletter whose sections to show.")
@format_option
@pass_workspace
def types(workspace: Workspace, newsletter_slug: str | None, output: str) -> None:
    """List the type labels in the pool, and the section each goes to in an issue."""
    from newsletter.draft import type_sections

    newsletter = _one_newsletter(workspace.config, newsletter_slug)
    found = type_sections(workspace.pool, newsletter)
    records = [
        {"type": t.type, "items": t.items, "section": t.section, "configured": t.configured}
        for t in found
    ]
    if output != "table":
        print_records(records, output)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("type")
    table.add_column("items", justify="right")
    table.add_column(f"section in {newsletter.slug}")
    for entry in found:
        where = Text(entry.section)
        if not entry.configured:
            where = Text(f"{entry.section} (no section takes it)", style="yellow")
        table.add_row(Text(entry.type), str(entry.items), where)
    _console().print(table)


def _one_newsletter(config: Config, slug: str | None) -> Any:
    if slug is None:
        if len(config.newsletters) != 1:
            known = ", ".join(sorted(config.newsletters)) or "none configured"
            raise NewsletterError(f"give --newsletter (newsletters: {known})")
        return next(iter(config.newsletters.values()))
    if slug not in config.newsletters:
        known = ", ".join(sorted(config.newsletters)) or "none configured"
        raise NewsletterError(f"unknown newsletter {slug!r} (newsletters: {known})")
    return config.newsletters[slug]


@cli.command()
@click.argument("uid")
@click.argument("topic_slugs", metavar="TOPIC...", nargs=-1, required=True)
@pass_workspace
def tag(workspace: Workspace, uid: str, topic_slugs: tuple[str, ...]) -> None:
    """Tag an item with topics by hand (kept by `retag`)."""
    item = workspace.pool.tag(uid, workspace.config.check_topics(topic_slugs))
    click.echo(f"{item.uid} {item.title}\ntopics: {', '.join(item.topics) or '(none)'}")


@cli.command()
@click.argument("uid")
@click.argument("topic_slugs", metavar="TOPIC...", nargs=-1, required=True)
@pass_workspace
def untag(workspace: Workspace, uid: str, topic_slugs: tuple[str, ...]) -> None:
    """Take topics off an item; keyword rules and sources will not add them back."""
    item = workspace.pool.untag(uid, workspace.config.check_topics(topic_slugs))
    click.echo(f"{item.uid} {item.title}\ntopics: {', '.join(item.topics) or '(none)'}")


@cli.command()
@pass_workspace
def retag(workspace: Workspace) -> None:
    """Re-apply the taxonomy's keyword rules and the sources' topics to every item."""
    from newsletter.ingest import retag as retag_pool

    added, removed = retag_pool(workspace.pool, workspace.config)
    click.echo(
        f"retagged {workspace.pool.count_items()} items: {added} topic links added, "
        f"{removed} removed (manual tags kept)"
    )


@cli.command()
@click.option("--check", is_flag=True, help="Exit with status 1 if a source's last read failed.")
@format_option
@pass_workspace
def sources(workspace: Workspace, check: bool, output: str) -> None:
    """Show each source's health: its last read, how it went, its items, its last error."""
    config = workspace.config
    health = {record.name: record for record in workspace.pool.source_health()}
    names = [*config.sources, *sorted(set(health) - set(config.sources))]
    records = []
    for name in names:
        configured, record = config.sources.get(name), health.get(name)
        where = record.location if record else None
        if configured is not None:
            where = configured.url or str(configured.path)
        records.append(
            {
                "source": name,
                "format": record.format if record else configured.format if configured else "",
                "location": where,
                "last_read": _when(record.last_fetched) if record else None,
                "last_stored": _when(record.last_ingested) if record else None,
                "status": (record.status or "ok") if record else "never read",
                "items": record.items if record else 0,
                "skipped": record.skipped if record else 0,
                "last_error": record.error if record else None,
                "in_config": configured is not None,
            }
        )
    if output != "table":
        print_records(records, output)
    else:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold", pad_edge=False)
        for column in ("source", "format", "last read", "status", "items", "skipped",
                       "last error"):  # fmt: skip
            table.add_column(column, justify="right" if column in ("items", "skipped") else "left",
                             ratio=1 if column == "last error" else None)  # fmt: skip
        colours = {"ok": "green", "not modified": "green", "error": "red"}
        for row in records:
            status = str(row["status"])
            table.add_row(
                Text(str(row["source"])),
                Text(str(row["format"])),
                Text(str(row["last_read"] or "-")),
                Text(status, style=colours.get(status, "yellow")),
                str(row["items"]),
                Text(str(row["skipped"] or ""), style="yellow"),
                Text(str(row["last_error"] or ""), style="dim"),
            )
        _console().print(table)
    failing = [str(r["source"]) for r in records if r["status"] == "error"]
    if check and failing:
        raise UserError(f"last read failed: {', '.join(failing)}")


def _when(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else None


@cli.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Also the pairs kept apart.")
@format_option
@click.pass_context
def dupes(ctx: click.Context, show_all: bool, output: str) -> None:
    """List items that may tell the same story (near-duplicates from different sources).

    Merge a pair with `newsletter dupes merge KEEP OTHER`, or record that it is two stories
    with `newsletter dupes apart FIRST SECOND`. Pairs whose titles are near-identical and whose
    dates are close were merged on ingest already ([dedupe] in the config sets how near).
    """
    if ctx.invoked_subcommand is not None:
        return
    workspace = ctx.find_object(Workspace)
    assert workspace is not None
    pairs = workspace.pool.duplicate_pairs(None if show_all else "open")
    if output != "table":
        print_records(
            [
                {
                    "score": round(pair.score, 1),
                    "reason": pair.reason,
                    "status": pair.status,
                    "first": item_record(pair.first),
                    "second": item_record(pair.second),
                }
                for pair in pairs
            ]
            if output == "json"
            else [
                {
                    "score": round(pair.score, 1),
                    "reason": pair.reason,
                    "status": pair.status,
                    "first_uid": pair.first.uid,
                    "first_title": pair.first.title,
                    "second_uid": pair.second.uid,
                    "second_title": pair.second.title,
                }
                for pair in pairs
            ],
            output,
        )
        return
    console = _console()
    if not pairs:
        console.print("no possible duplicates to review")
        return
    for pair in pairs:
        console.print(
            f"[bold]{pair.score:.0f}/100[/] [dim]{_escape(pair.reason)}"
            f"{' (kept apart)' if pair.status == 'apart' else ''}[/]"
        )
        for item in (pair.first, pair.second):
            console.print(
                f"  [dim]{item.uid[:SHORT_UID]}[/] {item.date.isoformat()} "
                f"{_escape(item.type)}: {_escape(item.title)} "
                f"[dim]({_escape(', '.join(item.sources))})[/]"
            )
    console.print(
        f"[dim]{len(pairs)} pair{'' if len(pairs) == 1 else 's'}: "
        "newsletter dupes merge KEEP OTHER | newsletter dupes apart FIRST SECOND[/]"
    )


@dupes.command("merge")
@click.argument("keep")
@click.argument("other")
@pass_workspace
def dupes_merge(workspace: Workspace, keep: str, other: str) -> None:
    """Merge item OTHER into item KEEP: one item, with both items' sources and topics."""
    item = workspace.pool.merge_items(keep, other)
    _console().print(
        f"merged into {_escape(item.title)} [dim]({item.uid}; sources: "
        f"{_escape(', '.join(item.sources))})[/]"
    )


@dupes.command("apart")
@click.argument("first")
@click.argument("second")
@pass_workspace
def dupes_apart(workspace: Workspace, first: str, second: str) -> None:
    """Record that FIRST and SECOND are different stories: they are not listed again."""
    workspace.pool.keep_apart(first, second)
    click.echo(f"{first} and {second} are kept apart")


# Commands: issues


class DefaultCommandGroup(NewsletterGroup):
    """A group whose arguments go to its default command unless they name another one."""

    default_command = "new"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


class ArchiveGroup(DefaultCommandGroup):
    default_command = "build"


@cli.group(cls=DefaultCommandGroup)
def draft() -> None:
    """Start an issue from the pool (`draft NEWSLETTER --month 2020-11`), then keep it fresh.

    \b
    newsletter draft ilo-coop-enews --month 2020-11     write issues/ilo-coop-enews/2020-11.toml
    newsletter draft refresh ilo-coop-enews/2020-11     add items published since
    newsletter draft add ilo-coop-enews/2020-11 UID     add one item by hand
    """


@draft.command("new")
@click.argument("newsletter_slug", metavar="NEWSLETTER")
@period_options
@click.option("--topic", "topics", multiple=True, help="Instead of the newsletter's topics.")
@click.option("--title", help="Instead of the newsletter's title pattern.")
@click.option("--slug", help="The file's name [default: 2020-11 for a month].")
@click.option("--allow-empty", is_flag=True, help="Write the draft even if nothing matches.")
@click.option("--force", is_flag=True, help="Overwrite an existing draft (your edits are lost).")
@pass_workspace
def draft_new(
    workspace: Workspace,
    newsletter_slug: str,
    start: datetime | None,
    end: datetime | None,
    month: tuple[date, date] | None,
    topics: tuple[str, ...],
    title: str | None,
    slug: str | None,
    allow_empty: bool,
    force: bool,
) -> None:
    """Write a new issue draft from the pool's items of a month (or --from/--to)."""
    from newsletter.draft import create_draft

    first, last = resolve_period(start, end, month)
    if first is None or last is None:
        raise click.UsageError("give --month, or both --from and --to")
    report = create_draft(
        workspace.pool,
        workspace.config,
        newsletter_slug,
        first,
        last,
        topics=topics,
        title=title,
        slug=slug,
        allow_empty=allow_empty,
        force=force,
    )
    issue = report.issue
    console = _console()
    console.print(f"wrote {_escape(_shown_path(report.path))}: [bold]{_escape(issue.title)}[/]")
    parts = [f"{section.title} {len(section.items)}" for section in issue.sections]
    lead = repr(issue.lead.title) if issue.lead else "none"
    console.print(
        _escape(
            f"{len(issue.items)} items; lead: {lead}" + (f"; {', '.join(parts)}" if parts else "")
        )
    )
    for earlier in report.earlier_issues:
        console.print(
            f"[dim]left out {_escape(repr(earlier))}: an earlier issue of this newsletter[/]"
        )


@draft.command("refresh")
@click.argument("issue_name", metavar="ISSUE")
@pass_workspace
def draft_refresh(workspace: Workspace, issue_name: str) -> None:
    """Add items published since the draft was written; your edits stay as they are."""
    from newsletter.draft import refresh_draft
    from newsletter.issue import find_issue

    report = refresh_draft(
        workspace.pool, workspace.config, find_issue(workspace.config, issue_name)
    )
    console = _console()
    for section, item in report.added:
        console.print(f"added to {_escape(section)}: {_escape(item.title)} [dim]({item.uid})[/]")
    if report.newly_excluded:
        console.print(
            f"{len(report.newly_excluded)} item(s) you removed will stay out: "
            + ", ".join(report.newly_excluded)
        )
    if not report.added and not report.newly_excluded:
        console.print("nothing new since the draft was written")
    else:
        console.print(f"updated {_escape(_shown_path(report.path))} (new items say new = true)")


@draft.command("add")
@click.argument("issue_name", metavar="ISSUE")
@click.argument("uid")
@click.option("--section", help="Put it in this section [default: by its type].")
@pass_workspace
def draft_add(workspace: Workspace, issue_name: str, uid: str, section: str | None) -> None:
    """Add one pool item to a draft, by its uid."""
    from newsletter.draft import add_to_draft
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    section_title, item = add_to_draft(workspace.pool, workspace.config, path, uid, section)
    _console().print(
        f"added to {_escape(section_title)}: {_escape(item.title)} [dim]({item.uid})[/]"
    )


@cli.command()
@click.argument("issue_name", metavar="ISSUE")
@pass_workspace
def validate(workspace: Workspace, issue_name: str) -> None:
    """Check an issue file: its fields, its items, and that the pool knows them."""
    from newsletter.issue import check_issue, find_issue

    path = find_issue(workspace.config, issue_name)
    pool = workspace.pool
    empty_pool = pool.count_items() == 0
    issue, findings = check_issue(
        path, workspace.config, known_uids=None if empty_pool else pool.known_uids
    )
    console, err = _console(), _console(stderr=True)
    for finding in findings:
        colour = "red" if finding.severity == "error" else "yellow"
        where = f"{_shown_path(path)}:{finding.line}" if finding.line else _shown_path(path)
        err.print(f"[{colour}]{_escape(f'{where}: {finding.severity}: {finding.message}')}[/]")
    if empty_pool:
        err.print("[yellow]the pool is empty: uids not checked (newsletter ingest --all)[/]")
    errors = sum(finding.severity == "error" for finding in findings)
    if issue is None:
        raise UserError(f"{errors} error{'s' if errors != 1 else ''} in {_shown_path(path)}")
    warnings = len(findings)
    console.print(
        f"{_escape(_shown_path(path))}: ok, {len(issue.items)} items in "
        f"{len(issue.sections)} sections"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
    )


@cli.command("issues")
@click.option("--newsletter", "newsletter_slug", help="Only this newsletter's issues.")
@format_option
@pass_workspace
def list_issues(workspace: Workspace, newsletter_slug: str | None, output: str) -> None:
    """List issue drafts and published issues."""
    from newsletter.issue import check_issue, issue_files

    records: list[dict[str, Any]] = []
    for path in issue_files(workspace.config):
        if newsletter_slug and path.parent.name != newsletter_slug:
            continue
        try:
            issue, findings = check_issue(path, workspace.config)
        except NewsletterError as error:  # a file tomllib cannot read: one row, as it says
            issue, findings = None, []
            problem = _on_line(error.line, error.message)
        else:
            first = next((f for f in findings if f.severity == "error"), None)
            problem = _on_line(first.line, first.message) if first else ""
        records.append(
            {
                "issue": f"{path.parent.name}/{path.stem}",
                "status": issue.status if issue else "invalid",
                "start": issue.start.isoformat() if issue else "",
                "end": issue.end.isoformat() if issue else "",
                "items": len(issue.items) if issue else 0,
                "title": issue.title if issue else problem,
                "path": _shown_path(path),
            }
        )
    if output != "table":
        print_records(records, output)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("issue", "status", "period", "items", "title"):
        table.add_column(column, justify="right" if column == "items" else "left")
    for record in records:
        table.add_row(
            Text(record["issue"]),
            Text(record["status"], style="red" if record["status"] == "invalid" else ""),
            f"{record['start']} to {record['end']}" if record["start"] else "",
            str(record["items"]),
            Text(record["title"]),
        )
    console = _console()
    console.print(table)
    console.print(f"[dim]{len(records)} issue{'' if len(records) == 1 else 's'}[/]")


# Commands: rendering


def _issue_for_output(workspace: Workspace, issue_name: str) -> tuple[Path, Issue]:
    """An issue read and checked, as every stage after drafting starts."""
    from newsletter.issue import find_issue, read_issue

    path = find_issue(workspace.config, issue_name)
    return path, read_issue(path, workspace.config)


@cli.command()
@click.argument("issue_name", metavar="ISSUE")
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to write email.html and email.txt [default: build/<newsletter>/<slug>].",
)
@click.option("--keep-mjml", is_flag=True, help="Also write the MJML the HTML is compiled from.")
@pass_workspace
def render(workspace: Workspace, issue_name: str, folder: Path | None, keep_mjml: bool) -> None:
    """Render an issue to email HTML and its plain-text part."""
    from newsletter.render import render_issue, write_rendered

    _, issue = _issue_for_output(workspace, issue_name)
    email = render_issue(issue, workspace.config)
    folder = folder or workspace.config.root / "build" / issue.newsletter / issue.slug
    written = write_rendered(email, folder, keep_mjml)
    console = _console()
    for file in written:
        size = file.stat().st_size
        console.print(f"wrote {_escape(_shown_path(file))} [dim]({size:,} bytes)[/]")


@cli.command()
@click.argument("issue_name", metavar="ISSUE")
@format_option
@pass_workspace
def check(workspace: Workspace, issue_name: str, output: str) -> None:
    """Check an issue's email: size, links, images, unsubscribe, subject, preheader, text part."""
    from newsletter.issue import check_issue, find_issue
    from newsletter.render import render_issue
    from newsletter.render.checks import Check, check_email

    path = find_issue(workspace.config, issue_name)
    issue, findings = check_issue(path, workspace.config)
    shown = _shown_path(path)
    checks = [Check(f.severity, "issue", _located(shown, f.line, f.message)) for f in findings]
    size = 0
    if issue is not None:
        email = render_issue(issue, workspace.config)
        checks += check_email(issue, email)
        size = len(email.html.encode())
    errors = sum(c.severity == "error" for c in checks)
    if output == "json":
        import json

        report = {
            "issue": _shown_path(path),
            "ok": errors == 0,
            "html_bytes": size,
            "findings": [
                {"severity": c.severity, "code": c.code, "message": c.message} for c in checks
            ],
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    elif output == "csv":
        print_records(
            [{"severity": c.severity, "code": c.code, "message": c.message} for c in checks], output
        )
    else:
        console = _console()
        for c in checks:
            colour = "red" if c.severity == "error" else "yellow"
            console.print(f"[{colour}]{c.severity}[/] [dim]{c.code}:[/] {_escape(c.message)}")
        warnings = len(checks) - errors
        console.print(
            f"{_escape(_shown_path(path))}: {size:,} bytes of HTML; {errors} error"
            f"{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
        )
    if errors:
        raise SystemExit(1)


@cli.command()
@click.argument("issue_name", metavar="ISSUE")
@click.option("--port", type=click.IntRange(0, 65535), default=8025, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open it in the web browser.")
@pass_workspace
def preview(workspace: Workspace, issue_name: str, port: int, open_browser: bool) -> None:
    """Show the email at desktop and phone widths with its text part, on 127.0.0.1.

    The page reloads by itself when the issue file, the config or a template changes.
    """
    from newsletter.issue import find_issue
    from newsletter.render.preview import serve_preview

    path = find_issue(workspace.config, issue_name)

    def ready(server: Any) -> None:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        click.echo(f"previewing {_shown_path(path)} at {url} (Ctrl-C stops)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        serve_preview(path, workspace.config.path, port, on_ready=ready)
    except KeyboardInterrupt:
        click.echo("stopped")


# Commands: export and send


@cli.command("export")
@click.argument("issue_name", metavar="ISSUE")
@click.option(
    "--format",
    "export_format",
    default="eml",
    show_default=True,
    type=click.Choice(["eml", "bundle", "mailchimp", "sendgrid", "listmonk"]),
    help="A MIME file, a zip bundle, or an ESP's campaign JSON.",
)
@click.option(
    "-o",
    "--output",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The file to write [default: build/<newsletter>/<slug>/email.<format>].",
)
@pass_workspace
def export(workspace: Workspace, issue_name: str, export_format: str, path: Path | None) -> None:
    """Export an issue for sending: .eml, a bundle, or an ESP's JSON."""
    from newsletter.export import default_export_path, export_issue
    from newsletter.files import write_atomically_bytes

    _, issue = _issue_for_output(workspace, issue_name)
    data = export_issue(issue, workspace.config, export_format)
    path = path or default_export_path(workspace.config, issue, export_format)
    write_atomically_bytes(path, data)
    click.echo(f"wrote {_shown_path(path)} ({len(data):,} bytes)")


@cli.command()
@click.argument("issue_name", metavar="ISSUE")
@click.option(
    "--to",
    "proof_to",
    multiple=True,
    metavar="ADDRESS",
    help="Send a [PROOF] copy to this address (repeatable).",
)
@click.option(
    "--list",
    "subscriber_list",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Send to every subscriber in this CSV (columns: email, name).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    help="Messages per second (0: no limit) [default: from [smtp]].",
)
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option(
    "--retry-delay",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds before the first retry of a temporary failure (then doubled).",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Tries per recipient of a temporary failure, and of the server in a row before the "
    "run stops.",
)
@click.option("--retry-failed", is_flag=True, help="Try again the recipients recorded as failed.")
@pass_workspace
def send(
    workspace: Workspace,
    issue_name: str,
    proof_to: tuple[str, ...],
    subscriber_list: Path | None,
    rate: float | None,
    dry_run: bool,
    retry_delay: float,
    max_attempts: int,
    retry_failed: bool,
) -> None:
    """Send an issue over SMTP: proofs (--to), or to a subscriber list (--list).

    A list send is recorded in the send ledger: run it again after a crash or Ctrl-C and it
    goes on where it stopped; nobody gets the issue twice. Two runs at once share the list.
    """
    from newsletter.export import prepared_email
    from newsletter.export.sending import SmtpTransport, smtp_password

    if bool(proof_to) == bool(subscriber_list):
        raise click.UsageError("give --to ADDRESS (a proof) or --list FILE (the subscribers)")
    config = workspace.config
    _, issue = _issue_for_output(workspace, issue_name)
    email, newsletter = prepared_email(issue, config)
    transport = SmtpTransport(config.smtp, None if dry_run else smtp_password(config.smtp))
    if proof_to:
        _send_proofs(email, newsletter, proof_to, transport, dry_run)
        return
    assert subscriber_list is not None
    _send_to_list(
        workspace,
        issue,
        email,
        newsletter,
        subscriber_list,
        transport,
        config.smtp.rate if rate is None else rate,
        dry_run,
        retry_delay,
        max_attempts,
        retry_failed,
    )


def _send_proofs(
    email: Any, newsletter: Any, addresses: tuple[str, ...], transport: Any, dry_run: bool
) -> None:
    from email_validator import EmailNotValidError, validate_email

    from newsletter.export.sending import proof_send

    checked = []
    for address in addresses:
        try:
            checked.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError as error:
            raise NewsletterError(f"--to {address!r}: {error}") from None
    if dry_run:
        click.echo(f"would send a [PROOF] to {', '.join(checked)}")
        return
    for address, reply in proof_send(email, newsletter, checked, transport):
        click.echo(f"proof sent to {address}: {reply}")


def _send_to_list(
    workspace: Workspace,
    issue: Any,
    email: Any,
    newsletter: Any,
    path: Path,
    transport: Any,
    rate: float,
    dry_run: bool,
    retry_delay: float,
    max_attempts: int,
    retry_failed: bool,
) -> None:
    from newsletter.export.sending import SendStopped, bulk_send, signing_key
    from newsletter.export.subscribers import read_subscribers

    subscribers, problems = read_subscribers(path)
    err = _console(stderr=True)
    for problem in problems:
        err.print(f"[yellow]warning:[/] {_escape(problem.describe(path))}")
    key = None if dry_run else signing_key(newsletter)
    stopped = None
    with _send_progress(err) as on_progress:
        try:
            report = bulk_send(
                workspace.pool,
                issue,
                email,
                newsletter,
                subscribers,
                transport,
                rate=rate,
                key=key,
                dry_run=dry_run,
                retry_failed=retry_failed,
                max_attempts=max_attempts,
                retry_delay=retry_delay,
                on_progress=on_progress,
            )
        except SendStopped as error:
            report, stopped = error.report, error.message
        except KeyboardInterrupt:
            raise UserError(
                "interrupted: run the same command again to go on; nobody who "
                "has it will get it twice"
            ) from None
    verb = "would send" if dry_run else "sent"
    count = report.total if dry_run else report.sent
    retried = f", retried {report.retried}" if report.retried else ""
    click.echo(
        f"{report.issue}: {verb} {count}, already sent {report.already_sent}, suppressed "
        f"{report.suppressed}, failed {len(report.failed)}, deferred {len(report.deferred)}, "
        f"skipped from the list {len(problems)}{retried}"
    )
    for address, reply in report.failed:
        err.print(f"[red]failed:[/] {_escape(address)}: {_escape(reply)}")
    for address, reply in report.deferred:
        err.print(f"[yellow]deferred:[/] {_escape(address)}: {_escape(reply)}")
    if report.elsewhere:
        runs = ", ".join(f"process {pid} on {host}" for host, pid in report.other_runs)
        err.print(f"{report.elsewhere} left to another send run of this issue ({runs or 'ended'})")
    if stopped:
        raise UserError(f"stopped: {stopped}; nothing is lost: run the same command to go on")
    if report.failed and not report.sent and not dry_run:
        raise UserError(f"every recipient of this run failed ({len(report.failed)})")
    if report.deferred:
        raise UserError(f"{len(report.deferred)} deferred: run the same command again later")


class _send_progress:
    """A progress bar with the rate in messages a second and the time left, on a terminal."""

    def __init__(self, console: Console):
        self.bar = None
        if console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                ProgressColumn,
                Task,
                TextColumn,
                TimeRemainingColumn,
            )
            from rich.text import Text

            class RateColumn(ProgressColumn):
                def render(self, task: Task) -> Text:
                    speed = task.finished_speed or task.speed
                    return Text(f"{speed:,.1f} msg/s" if speed else "", style="dim")

            self.bar = Progress(
                TextColumn("sending"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("send", total=None)

    def __enter__(self) -> Callable[[int, int], None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        bar, task = self.bar, self.task
        return lambda done, total: bar.update(task, completed=done, total=total)

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@cli.group()
def suppress() -> None:
    """The suppression list: addresses never sent to (unsubscribed, bounced, complained)."""


@suppress.command("add")
@click.argument("addresses", nargs=-1, required=True)
@click.option(
    "--reason",
    type=click.Choice(["unsubscribed", "bounced", "complained"]),
    default="unsubscribed",
    show_default=True,
)
@pass_workspace
def suppress_add(workspace: Workspace, addresses: tuple[str, ...], reason: str) -> None:
    """Never send to these addresses again."""
    added = workspace.pool.suppress(addresses, reason)
    click.echo(f"{added} address{'es' if added != 1 else ''} added ({reason})")


@suppress.command("remove")
@click.argument("addresses", nargs=-1, required=True)
@pass_workspace
def suppress_remove(workspace: Workspace, addresses: tuple[str, ...]) -> None:
    """Send to these addresses again (they asked to be back)."""
    removed = workspace.pool.unsuppress(addresses)
    click.echo(f"{removed} address{'es' if removed != 1 else ''} removed")


@suppress.command("list")
@format_option
@pass_workspace
def suppress_list(workspace: Workspace, output: str) -> None:
    """List the suppressed addresses."""
    records = [
        {"address": a, "reason": r, "added": d.isoformat()}
        for a, r, d in workspace.pool.suppressions()
    ]
    if output != "table":
        print_records(records, output)
        return
    for record in records:
        click.echo(f"{record['address']}  {record['reason']}  {record['added'][:10]}")
    click.echo(f"{len(records)} suppressed")


# Commands: publish and archive


@cli.command()
@click.argument("issue_name", metavar="ISSUE")
@click.option("--force", is_flag=True, help="Publish changed content again, as a new version.")
@click.option(
    "--date",
    "published_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The publication date, for a back issue (YYYY-MM-DD) [default: today].",
)
@click.option("--number", type=int, help="The issue's number [default: the next one].")
@pass_workspace
def publish(
    workspace: Workspace,
    issue_name: str,
    force: bool,
    published_on: datetime | None,
    number: int | None,
) -> None:
    """Publish an issue: its number and date, and a frozen copy of what went out.

    A back issue keeps its real date with --date, and its number with --number (numbers
    follow dates: an issue dated before another has a lower number).
    """
    from newsletter.archive.publish import publish_issue
    from newsletter.issue import find_issue

    day = published_on.date() if published_on else None
    _check_dates(("--date", day))
    path = find_issue(workspace.config, issue_name)
    report = publish_issue(
        workspace.pool, workspace.config, path, force=force, today=day, number=number
    )
    err = _console(stderr=True)
    for notice in report.warnings:
        err.print(f"[yellow]warning:[/] {_escape(str(notice))}")
    for repair in report.repaired:
        click.echo(f"repaired: {repair}")
    frozen = report.frozen
    if report.unchanged:
        click.echo(
            f"{frozen.key} is published already (no. {frozen.number}, "
            f"{frozen.published}); "
            + ("its content has not changed" if report.repaired else "nothing has changed")
        )
        return
    version = f", version {frozen.version}" if frozen.version > 1 else ""
    click.echo(
        f"published {frozen.key} as no. {frozen.number} on {frozen.published}{version}: "
        f"{_shown_path(frozen.folder)}"
    )


@cli.group(cls=ArchiveGroup)
def archive() -> None:
    """Build the web archive of published issues (`archive -o site`), or serve it.

    \b
    newsletter archive -o site        build (again: only what changed is rewritten)
    newsletter archive serve site     look at it on http://127.0.0.1:8000/
    """


@archive.command("build")
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default="site",
    show_default=True,
    help="The folder of the site.",
)
@pass_workspace
def archive_build(workspace: Workspace, folder: Path) -> None:
    """Build the archive site from the published issues."""
    from newsletter.archive.build import build_archive

    err = _console(stderr=True)
    with _page_progress(err) as on_progress:
        report = build_archive(workspace.config, folder, on_progress=on_progress)
    for key in report.skipped:
        err.print(f"[yellow]warning:[/] {_escape(key)}: not a safe file name; left out")
    click.echo(
        f"built {_shown_path(folder)}: {report.pages} files, "
        f"{len(report.written)} written, {report.kept} unchanged, "
        f"{len(report.removed)} removed"
    )


@archive.command("serve")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default="site")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
def archive_serve(folder: Path, port: int) -> None:
    """Serve the built archive on 127.0.0.1."""
    from newsletter.archive.serve import serve_archive

    def ready(server: Any) -> None:
        click.echo(
            f"serving {folder} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)"
        )

    try:
        serve_archive(folder, port, on_ready=ready)
    except KeyboardInterrupt:
        click.echo("stopped")


class _page_progress:
    """A progress bar over the pages of a build, on a terminal."""

    def __init__(self, console: Console):
        self.bar = None
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("building"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("build", total=None)

    def __enter__(self) -> Callable[[int, int], None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        bar, task = self.bar, self.task
        return lambda done, total: bar.update(task, completed=done, total=total)

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@cli.group()
def db() -> None:
    """Look after the pool's database."""


@db.command()
@pass_workspace
def upgrade(workspace: Workspace) -> None:
    """Apply pending schema migrations (every command also does this on first use)."""
    from newsletter.pool import database

    engine = database.open_engine(workspace.config.database_url)
    try:
        database.check_connection(engine)
        before, after = database.upgrade(engine)
    finally:
        engine.dispose()
    where = database.display_url(workspace.config.database_url)
    if before == after:
        click.echo(f"{where}: schema already at revision {after}")
    else:
        click.echo(f"{where}: schema upgraded from {before or 'empty'} to revision {after}")


def _located(path: str, line: int | None, message: str) -> str:
    """`path:line: message`, or `path: message` where no line is known."""
    return f"{path}:{line}: {message}" if line else f"{path}: {message}"


def _on_line(line: int | None, message: str) -> str:
    return f"line {line}: {message}" if line else message


def _shown_path(path: Path) -> str:
    """A path as short as it can be: relative to the working folder when inside it."""
    try:  # absolute(), not resolve(): the archive's site is a link, named as given
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# The commands of the other modules register themselves on the groups above.
from newsletter.cli import curate  # noqa: E402,F401
