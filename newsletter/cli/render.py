"""`newsletter render`, `check` and `preview`: an issue as email HTML and text, checked, and
shown in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from newsletter.cli import cli, pass_workspace
from newsletter.cli.common import _console, _escape, _shown_path, format_option, print_records
from newsletter.workspace import Workspace


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
@click.option(
    "--localise-images",
    is_flag=True,
    help="First fetch the draft's pictures given by address into pictures/fetched/ and point "
    "the issue at them: measured, and hosted with the archive.",
)
@pass_workspace
def render(
    workspace: Workspace,
    issue_name: str,
    folder: Path | None,
    keep_mjml: bool,
    localise_images: bool,
) -> None:
    """Render an issue to email HTML and its plain-text part."""
    from newsletter.issue import load_issue
    from newsletter.render import render_to_folder

    path, issue = load_issue(workspace.config, issue_name)
    console = _console()
    if localise_images:
        from newsletter.localise import localise_pictures

        for done in localise_pictures(path, workspace.config):
            console.print(f"fetched {_escape(done.address)} -> {_escape(done.path)}")
        _, issue = load_issue(workspace.config, issue_name)
    written = render_to_folder(issue, workspace.config, folder, keep_mjml)
    for file in written:
        size = file.stat().st_size
        console.print(f"wrote {_escape(_shown_path(file))} [dim]({size:,} bytes)[/]")


@cli.command()
@click.argument("issue_name", metavar="ISSUE")
@format_option
@pass_workspace
def check(workspace: Workspace, issue_name: str, output: str) -> None:
    """Check an issue's email: size, links, images, unsubscribe, subject, preheader, text part."""
    from newsletter.export import check_issue_as_sent
    from newsletter.issue import find_issue

    path = find_issue(workspace.config, issue_name)
    report = check_issue_as_sent(path, workspace.config)
    checks, errors = report.checks, report.errors
    if output == "json":
        import json

        shown = {
            "issue": _shown_path(path),
            "ok": errors == 0,
            "html_bytes": report.html_bytes,
            "sent_html_bytes": report.sent_bytes,
            "findings": [
                {"severity": c.severity, "code": c.code, "message": c.message} for c in checks
            ],
        }
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
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
            f"{_escape(_shown_path(path))}: {report.sent_bytes:,} bytes of HTML as sent "
            f"({report.html_bytes:,} rendered); {errors} error"
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
