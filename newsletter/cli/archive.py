"""`newsletter publish` and `archive`: an issue frozen as it went out, and the web archive of
the published issues."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from newsletter.cli import DefaultCommandGroup, cli, pass_workspace
from newsletter.cli.common import (
    _check_dates,
    _console,
    _escape,
    _shown_path,
    print_warnings,
    progress_bar,
)
from newsletter.workspace import Workspace


class ArchiveGroup(DefaultCommandGroup):
    default_command = "build"


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
    follow dates: an issue dated before another has a lower number). A language edition
    (2020-11.fr) takes its issue's number, and is published once its issue is.
    """
    from newsletter.archive.publish import publish_issue
    from newsletter.issue import find_issue

    day = published_on.date() if published_on else None
    _check_dates(("--date", day))
    path = find_issue(workspace.config, issue_name)
    report = publish_issue(
        workspace.pool, workspace.config, path, force=force, today=day, number=number
    )
    print_warnings(_console(stderr=True), report.warnings)
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
    with progress_bar(err, "pages", "building") as on_progress:
        report = build_archive(workspace.config, folder, on_progress=on_progress)
    for skipped in report.skipped:
        err.print(f"[yellow]warning:[/] {_escape(skipped)}; left out")
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
