"""`newsletter draft lead|move|remove|edit`: curating a draft from the command line. Each
command finds the issue, makes one edit through the issue-file writer, and says what it did."""

from __future__ import annotations

from datetime import date

import click

from newsletter.cli import pass_workspace
from newsletter.cli.common import _console, _escape
from newsletter.cli.drafts import draft
from newsletter.errors import NewsletterError
from newsletter.workspace import Workspace


@draft.command("lead")
@click.argument("issue_name", metavar="ISSUE")
@click.argument("uid")
@pass_workspace
def draft_lead(workspace: Workspace, issue_name: str, uid: str) -> None:
    """Make an item the lead story; the old lead goes to the top of its section."""
    from newsletter.draft import set_lead
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    lead, section = set_lead(workspace.config, path, uid, workspace.pool)
    moved = f" [dim](the old lead is first in {_escape(section)})[/]" if section else ""
    _console().print(f"lead: {_escape(lead.title)} [dim]({lead.uid})[/]{moved}")


@draft.command("undo")
@click.argument("issue_name", metavar="ISSUE")
@pass_workspace
def draft_undo(workspace: Workspace, issue_name: str) -> None:
    """Put the issue file back as it was before its last edit (repeat to go further back)."""
    from newsletter.issue import find_issue
    from newsletter.issue.writing import undo_edit

    issue = undo_edit(find_issue(workspace.config, issue_name), workspace.config)
    _console().print(f"undid the last edit of {_escape(issue.newsletter)}/{_escape(issue.slug)}")


@draft.command("move")
@click.argument("issue_name", metavar="ISSUE")
@click.argument("uid")
@click.option("--section", help="Into this section [default: the one it is in].")
@click.option("--position", type=int, help="At this place in it, 1 = first [default: last].")
@pass_workspace
def draft_move(
    workspace: Workspace, issue_name: str, uid: str, section: str | None, position: int | None
) -> None:
    """Move an item within its section or to another one."""
    from newsletter.draft import move_item
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    item, target, place = move_item(workspace.config, path, uid, section, position)
    _console().print(f"{_escape(target)} #{place}: {_escape(item.title)} [dim]({item.uid})[/]")


@draft.command("remove")
@click.argument("issue_name", metavar="ISSUE")
@click.argument("uid")
@pass_workspace
def draft_remove(workspace: Workspace, issue_name: str, uid: str) -> None:
    """Take an item out of a draft (refresh will not bring it back; `draft add` will)."""
    from newsletter.draft import remove_item
    from newsletter.issue import find_issue

    item = remove_item(workspace.config, find_issue(workspace.config, issue_name), uid)
    _console().print(f"removed: {_escape(item.title)} [dim]({item.uid})[/]")


@draft.command("edit")
@click.argument("issue_name", metavar="ISSUE")
@click.argument("uid")
@click.argument("field")  # checked by the writer: importing its list costs start-up time
@click.argument("value")
@pass_workspace
def draft_edit(workspace: Workspace, issue_name: str, uid: str, field: str, value: str) -> None:
    """Set one field of an item: its title, summary, type, date (YYYY-MM-DD), url..."""
    from newsletter.draft import edit_item
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    item = edit_item(workspace.config, path, uid, field, _typed(field, value))
    _console().print(f"{field} of {item.uid}: {_escape(str(getattr(item, field)))}")


@draft.command("add-item")
@click.argument("issue_name", metavar="ISSUE")
@click.option("--type", "label", required=True, help="Its type label: Event, Call, ...")
@click.option("--title", required=True)
@click.option("--date", "day", required=True, help="Its date, or an event's first day.")
@click.option("--end", help="An event's last day.")
@click.option("--place", default="", help="Where an event is held.")
@click.option("--summary", default="")
@click.option("--link", help="Its web page (http or https).")
@click.option("--section", help="Put it in this section [default: by its type].")
@pass_workspace
def draft_add_item(
    workspace: Workspace,
    issue_name: str,
    label: str,
    title: str,
    day: str,
    end: str | None,
    place: str,
    summary: str,
    link: str | None,
    section: str | None,
) -> None:
    """Add an item that is in no source: an event, a call for papers, an announcement."""
    from newsletter.draft import add_manual_item
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    section_title, item = add_manual_item(
        workspace.config, path, type=label, title=title, day=_day("--date", day),
        end=_day("--end", end) if end else None, place=place, summary=summary, url=link,
        section=section,
    )  # fmt: skip
    _console().print(
        f"added to {_escape(section_title)}: {_escape(item.title)} [dim]({item.uid})[/]"
    )


def _day(option: str, value: str) -> date:
    from newsletter.draft import given_day

    return given_day(option, value)


def _typed(field: str, value: str) -> object:
    """A value as the file holds it: a date for `date`, true/false for `new`."""
    if field in ("date", "end"):
        return _day(field, value)
    if field in ("new", "manual"):
        if value not in ("true", "false"):
            raise NewsletterError(f"new: expected true or false, got {value!r}")
        return value == "true"
    return value
