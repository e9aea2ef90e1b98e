"""The `newsletter` command: parse arguments, call one library function, print the result.

This module holds the group, the workspace the commands share (newsletter.workspace, the
studio's front door too) and the error handling; each stage's commands are in a module of
their own, imported when one of its commands runs (COMMANDS). Heavy modules (SQLAlchemy,
Babel, rich) are imported inside the commands that need them, so that `newsletter --help`
answers at once.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

import click

from newsletter import __version__
from newsletter.errors import NewsletterError, database_failure
from newsletter.files import shown_path
from newsletter.workspace import Workspace


class UserError(click.ClickException):
    """A NewsletterError on its way to the terminal: one line, exit status 1."""

    exit_code = 1


class NewsletterGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as error:
            if isinstance(error.path, Path):  # as short as the paths the commands print
                error = NewsletterError(error.message, Path(shown_path(error.path)), error.line)
            raise UserError(str(error)) from None
        except OSError as error:  # the disk or a file said no: say which, in one line
            where = f"{error.filename}: " if error.filename else ""
            raise UserError(f"{where}{error.strerror or error}") from None
        except Exception as error:
            message = database_failure(error)
            if message is None:
                raise  # a bug: the traceback is for us
            raise UserError(message) from None


# The module of each command (curate adds to the `draft` group of drafts): `newsletter items`
# imports newsletter/cli/pool.py and no other. tests/test_cli_layout.py keeps this true.
COMMANDS = {
    "init": ("admin",), "db": ("admin",),
    "ingest": ("ingest",), "sources": ("ingest",), "dupes": ("ingest",),
    "items": ("pool",), "topics": ("pool",), "types": ("pool",),
    "tag": ("pool",), "untag": ("pool",), "retag": ("pool",),
    "link": ("pool",), "unlink": ("pool",),
    "draft": ("drafts", "curate"), "validate": ("drafts",), "issues": ("drafts",),
    "render": ("render",), "check": ("render",), "preview": ("render",),
    "export": ("send",), "send": ("send",), "suppress": ("send",),
    "publish": ("archive",), "archive": ("archive",),
    "studio": ("studio",), "users": ("studio",),
    "subscribers": ("subscribers",), "bounces": ("subscribers",), "serve": ("serve",),
}  # fmt: skip


class TopGroup(NewsletterGroup):
    """The `newsletter` group, whose commands are imported when they are asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for module in COMMANDS.get(cmd_name, ()):
            import_module(f"newsletter.cli.{module}")
        return super().get_command(ctx, cmd_name)


class DefaultCommandGroup(NewsletterGroup):
    """A group whose arguments go to its default command unless they name another one."""

    default_command = "new"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


pass_workspace = click.make_pass_decorator(Workspace)


@click.group(cls=TopGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="NEWSLETTER_CONFIG",
    help="The newsletter.toml to use [default: found in the working folder or above].",
)
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Build an organisation's email newsletter from the items it publishes.

    \b
    The flow:  ingest -> pool -> select -> draft -> render -> export / archive
    Start with `newsletter ingest --all`, then `newsletter items --month 2020-11`.
    """
    workspace = Workspace(config_path)
    ctx.obj = workspace
    ctx.call_on_close(workspace.close)


def main() -> None:
    cli(prog_name="newsletter")
