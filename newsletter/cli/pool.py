"""`newsletter items`, `topics`, `types`, `tag`, `untag` and `retag`: what the pool holds, and
its topics set by hand."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import TYPE_CHECKING

import click

from newsletter.cli import cli, pass_workspace
from newsletter.cli.common import (
    SHORT_UID,
    _console,
    _escape,
    format_option,
    item_record,
    period_options,
    print_records,
    resolve_period,
)
from newsletter.workspace import Workspace

if TYPE_CHECKING:
    from collections.abc import Sequence

    from newsletter.model import Item
    from newsletter.pool.versions import Version


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
    found = workspace.reader.select_items(query)
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
    from newsletter.ingest import topic_statuses

    found = topic_statuses(workspace.reader, workspace.config)
    if output != "table":
        records = [asdict(topic) | {"keywords": list(topic.keywords)} for topic in found]
        print_records(records, output)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("slug", "name", "items", "keywords"):
        table.add_column(column, justify="right" if column == "items" else "left")
    for topic in found:
        keywords = ", ".join(topic.keywords) if topic.in_config else "(no longer in the config)"
        table.add_row(
            Text(topic.slug), Text(topic.name), str(topic.items), Text(keywords, style="dim")
        )
    _console().print(table)


@cli.command()
@click.option("--newsletter", "newsletter_slug", help="The newsletter whose sections to show.")
@format_option
@pass_workspace
def types(workspace: Workspace, newsletter_slug: str | None, output: str) -> None:
    """List the type labels in the pool, and the section each goes to in an issue."""
    from newsletter.draft import newsletter_for, type_sections

    newsletter = newsletter_for(workspace.config, newsletter_slug)
    found = type_sections(workspace.reader, newsletter)
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


@cli.command()
@click.argument("uid")
@click.argument("topic_slugs", metavar="TOPIC...", nargs=-1, required=True)
@pass_workspace
def tag(workspace: Workspace, uid: str, topic_slugs: tuple[str, ...]) -> None:
    """Tag an item with topics by hand (kept by `retag`)."""
    _print_topics(workspace.pool.tag(uid, workspace.config.check_topics(topic_slugs)))


@cli.command()
@click.argument("uid")
@click.argument("topic_slugs", metavar="TOPIC...", nargs=-1, required=True)
@pass_workspace
def untag(workspace: Workspace, uid: str, topic_slugs: tuple[str, ...]) -> None:
    """Take topics off an item; keyword rules and sources will not add them back."""
    _print_topics(workspace.pool.untag(uid, workspace.config.check_topics(topic_slugs)))


@cli.command()
@click.argument("first", metavar="UID")
@click.argument("second", metavar="UID")
@pass_workspace
def link(workspace: Workspace, first: str, second: str) -> None:
    """Link two items as one story in two languages (a French edition takes the French one)."""
    _print_story(workspace.pool.link_versions(first, second))


@cli.command()
@click.argument("uid")
@pass_workspace
def unlink(workspace: Workspace, uid: str) -> None:
    """Take an item out of the story it tells with items in other languages."""
    left = workspace.pool.unlink_version(uid)
    if left:
        click.echo("the story's other versions:")
        _print_story(left)
    else:
        click.echo(f"{uid}: a story of its own now")


def _print_story(story: Sequence[Version]) -> None:
    out = _console()
    for version in story:
        out.print(
            f"{version.language or '--'}  {version.uid}  {_escape(version.title)}", highlight=False
        )


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


def _print_topics(item: Item) -> None:
    click.echo(f"{item.uid} {item.title}\ntopics: {', '.join(item.topics) or '(none)'}")
