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
        None, "--docs", help="Folder of the warehouse's GX Data Docs site (default: data_docs/<warehouse name>/ "
                             "beside the warehouse, e.g. data/data_docs/warehouse/)."),
    no_docs: bool = typer.Option(False, "--no-docs", help="Skip building the Data Docs (findings are still written)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar (logs, CI)."),
    full: bool = typer.Option(False, "--full", help="Re-check every current report (default: only reports changed "
                                                    "since the last run and their neighbours; full when the checks changed)."),
    keep_docs: Optional[int] = typer.Option(None, "--keep-docs", min=1, help="Data Docs runs to keep "
                                            "(default: schemas/checks.yaml data_docs_keep_runs, 10)."),
) -> None:
    """Run the data-quality checks in DuckDB; write dq_findings, dq_runs and the GX Data Docs.

    Findings are data, not failure: exits 0 whenever the checks ran, whatever they found.
    """
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.paths import default_warehouse
    from gknb.quality import QualityError, run_checks
    from gknb.warehouse.errors import WarehouseError

    target = db or default_warehouse()
    try:
        run = run_checks(target, docs_dir=docs, build_docs=not no_docs, progress=not no_progress,
                         full=full, keep_runs=keep_docs)
    except (QualityError, WarehouseError) as exc:
        typer.echo(f"gknb check: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(f"{target}: {run.summary()}")


def dashboard(
    out: Optional[Path] = typer.Option(
        None, "--out", help="Folder to write the static dashboard into (index.html + one page per province; "
                            "relative links only; default: dashboard/ in the data directory)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    serve: bool = typer.Option(False, "--serve", help="Run the workbench, a read-only web application over the "
                                                      "warehouse, instead of writing files."),
    host: str = typer.Option("127.0.0.1", "--host", help="With --serve: the address to listen on."),
    port: int = typer.Option(8000, "--port", help="With --serve: the port to listen on."),
    raw: Optional[Path] = typer.Option(None, "--raw", help="The raw store of crawled files the evidence links "
                                                           "open (default: raw/ in the data directory)."),
    copy_evidence: bool = typer.Option(False, "--copy-evidence", help="Static pages: hard-link or copy the source "
                                       "documents of the listed findings into DIR/evidence/, so DIR alone can be "
                                       "published (default: link them relative to the pages where they lie)."),
) -> None:
    """Build the static HTML dashboard for auditors, or serve the workbench (--serve)."""
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.paths import default_dashboard_dir, default_warehouse

    target = db or default_warehouse()
    if serve:
        if out is not None:
            raise typer.BadParameter("--serve and --out: choose one")
        from gknb.workbench import serve as run_server

        typer.echo(f"workbench: http://{host}:{port}/ over {target} (Ctrl-C stops it)")
        run_server(target, host=host, port=port, raw_dir=raw)
        return
    from gknb.quality.dashboard import build_dashboard

    index = build_dashboard(target, out or default_dashboard_dir(), raw_dir=raw, copy_evidence=copy_evidence)
    typer.echo(f"dashboard: {index}")


def register(app: typer.Typer) -> None:
    """Adds this area's commands to `gknb`."""
    app.command("check")(check)
    app.command("dashboard")(dashboard)
