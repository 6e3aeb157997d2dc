"""`gknb ingest` and `gknb export`: the warehouse's commands (issue 4). Heavy imports stay inside."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from gknb.config import validate_configuration

DB_HELP = "Warehouse file (default: warehouse.duckdb in the data directory)."


def ingest(
    paths: List[Path] = typer.Argument(..., help="Report files and folders (walked recursively; hidden files and *.jsonl skipped)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Extraction worker processes (default: the cores available; 1 = in this process)."),
    fresh: bool = typer.Option(False, "--fresh", help="Rebuild the warehouse from empty instead of adding to it."),
    retry_rejected: bool = typer.Option(False, "--retry-rejected", help="Extract files recorded as rejected again (after an extractor fix)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar (logs, CI)."),
) -> None:
    """Extract reports in parallel and load them into the DuckDB warehouse, then swap it in atomically."""
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.paths import default_warehouse
    from gknb.warehouse.errors import WarehouseError
    from gknb.warehouse.ingest import ingest_paths

    target = db or default_warehouse()
    try:
        run = ingest_paths(paths, target, workers=workers, progress=not no_progress, fresh=fresh,
                           retry_rejected=retry_rejected)
    except WarehouseError as exc:
        typer.echo(f"gknb ingest: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{target}: {run.summary()}")
    for outcome in run.outcomes:
        if outcome.status == "rejected":
            typer.echo(f"  rejected {outcome.describe()}", err=True)


def export(
    parquet: Path = typer.Option(..., "--parquet", help="Folder to write the tables to as Parquet, partitioned by year."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the warehouse's tables as Parquet files partitioned by reporting year."""
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.paths import default_warehouse
    from gknb.warehouse.errors import WarehouseError
    from gknb.warehouse.export import export_parquet

    try:
        written = export_parquet(db or default_warehouse(), parquet)
    except WarehouseError as exc:
        typer.echo(f"gknb export: {exc}", err=True)
        raise typer.Exit(2)
    for table, rows in written.items():
        typer.echo(f"{parquet / table}: {rows} rows")


def register(app: typer.Typer) -> None:
    """Adds this area's commands to `gknb`."""
    app.command("ingest")(ingest)
    app.command("export")(export)
