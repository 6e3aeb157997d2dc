"""The `gknb` command: a thin Typer front over the plain Python API.

Each area keeps its commands in gknb/commands/<area>.py; those modules import nothing heavy at
load time, so `gknb extract` starts without Prefect, GX or DuckDB.

Errors: a `GknbError` (gknb.errors) is one line on stderr and exit 2; any other exception is a
bug in gknb and keeps its traceback, with a line saying so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from gknb import __version__
from gknb.commands import crawl, extract, quality, warehouse

app = typer.Typer(
    help="gknb (公开年报): government information-disclosure annual reports into a DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gknb {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    data_dir: Optional[Path] = typer.Option(
        None, "--data-dir", help="The data directory every output goes under (default: GKNB_HOME, else ./data)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print gknb's version and exit."),
) -> None:
    """gknb (公开年报): government information-disclosure annual reports into a DuckDB warehouse."""
    from gknb.paths import HOME_ENV

    if data_dir is not None:
        # The environment, so worker processes and Prefect tasks see the same data directory.
        os.environ[HOME_ENV] = str(data_dir.absolute())


for module in (extract, warehouse, quality, crawl):
    module.register(app)


def run() -> None:
    """The console entry point: GknbError → one line and exit 2; anything else is a bug."""
    from gknb.errors import GknbError

    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    try:
        app()  # standalone: usage errors, --help and typer.Exit end here as SystemExit
    except GknbError as exc:
        typer.echo(f"gknb {command}: {exc}" if command else f"gknb: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("gknb: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        from gknb.errors import as_environment_failure

        failure = as_environment_failure(exc)  # disk full, read-only, permission: not a bug
        if failure is not None:
            typer.echo(f"gknb {command}: {failure}" if command else f"gknb: {failure}", err=True)
            sys.exit(2)
        import traceback

        traceback.print_exc()
        typer.echo(f"gknb {command}: internal error ({type(exc).__name__}); this is a bug in gknb, "
                   "please report it with the traceback above", err=True)
        sys.exit(1)

if __name__ == "__main__":
    run()
