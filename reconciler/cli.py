"""The `entraform` command line: click commands, exit codes and wiring (SPEC §1).

Heavy modules (the Graph SDK, the emulator) are imported inside the commands that need them so that
`entraform validate` and `--help` stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import click

from reconciler import __version__
from reconciler.config import Config, load_config
from reconciler.errors import EntraformError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Globals:
    config_file: str | None
    verbose: bool
    quiet: bool
    color: bool

    def config(self) -> Config:
        return load_config(self.config_file)


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)


def handles_errors(func: F) -> F:
    """Turn `EntraformError`s into `error: …` lines and exit 1; a traceback only with -v."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        verbose = bool(ctx.obj and ctx.obj.verbose)
        try:
            return func(*args, **kwargs)
        except EntraformError as exc:
            if verbose:
                raise
            _fail(exc.lines())
            sys.exit(1)
        except KeyboardInterrupt:
            _fail(["interrupted"])
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", metavar="FILE", help="Config file (default ./entraform.yaml).")
@click.option("-v", "--verbose", is_flag=True, help="More detail; tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the essential output.")
@click.option("--no-color", is_flag=True, help="No colour in the output.")
@click.version_option(__version__, prog_name="entraform")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, verbose: bool, quiet: bool, no_color: bool) -> None:
    """GitOps for Microsoft Entra ID: users, groups, memberships and licenses from YAML."""
    ctx.obj = Globals(config_file=config_file, verbose=verbose, quiet=quiet, color=not no_color)


@main.group()
def emulator() -> None:
    """The local Microsoft Graph emulator."""
