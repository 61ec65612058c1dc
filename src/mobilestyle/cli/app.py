"""The typer application and the error handling shared by every command."""

import importlib
import sys

import typer

from mobilestyle.cli.console import err_console
from mobilestyle.errors import UserError

app = typer.Typer(
    name="mobilestyle",
    help="Live artistic video filters for iPhone: build, export, check and try fast style-transfer models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = ("core", "training", "train", "prune", "build", "emulate", "evaluate")


def _register_commands() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module(f"mobilestyle.cli.{module}")


@app.callback()
def _root() -> None:
    """Live artistic video filters for iPhone: build, export, check and try fast style-transfer models."""


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    _register_commands()
    try:
        app()
    except UserError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        sys.exit(130)
