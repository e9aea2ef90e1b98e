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
    """Edit issues in the browser: the pool, the issues, an issue with its preview and checks.

    On 127.0.0.1 no one signs in; on any other address the studio needs users (`newsletter
    users add`), and every page but the sign-in page needs a session."""
    from newsletter.web.studio import LOOPBACK, make_app

    beyond = host not in LOOPBACK
    if beyond and not workspace.pool.users():
        raise NewsletterError(
            f"--host {host}: beyond this machine the studio needs users to sign in, and has "
            "none: add one with `newsletter users add NAME`"
        )
    import uvicorn

    app = make_app(workspace, sign_in=beyond)
    workspace.config  # noqa: B018 - a broken newsletter.toml stops here, not at the first page
    signing = " (sign-in required)" if beyond else ""
    click.echo(f"studio at http://{host}:{port}/{signing} (Ctrl-C stops)")
    # Behind a reverse proxy that ends https, its X-Forwarded-Proto makes cookies Secure.
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


@cli.group()
def users() -> None:
    """Who may sign in to the studio when it serves beyond this machine."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["editor", "reviewer"]),
    default="editor",
    show_default=True,
    help="An editor changes issues; a reviewer reads them.",
)
@click.password_option(help="Asked for when not given (twice).")
@pass_workspace
def users_add(workspace: Workspace, name: str, role: str, password: str) -> None:
    """Add a user of the studio."""
    from newsletter.passwords import hash_password, password_problem

    problem = password_problem(password)
    if problem:
        raise NewsletterError(problem)
    if not name.isprintable() or not name.strip() or len(name) > 100:
        raise NewsletterError("a user's name: up to 100 printable characters")
    workspace.pool.add_user(name, role, hash_password(password))
    click.echo(f"added {name} ({role})")


@users.command("remove")
@click.argument("name")
@pass_workspace
def users_remove(workspace: Workspace, name: str) -> None:
    """Remove a user of the studio."""
    workspace.pool.remove_user(name)
    click.echo(f"removed {name}")


@users.command("list")
@pass_workspace
def users_list(workspace: Workspace) -> None:
    """The studio's users and their roles."""
    for name, role in workspace.pool.users():
        click.echo(f"{name}\t{role}")
