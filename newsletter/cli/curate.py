"""`newsletter draft lead|move|remove|edit`: curating a draft from the command line. Each
command finds the issue, makes one edit through the issue-file writer, and says what it did."""

from __future__ import annotations

from datetime import date

import click

from newsletter.cli import Workspace, _console, _escape, draft, pass_workspace
from newsletter.errors import NewsletterError
from newsletter.issue.editing import EDITABLE


@draft.command("lead")
@click.argument("issue_name", metavar="ISSUE")
@click.argument("uid")
@pass_workspace
def draft_lead(workspace: Workspace, issue_name: str, uid: str) -> None:
    """Make an item the lead story; the old lead goes to the top of its section."""
    from newsletter.draft import set_lead
    from newsletter.issue import find_issue

    lead, section = set_lead(workspace.config, find_issue(workspace.config, issue_name), uid)
    moved = f" [dim](the old lead is first in {_escape(section)})[/]" if section else ""
    _console().print(f"lead: {_escape(lead.title)} [dim]({lead.uid})[/]{moved}")


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
@click.argument("field", type=click.Choice(EDITABLE))
@click.argument("value")
@pass_workspace
def draft_edit(workspace: Workspace, issue_name: str, uid: str, field: str, value: str) -> None:
    """Set one field of an item: its title, summary, type, date (YYYY-MM-DD), url..."""
    from newsletter.draft import edit_item
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    item = edit_item(workspace.config, path, uid, field, _typed(field, value))
    _console().print(f"{field} of {item.uid}: {_escape(str(getattr(item, field)))}")


def _typed(field: str, value: str) -> object:
    """A value as the file holds it: a date for `date`, true/false for `new`."""
    if field == "date":
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise NewsletterError(f"date: {value!r} is not a date like 2020-11-27") from None
    if field == "new":
        if value not in ("true", "false"):
            raise NewsletterError(f"new: expected true or false, got {value!r}")
        return value == "true"
    return value
