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
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Extraction worker processes (default: one per core, measured fastest on 2 cores; or GKNB_EXTRACT_WORKERS)."),
    fresh: bool = typer.Option(False, "--fresh", help="Rebuild the warehouse from empty instead of adding to it."),
    retry_rejected: bool = typer.Option(False, "--retry-rejected", help="Extract files recorded as rejected again (after an extractor fix)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar (logs, CI)."),
) -> None:
    """Extract reports in worker processes and load them into the DuckDB warehouse, then swap it in atomically."""
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.paths import default_warehouse
    from gknb.pipeline import ingest as run_ingest, rich_progress, stop_on_signals

    target = db or default_warehouse()
    # SIGTERM unwinds like Ctrl-C: the workers are killed and the build is discarded.
    with stop_on_signals(), rich_progress(not no_progress) as progress:
        run = run_ingest(paths, target, workers=workers, progress=progress, fresh=fresh,
                         retry_rejected=retry_rejected)
    typer.echo(f"{target}: {run.summary()}")
    for outcome in run.rejected_sample:
        typer.echo(f"  rejected {outcome.describe()}", err=True)
    if run.rejected_not_shown:
        typer.echo(f"  … and {run.rejected_not_shown} more rejected: SELECT source_path, reason FROM documents "
                   f"WHERE run_id = '{run.run_id}' AND status = 'rejected'", err=True)


def export(
    out: Optional[Path] = typer.Option(None, "--out", help="Folder to write to (default: export/ in the data directory)."),
    fmt: str = typer.Option("parquet", "--format", help="parquet (one file per dataset and year) or csv (one UTF-8 file with BOM per dataset)."),
    parquet: Optional[Path] = typer.Option(None, "--parquet", help="The older spelling of --out DIR --format parquet."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write every table, view and rollup an analyst uses as Parquet (or CSV), with a datapackage.json."""
    validate_configuration()  # configuration errors stop the run before anything is recorded
    from gknb.errors import ConfigError
    from gknb.paths import default_export_dir, default_warehouse
    from gknb.warehouse.export import FORMATS, export as run_export

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: one of {', '.join(FORMATS)}")
    if parquet is not None:
        if out is not None and out != parquet:
            raise ConfigError("--parquet DIR and --out DIR name two folders; give one")
        out, fmt = parquet, "parquet"
    out = out or default_export_dir()
    written = run_export(db or default_warehouse(), out, fmt)
    for name, rows in written.items():
        typer.echo(f"{out / (name + '.csv' if fmt == 'csv' else name)}: {rows} rows")
    typer.echo(f"{out / 'datapackage.json'}: {len(written)} datasets")


def release(
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    releases: Optional[Path] = typer.Option(None, "--releases", help="Folder of the releases (default: releases/ in the data directory)."),
    keep: int = typer.Option(7, "--keep", min=1, help="Releases kept; older ones are deleted."),
) -> None:
    """Publish a dated, immutable release: the warehouse, its Parquet export, the dictionary, a manifest."""
    validate_configuration()
    from gknb.paths import default_warehouse
    from gknb.warehouse.release import publish_release

    folder = publish_release(db or default_warehouse(), releases, keep=keep, summary={"trigger": "cli"})
    typer.echo(f"{folder}: released; {folder.parent / 'latest'} points at it")


def dictionary(
    out: Optional[Path] = typer.Option(None, "--out", help="File to write (default: print to stdout)."),
) -> None:
    """Write the data dictionary (tables, views, columns, types, units, the 2019/2021 crosswalk) as Markdown."""
    validate_configuration()
    from gknb.warehouse.dictionary import render_dictionary

    text = render_dictionary()
    if out is None:
        typer.echo(text, nl=False)
        return
    from gknb.errors import environment_failure

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise environment_failure(exc, out, "write") from exc
    typer.echo(f"{out}: {text.count(chr(10))} lines")


def register(app: typer.Typer) -> None:
    """Adds this area's commands to `gknb`."""
    app.command("ingest")(ingest)
    app.command("export")(export)
    app.command("release")(release)
    app.command("dictionary")(dictionary)
