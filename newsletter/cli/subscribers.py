"""`newsletter subscribers` and `newsletter bounces`: each newsletter's list, the story of an
address, and what bounces and complaints do to the list."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from newsletter.cli import UserError, cli, pass_workspace
from newsletter.cli.common import (
    _console,
    _escape,
    _shown_path,
    format_option,
    print_warnings,
    spreadsheet_safe,
)
from newsletter.workspace import Workspace

if TYPE_CHECKING:
    from newsletter.pool.subscribers import SubscriberRecord

STATUSES = ("pending", "active", "paused", "unsubscribed", "bounced", "complained")
IMPORT_STATUSES = ("active", "pending", "unsubscribed", "bounced", "complained")
FIELDS = (
    "email",
    "name",
    "language",
    "status",
    "newsletter",
    "consent_at",
    "consent_method",
    "consent_source",
    "created",
)


def _newsletter(workspace: Workspace, slug: str | None) -> str:
    from newsletter.draft import newsletter_for

    return newsletter_for(workspace.config, slug).slug


status_option = click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only these statuses (repeatable) [default: all].",
)
newsletter_option = click.option(
    "--newsletter", "newsletter_slug", help="The newsletter's list [default: the only one]."
)


@cli.group()
def subscribers() -> None:
    """Each newsletter's subscribers: import, list, export, show one, remove, forget."""


@subscribers.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(path_type=Path, dir_okay=False))
@newsletter_option
@click.option(
    "--status",
    type=click.Choice(IMPORT_STATUSES),
    default="active",
    show_default=True,
    help="The status of the addresses new to the list (an import never brings back someone "
    "who left).",
)
@pass_workspace
def subscribers_import(
    workspace: Workspace, path: Path, newsletter_slug: str | None, status: str
) -> None:
    """Import a CSV list (columns: email, and name, language, any others as attributes).

    All of it goes in one transaction: a file that cannot be read to its end imports
    nothing. A bad row is named with its line and skipped; the rest is imported."""
    from newsletter.audience import import_subscribers

    newsletter = _newsletter(workspace, newsletter_slug)
    report = import_subscribers(workspace.pool, path, newsletter, status, _shown_path(path))
    err = _console(stderr=True)
    print_warnings(err, report.problems)
    for subscriber, reason in report.counts.suppressed:
        err.print(
            f"[yellow]warning:[/] {_escape(subscriber.address)}: on the suppression list "
            f"({reason}); not imported"
        )
    counts = report.counts
    skipped = sum(problem.code == "skipped" for problem in report.problems)
    click.echo(
        f"{newsletter}: {counts.added:,} added ({status}), {counts.updated:,} already on the "
        f"list, {_count(skipped, 'row')} skipped, {len(counts.suppressed):,} suppressed"
    )


@subscribers.command("add")
@click.argument("address")
@click.option("--name", default="", help="Their name, as the To: line shows it.")
@click.option("--language", default="", help="Their language edition, such as fr.")
@newsletter_option
@pass_workspace
def subscribers_add(
    workspace: Workspace, address: str, name: str, language: str, newsletter_slug: str | None
) -> None:
    """Add one subscriber, active (they asked you in person: say so in their record)."""
    from newsletter.audience import add_subscriber

    newsletter = _newsletter(workspace, newsletter_slug)
    click.echo(add_subscriber(workspace.pool, newsletter, address, name, language))


@subscribers.command("list")
@newsletter_option
@status_option
@click.option("--language", help="Only this language edition.")
@click.option("--search", help="Only addresses or names containing this text.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@format_option
@pass_workspace
def subscribers_list(
    workspace: Workspace,
    newsletter_slug: str | None,
    statuses: tuple[str, ...],
    language: str | None,
    search: str | None,
    limit: int | None,
    output: str,
) -> None:
    """List subscribers, with a count by status."""
    if newsletter_slug is not None:
        _newsletter(workspace, newsletter_slug)  # a misspelt name is an error, not "0"
    found = workspace.pool.subscribers(newsletter_slug, statuses, language, search, limit)
    if output == "csv":
        _write_csv(sys.stdout, found)
        return
    if output == "json":  # one record at a time: a list of a million is never all in memory
        click.echo("[", nl=False)
        for number, record in enumerate(found):
            entry = json.dumps(
                _record(record) | {"attributes": record.attributes}, ensure_ascii=False, indent=2
            )
            click.echo(("," if number else "") + "\n  " + entry.replace("\n", "\n  "), nl=False)
        click.echo("\n]")
        return
    shown = 0
    for record in found:
        name = f"  {record.name}" if record.name else ""
        click.echo(f"{record.address}  {record.status}  {record.newsletter}{name}")
        shown += 1
    if statuses or language or search or limit:
        click.echo(f"{_count(shown, 'subscriber')} shown")
        return
    counts = workspace.pool.subscriber_counts(newsletter_slug)
    by_status = ", ".join(
        f"{status} {sum(c for (_, s), c in counts.items() if s == status):,}"
        for status in STATUSES
        if any(s == status for _, s in counts)
    )
    click.echo(f"{sum(counts.values()):,} on the list{f' ({by_status})' if by_status else ''}")


@subscribers.command("export")
@newsletter_option
@status_option
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The CSV file to write.",
)
@pass_workspace
def subscribers_export(
    workspace: Workspace, newsletter_slug: str | None, statuses: tuple[str, ...], path: Path
) -> None:
    """Write the list as CSV (attributes as columns of their own), ready to import again."""
    from newsletter.files import open_atomically

    if newsletter_slug is not None:
        _newsletter(workspace, newsletter_slug)
    pool = workspace.pool
    columns: set[str] = set()
    for record in pool.subscribers(newsletter_slug, statuses):
        columns.update(record.attributes)
    with open_atomically(path) as file:
        count = _write_csv(file, pool.subscribers(newsletter_slug, statuses), sorted(columns))
    click.echo(f"wrote {_shown_path(path)} ({count:,} subscribers)")


def _record(record: SubscriberRecord) -> dict[str, Any]:
    return {
        "email": record.address,
        "name": record.name,
        "language": record.language,
        "status": record.status,
        "newsletter": record.newsletter,
        "consent_at": record.consent_at.isoformat() if record.consent_at else "",
        "consent_method": record.consent_method,
        "consent_source": record.consent_source,
        "created": record.created.isoformat(),
    }


def _write_csv(
    file: IO[str], records: Iterable[SubscriberRecord], attributes: list[str] | None = None
) -> int:
    """Rows of the list as CSV; a cell a spreadsheet would run as a formula is written with
    a leading "'" (OWASP's advice against CSV injection)."""
    writer = csv.writer(file, lineterminator="\n")
    extra = [] if attributes is None else attributes
    writer.writerow([*FIELDS, *extra] if attributes is not None else [*FIELDS, "attributes"])
    count = 0
    for record in records:
        values = list(_record(record).values())
        if attributes is None:
            values.append(json.dumps(record.attributes, ensure_ascii=False, sort_keys=True))
        else:
            values += [record.attributes.get(column, "") for column in extra]
        writer.writerow(spreadsheet_safe(value) for value in values)
        count += 1
    return count


@subscribers.command("show")
@click.argument("address")
@pass_workspace
def subscribers_show(workspace: Workspace, address: str) -> None:
    """The story of one address: its lists, consent, and every event and send."""
    from newsletter.export.subscribers import normalised_address

    address = normalised_address(address)
    pool = workspace.pool
    records = pool.subscriber(address)
    story = pool.story(address)
    if not records and not story:
        raise UserError(f"{address}: not on any list, and nothing recorded")
    out = _console()
    for record in records:
        consent = (
            f"{record.consent_method} on {record.consent_at:%Y-%m-%d %H:%M} UTC "
            f"from {record.consent_source}"
            if record.consent_at
            else "none recorded"
        )
        name = f" ({record.name})" if record.name else ""
        language = f", language {record.language}" if record.language else ""
        out.print(
            f"{_escape(record.newsletter)}: {_escape(record.address + name)}, "
            f"{record.status}{_escape(language)}; consent: {_escape(consent)}",
            highlight=False,
        )
    for event in story:
        about = f" {event.issue}" if event.issue and event.issue not in event.detail else ""
        out.print(
            f"{event.at:%Y-%m-%d %H:%M:%S}  {_escape(event.newsletter or '-')}  "
            f"{_escape(event.kind)}{_escape(about)}  {_escape(event.detail)}",
            highlight=False,
        )


@subscribers.command("remove")
@click.argument("addresses", nargs=-1, required=True)
@newsletter_option
@pass_workspace
def subscribers_remove(
    workspace: Workspace, addresses: tuple[str, ...], newsletter_slug: str | None
) -> None:
    """Take addresses off a newsletter's list (their story is kept; see forget)."""
    newsletter = _newsletter(workspace, newsletter_slug)
    from newsletter.export.subscribers import normalised_address

    removed = workspace.pool.remove_subscribers(newsletter, map(normalised_address, addresses))
    click.echo(f"{newsletter}: {removed} removed")


@subscribers.command("forget")
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@pass_workspace
def subscribers_forget(workspace: Workspace, address: str, yes: bool) -> None:
    """Erase everything about an address (a data-protection request): every list, its
    story, its sends; only a hash stays, so that it is never sent to again."""
    from newsletter.export.subscribers import normalised_address

    address = normalised_address(address)
    if not yes:
        click.confirm(f"erase every record of {address}? This cannot be undone", abort=True)
    erased = workspace.pool.forget(address)
    if not erased:
        click.echo(
            f"nothing was recorded of {address}; its hash is on the suppression list now, "
            "so it is never sent to"
        )
        return
    click.echo(
        f"forgot {address}: {_count(erased, 'record')} erased; its hash stays on the "
        "suppression list"
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@cli.group()
def bounces() -> None:
    """Bounces and complaints: read them, and suppress whom they name."""


@bounces.command("read")
@click.argument("mailbox", required=False, type=click.Path(path_type=Path))
@click.option("--imap", is_flag=True, help="Read the [bounces] IMAP mailbox instead.")
@pass_workspace
def bounces_read(workspace: Workspace, mailbox: Path | None, imap: bool) -> None:
    """Read a Maildir or mbox of bounces and complaints (or the IMAP mailbox): a hard bounce
    or a complaint suppresses its address at once, soft bounces after [bounces] soft_limit
    issues in a row. Mail that is neither is left alone and listed."""
    from newsletter.audience import mailbox_messages, read_bounces

    if bool(mailbox) == imap:
        raise click.UsageError("give a MAILBOX (a Maildir or an mbox file), or --imap")
    config = workspace.config
    messages = mailbox_messages(config, mailbox)
    run = read_bounces(workspace.pool, config, messages)
    out, err = _console(), _console(stderr=True)
    for address, issue, why in run.suppressed:
        out.print(
            f"suppressed {_escape(address)} ({_escape(issue)}): {_escape(why)}", highlight=False
        )
    for address, issue, count in run.soft:
        out.print(f"soft bounce {_escape(address)} ({_escape(issue)}): {count}", highlight=False)
    for source, said in run.unmatched:
        err.print(
            f"[yellow]unmatched:[/] {_escape(source)}: {_escape(said)} (no send of "
            "ours has its Message-ID or VERP address); left alone"
        )
    for source, subject, why in run.unrecognised:
        err.print(f"[yellow]left alone:[/] {_escape(source)}: {_escape(subject)!r}: {_escape(why)}")
    click.echo(
        f"{len(run.suppressed)} suppressed, {_count(len(run.soft), 'soft bounce')} counted, "
        f"{run.already} read before, {len(run.unmatched)} unmatched, "
        f"{len(run.unrecognised)} left alone"
    )
