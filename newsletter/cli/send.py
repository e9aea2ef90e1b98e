"""`newsletter export`, `send` and `suppress`: an issue as a file to send elsewhere, sent over
SMTP (proofs, or a subscriber list), and the addresses never sent to."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from newsletter.cli import UserError, cli, pass_workspace
from newsletter.cli.common import (
    _console,
    _escape,
    _shown_path,
    format_option,
    print_records,
    print_warnings,
    progress_bar,
)
from newsletter.errors import Finding
from newsletter.workspace import Workspace

if TYPE_CHECKING:
    from newsletter.export.delivery import ListSend


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
    from newsletter.export import export_to_file
    from newsletter.issue import load_issue

    _, issue = load_issue(workspace.config, issue_name)
    path, size = export_to_file(issue, workspace.config, export_format, path)
    click.echo(f"wrote {_shown_path(path)} ({size:,} bytes)")


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
    help="Send to every subscriber in this CSV (columns: email, name, language) instead of "
    "the newsletter's list.",
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
@click.option("--yes", is_flag=True, help="Send to the newsletter's list without asking first.")
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
    yes: bool,
) -> None:
    """Send an issue over SMTP: to the newsletter's active subscribers, to a list file
    (--list), or proofs (--to).

    A newsletter in several languages sends each subscriber the edition of their language
    (else its first language's); an edition named by its slug (2020-11.fr) goes to everyone
    given, whatever their language.

    A list send is recorded in the send ledger: run it again after a crash or Ctrl-C and it
    goes on where it stopped; nobody gets the issue twice, nor two of its editions. Two runs
    at once share the list.
    """
    from newsletter.export import prepared_email
    from newsletter.export.delivery import proof_addresses, transport_for
    from newsletter.issue import load_issue

    if proof_to and subscriber_list:
        raise click.UsageError("give --to ADDRESS (a proof) or --list FILE, not both")
    config = workspace.config
    _, issue = load_issue(config, issue_name)
    transport = transport_for(config.smtp, dry_run)
    if proof_to:
        from newsletter.export.sending import proof_send

        email, newsletter = prepared_email(issue, config)  # a proof of the edition named
        addresses = proof_addresses(proof_to)
        if dry_run:
            click.echo(f"would send a [PROOF] to {', '.join(addresses)}")
            return
        for address, reply in proof_send(email, newsletter, addresses, transport):
            click.echo(f"proof sent to {address}: {reply}")
        return
    from newsletter.export.delivery import send_to_list
    from newsletter.export.routing import issue_send
    from newsletter.export.subscribers import read_subscribers

    to_send, left_out = issue_send(issue, config)
    slug = issue.newsletter
    if subscriber_list is None:
        subscribers = workspace.pool.active_subscribers(slug)
        problems: list[Finding] = []
        if not subscribers:
            raise UserError(
                f"{slug} has no active subscribers: import a list with "
                "`newsletter subscribers import FILE.csv`, or send to a file with --list"
            )
        if not (yes or dry_run):  # a forgotten --to must not become the whole list's issue
            many = f"{len(subscribers):,} active subscriber{'s' * (len(subscribers) != 1)}"
            every = (
                ""
                if to_send.name == to_send.key
                else f", the {issue.language} edition to every one of them"
            )
            click.confirm(f"send {issue_name} to the {many} of {slug}{every}?", abort=True)
    else:
        subscribers, problems = read_subscribers(subscriber_list)
    err = _console(stderr=True)
    print_warnings(err, [*left_out, *(str(problem) for problem in problems)])
    with progress_bar(err, "messages", "sending") as on_progress:
        try:
            sent = send_to_list(
                workspace.pool,
                to_send,
                subscribers,
                transport,
                rate=config.smtp.rate if rate is None else rate,
                dry_run=dry_run,
                retry_failed=retry_failed,
                max_attempts=max_attempts,
                retry_delay=retry_delay,
                on_progress=on_progress,
            )
        except KeyboardInterrupt:
            raise UserError(
                "interrupted: run the same command again to go on; nobody who "
                "has it will get it twice"
            ) from None
    _print_list_send(sent, len(problems))


def _print_list_send(sent: ListSend, skipped: int) -> None:
    report, err = sent.report, _console(stderr=True)
    verb = "would send" if report.dry_run else "sent"
    count = report.total if report.dry_run else report.sent
    retried = f", retried {report.retried}" if report.retried else ""
    editions = report.edition_counts()
    editions = f" ({editions})" if editions else ""
    click.echo(
        f"{report.issue}: {verb} {count}{editions}, already sent {report.already_sent}, suppressed "
        f"{report.suppressed}, failed {len(report.failed)}, deferred {len(report.deferred)}, "
        f"skipped from the list {skipped}{retried}"
    )
    for address, reply in report.failed:
        err.print(f"[red]failed:[/] {_escape(address)}: {_escape(reply)}")
    for address, reply in report.deferred:
        err.print(f"[yellow]deferred:[/] {_escape(address)}: {_escape(reply)}")
    if report.elsewhere:
        runs = ", ".join(f"process {pid} on {host}" for host, pid in report.other_runs)
        err.print(f"{report.elsewhere} left to another send run of this issue ({runs or 'ended'})")
    failure = sent.failure()
    if failure:
        raise UserError(failure)


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
