"""`gknb check` and `gknb dashboard`: the quality commands (issue 5). Heavy imports stay inside."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from gknb.config import validate_configuration

DB_HELP = "Warehouse file (default: warehouse.duckdb in the data directory)."


def check(
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    docs: Optional[Path] = typer.Option(
        None, "--docs", help="Folder for the GX Data Docs (default: out/data_docs beside the warehouse, e.g. data/out/data_docs)."),
    no_docs: bool = typer.Option(False, "--no-docs", help="Skip building the Data Docs (findings are still written)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar (logs, CI)."),
) -> None:
    """Run the data-quality checks; write dq_findings and dq_runs and the GX Data Docs.

    Findings are data, not failure: exits 0 whenever the checks ran, whatever they found.
    """
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.paths import default_warehouse
    from gknb.quality import QualityError, run_checks
    from gknb.warehouse.errors import WarehouseError

    target = db or default_warehouse()
    try:
        run = run_checks(target, docs_dir=docs, build_docs=not no_docs, progress=not no_progress)
    except (QualityError, WarehouseError) as exc:
        typer.echo(f"gknb check: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{target}: {run.summary()}")


def dashboard(
    out: Path = typer.Option(..., "--out", help="Folder to write the dashboard into (index.html; opens from disk)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Build the static HTML dashboard for auditors from the latest check run."""
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.paths import default_warehouse
    from gknb.quality import QualityError
    from gknb.quality.dashboard import build_dashboard

    target = db or default_warehouse()
    try:
        index = build_dashboard(target, out)
    except QualityError as exc:
        typer.echo(f"gknb dashboard: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(f"dashboard: {index}")


def register(app: typer.Typer) -> None:
    """Adds this area's commands to `gknb`."""
    app.command("check")(check)
    app.command("dashboard")(dashboard)
