"""`newsletter draft`, `validate` and `issues`: starting an issue from the pool, keeping it
fresh, checking it, and listing the issue files. (Curating a draft is in cli/curate.py.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from newsletter.cli import DefaultCommandGroup, UserError, cli, pass_workspace
from newsletter.cli.common import (
    _console,
    _escape,
    _shown_path,
    format_option,
    period_options,
    print_records,
    resolve_period,
)
from newsletter.workspace import Workspace


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
@click.option("--title", help="Instead of the newsletter's title pattern (with --language).")
@click.option("--slug", help="The file's name [default: 2020-11 for a month].")
@click.option(
    "--language", "languages", multiple=True,
    help="Only this language's edition [default: every language of the newsletter].",
)  # fmt: skip
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
    languages: tuple[str, ...],
    allow_empty: bool,
    force: bool,
) -> None:
    """Write a new issue draft from the pool's items of a month (or --from/--to), one file per
    language edition: 2020-11.toml in the main language, 2020-11.fr.toml in French..."""
    from newsletter.draft import create_editions

    first, last = resolve_period(start, end, month)
    if first is None or last is None:
        raise click.UsageError("give --month, or both --from and --to")
    made = create_editions(
        workspace.pool,
        workspace.config,
        newsletter_slug,
        first,
        last,
        languages=languages,
        topics=topics,
        title=title,
        slug=slug,
        allow_empty=allow_empty,
        force=force,
    )
    console = _console()
    for report in made.drafts:
        issue = report.issue
        console.print(f"wrote {_escape(_shown_path(report.path))}: [bold]{_escape(issue.title)}[/]")
        parts = [f"{section.title} {len(section.items)}" for section in issue.sections]
        lead = repr(issue.lead.title) if issue.lead else "none"
        kept = sum(1 for item in issue.items if item.language)
        console.print(
            _escape(
                f"{len(issue.items)} items; lead: {lead}"
                + (f"; {', '.join(parts)}" if parts else "")
                + (f"; {kept} not in {issue.language}, marked with their language" if kept else "")
            )
        )
    for language in made.empty:
        console.print(
            f"no items in {language}: its edition was not written (--language {language} "
            "--allow-empty writes it)"
        )
    for earlier in made.drafts[0].earlier_issues if made.drafts else ():
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
    for problem in report.unread:
        _console(stderr=True).print(
            f"[yellow]warning:[/] {_escape(problem)} (its stories are not offered to this edition)"
        )
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
    others = [p for p in report.editions if p != report.path]
    if report.added and others:
        names = " and ".join(f"{p.parent.name}/{p.stem}" for p in others)
        console.print(f"refresh {_escape(names)} to offer them these stories in their language")


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
    from newsletter.draft import validate_issue
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    checked = validate_issue(workspace.pool, workspace.config, path)
    console, err = _console(), _console(stderr=True)
    for finding in checked.findings:
        colour = "red" if finding.severity == "error" else "yellow"
        where = f"{_shown_path(path)}:{finding.line}" if finding.line else _shown_path(path)
        err.print(f"[{colour}]{_escape(f'{where}: {finding.severity}: {finding.message}')}[/]")
    if not checked.uids_checked:
        err.print("[yellow]the pool is empty: uids not checked (newsletter ingest --all)[/]")
    issue, findings = checked.issue, checked.findings
    if issue is None:
        errors = sum(finding.severity == "error" for finding in findings)
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
    from newsletter.issue.summary import list_issues

    records: list[dict[str, Any]] = [
        {
            "issue": issue.name,
            "language": issue.language,
            "status": issue.status,
            "start": issue.start.isoformat() if issue.start else "",
            "end": issue.end.isoformat() if issue.end else "",
            "items": issue.items,
            "title": issue.title,
            "path": _shown_path(issue.path),
        }
        for issue in list_issues(workspace.config, newsletter_slug)
    ]
    if output != "table":
        print_records(records, output)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    editions = len({record["language"] for record in records}) > 1  # else the column says nothing
    for column in ("issue", *(("lang",) if editions else ()), "status", "period", "items", "title"):
        table.add_column(column, justify="right" if column == "items" else "left",
                         no_wrap=column in ("issue", "period"))  # fmt: skip
    for record in records:
        table.add_row(
            Text(record["issue"]),
            *((Text(record["language"]),) if editions else ()),
            Text(record["status"], style="red" if record["status"] == "invalid" else ""),
            _period_shown(record["start"], record["end"]),
            str(record["items"]),
            Text(record["title"]),
        )
    console = _console()
    console.print(table)
    console.print(f"[dim]{len(records)} issue{'' if len(records) == 1 else 's'}[/]")


def _period_shown(start: str, end: str) -> str:
    """`2020-11` for a calendar month (as `--month` takes it), else `<start> to <end>`."""
    from newsletter.draft import default_slug

    if not start:
        return ""
    month = default_slug(date.fromisoformat(start), date.fromisoformat(end))
    return month if "--" not in month else f"{start} to {end}"
