"""`newsletter ingest`, `sources` and `dupes`: reading sources into the pool, how each source
fares, and the near-duplicates to review."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from newsletter.cli import UserError, cli, pass_workspace
from newsletter.cli.common import (
    SHORT_UID,
    _console,
    _escape,
    _shown_path,
    file_size,
    format_option,
    item_record,
    print_records,
    print_warnings,
    progress_bar,
)
from newsletter.formats import FORMATS
from newsletter.workspace import Workspace

if TYPE_CHECKING:
    from rich.console import Console

    from newsletter.config import SourceConfig
    from newsletter.ingest import IngestReport, IngestResult, SourceStatus

PROGRESS_BAR_FROM = 4 * 1024 * 1024  # bytes: smaller files ingest too fast to need one


@cli.command()
@click.argument("locations", nargs=-1, metavar="[FILE|URL]...")
@click.option("--all", "every_source", is_flag=True, help="Ingest every source in the config.")
@click.option("--source", "source_name", help="The configured source these come from.")
@click.option(
    "--format",
    "source_format",
    type=click.Choice(FORMATS),
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
    from newsletter.ingest import IngestOptions, ingest_jobs, ingest_sources

    if every_source and source_name:
        raise click.UsageError("--source names the source of FILES; --all reads every source")
    config = workspace.config
    options = IngestOptions(topics, language, source_format, refetch, strict, allow_private)
    options.check(config)
    jobs = ingest_jobs(config, locations, source_name, every_source)
    if not jobs:
        raise click.UsageError("give files or URLs to ingest, or --all")
    out, err = _console(), _console(stderr=True)

    def bar(source: SourceConfig) -> progress_bar:
        size = file_size(source.path)
        label = source.path.name if source.path else ""
        return progress_bar(err, "bytes", label, total=size, show=size >= PROGRESS_BAR_FROM)

    ingest_sources(
        workspace.pool, config, jobs, options, progress=bar,
        on_result=lambda result: _print_result(result, out, err),
    )  # fmt: skip


def _print_result(result: IngestResult, out: Console, err: Console) -> None:
    if result.report is None:
        err.print(f"[red]error:[/] {_escape(str(result.error))} [dim](nothing stored)[/]")
        return
    print_warnings(err, result.report.notices)
    out.print(_ingest_line(result.report))


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


@cli.command()
@click.option("--check", is_flag=True, help="Exit with status 1 if a source's last read failed.")
@format_option
@pass_workspace
def sources(workspace: Workspace, check: bool, output: str) -> None:
    """Show each source's health: its last read, how it went, its items, its last error."""
    from newsletter.ingest import failing_sources, source_statuses

    statuses = source_statuses(workspace.pool, workspace.config)
    records = [_status_record(status) for status in statuses]
    if output != "table":
        print_records(records, output)
    else:
        _print_sources(records)
    failing = failing_sources(statuses)
    if check and failing:
        raise UserError(f"last read failed: {', '.join(failing)}")


def _status_record(status: SourceStatus) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(status) | {"last_read": _when(status.last_read),
                             "last_stored": _when(status.last_stored)}  # fmt: skip


def _print_sources(records: list[dict[str, Any]]) -> None:
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
