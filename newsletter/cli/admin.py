"""`newsletter init` and `newsletter db`: starting a workspace and looking after its database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from newsletter.cli import cli, pass_workspace
from newsletter.workspace import Workspace


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--name", default="Our newsletter", show_default=True, help="The newsletter's name.")
@click.option("--theme", is_flag=True, help="Also copy the default theme into theme/ to edit.")
def init(folder: Path, name: str, theme: bool) -> None:
    """Start a workspace in FOLDER: a commented newsletter.toml, an example source and issues/.

    Nothing is asked and nothing is overwritten: a folder with a newsletter.toml is refused.
    """
    from newsletter.starter import start_workspace

    started = start_workspace(folder, name=name, today=date.today(), theme=theme)
    for path in started.written:
        click.echo(f"wrote {path}{'/' if path.is_dir() else ''}")
    hop = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder}\n"
    steps = "\n".join(f"  {command}" for command in started.next_commands)
    click.echo(f"\nNext:\n{'  ' + hop if hop else ''}{steps}")


@cli.group()
def db() -> None:
    """Look after the pool's database."""


@db.command()
@pass_workspace
def upgrade(workspace: Workspace) -> None:
    """Apply pending schema migrations (every command also does this on first use)."""
    from newsletter.pool.database import display_url, upgrade_database

    before, after = upgrade_database(workspace.config.database_url)
    where = display_url(workspace.config.database_url)
    if before == after:
        click.echo(f"{where}: schema already at revision {after}")
    else:
        click.echo(f"{where}: schema upgraded from {before or 'empty'} to revision {after}")
