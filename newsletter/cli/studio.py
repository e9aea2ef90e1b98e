"""`newsletter studio`: the editors' studio, served for this workspace."""

from __future__ import annotations

import click

from newsletter.cli import cli, pass_workspace
from newsletter.errors import NewsletterError
from newsletter.workspace import Workspace


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to serve on.")
@click.option("--port", default=8030, show_default=True, type=int, help="The port.")
@pass_workspace
def studio(workspace: Workspace, host: str, port: int) -> None:
    """Edit issues in the browser: the pool, the issues, an issue with its preview and checks."""
    from newsletter.web.studio import LOOPBACK, make_app

    if host not in LOOPBACK:
        raise NewsletterError(
            f"--host {host}: the studio has no logins yet, so it serves this machine only "
            "(127.0.0.1)"
        )
    import uvicorn

    app = make_app(workspace)
    workspace.config  # noqa: B018 - a broken newsletter.toml stops here, not at the first page
    click.echo(f"studio at http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
