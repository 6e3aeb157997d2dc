"""`gknb export --parquet DIR`: the warehouse's tables as Parquet, partitioned by reporting year.

A table with a `year` column is partitioned by it; a table keyed by `report_id` (cells, documents,
quality findings) takes the year of its report (rejected documents have none: `year=NULL`); the
small catalog and run tables are written as one file each. Each table goes to DIR/<table>/,
replaced whole, read from a read-only connection so the published warehouse is never locked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gknb.warehouse.errors import WarehouseError
from gknb.warehouse.publish import connect_readonly


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ? "
        "ORDER BY ordinal_position", [table]).fetchall()]


def export_query(con, table: str) -> tuple[str, bool]:
    """The SELECT that exports `table`, and whether it is partitioned by year."""
    cols = _columns(con, table)
    if "year" in cols:
        return f"SELECT * FROM {table}", True
    if "report_id" in cols and table != "reports":
        return (f"SELECT t.*, r.year FROM {table} t LEFT JOIN reports r ON r.report_id = t.report_id", True)
    return f"SELECT * FROM {table}", False


def export_parquet(db: Path | str, out_dir: Path | str) -> dict[str, int]:
    """Write every base table of the warehouse under `out_dir`; rows written per table."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"{out_dir}: cannot create the export folder: {exc.strerror or exc}") from exc
    con = connect_readonly(db)
    written: dict[str, int] = {}
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        for table in tables:
            _export_table(con, table, out_dir)
            written[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()
    return written


def _export_table(con, table: str, out_dir: Path) -> None:
    """Writes DIR/<table>/ into a staging folder first and swaps it in, so a failed export (disk
    full, a query error) leaves the table's previous export whole, never a mix of old and new."""
    import duckdb

    query, partitioned = export_query(con, table)
    target = out_dir / table
    staging = out_dir / f".{table}.part-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        if partitioned:
            con.execute(f"COPY ({query}) TO '{_sql_path(staging)}' (FORMAT parquet, PARTITION_BY (year))")
        else:
            staging.mkdir(parents=True)
            con.execute(f"COPY ({query}) TO '{_sql_path(staging / (table + '.parquet'))}' (FORMAT parquet)")
        old = out_dir / f".{table}.old-{os.getpid()}"
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except (duckdb.Error, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise WarehouseError(f"{target}: export failed: {exc}".splitlines()[0]) from exc


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
