"""`newsletter serve`: the public pages where people subscribe, confirm and leave."""

from __future__ import annotations

import click

from newsletter.cli import cli, pass_workspace
from newsletter.workspace import Workspace


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to serve on.")
@click.option("--port", default=8040, show_default=True, type=int, help="The port.")
@click.option(
    "--proxy",
    "proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy whose X-Forwarded-For and -Proto to trust (repeatable) "
    "[default: 127.0.0.1].",
)
@pass_workspace
def serve(workspace: Workspace, host: str, port: int, proxies: tuple[str, ...]) -> None:
    """Serve each newsletter's public pages: subscribe (with a confirmation email), confirm,
    unsubscribe in one click, preferences.

    They answer at [subscriptions] url; links are signed with $NEWSLETTER_SIGNING_KEY, the
    secret `newsletter send` uses. Serve them behind a reverse proxy that ends https; any ASGI
    server can run them too (newsletter.web.public:app_from_environment, a factory)."""
    from newsletter.web.public import make_public_app

    app = make_public_app(workspace)  # refuses without the url or the key, in one line
    import uvicorn

    click.echo(f"public pages at http://{host}:{port}/ for {workspace.config.subscriptions.url}"
               " (Ctrl-C stops)")  # fmt: skip
    # The proxy's X-Forwarded-For gives the client address the form posts are counted by:
    # a proxy not trusted would make every visitor one client, sharing one allowance.
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True,
                forwarded_allow_ips=list(proxies) or "127.0.0.1")  # fmt: skip
