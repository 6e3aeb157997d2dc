"""From warehouse tables to observation frames: one DataFrame per check, computed in DuckDB.

The checks read three relations: `reports`, `cells` (the warehouse's, or DataFrames registered
under those names by `connect_frames`) and `q_catalog` (the template catalog, registered here).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from gknb.catalog import load_catalog
from gknb.paths import SQL_DIR
from gknb.quality.errors import SuiteError, WarehouseIncomplete
from gknb.quality.suites import OBSERVATION_COLUMNS, Check

CHECKS_SQL = SQL_DIR / "checks"
REQUIRED_TABLES = ("reports", "cells")


def catalog_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [{"template": c.template, "section": c.section, "item": c.item, "row_key": c.row_key,
          "col_key": c.col_key, "row_label": c.row_label, "col_label": c.col_label,
          "value_type": c.value_type, "role": c.role} for c in load_catalog().cells]
    )


def connect_frames(reports: pd.DataFrame, cells: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory connection whose `reports` and `cells` are the given frames (tests, notebooks)."""
    con = duckdb.connect()
    con.register("reports", reports)
    con.register("cells", cells)
    return con


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Registers the catalog and creates the temporary views every check reads."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables"
    ).fetchall()}
    lacking = [t for t in REQUIRED_TABLES if t not in present]
    if lacking:
        raise WarehouseIncomplete(f"the warehouse has no {', '.join(lacking)} table: run `gknb ingest` first")
    con.register("q_catalog", catalog_frame())
    con.execute((CHECKS_SQL / "_prelude.sql").read_text(encoding="utf-8"))


def observe(con: duckdb.DuckDBPyConnection, check: Check) -> pd.DataFrame:
    """The check's observation frame; `obs_id` numbers its rows for GX's unexpected-index lists."""
    sql = (CHECKS_SQL / check.sql).read_text(encoding="utf-8")
    try:
        frame = con.execute(sql, dict(check.sql_params) or None).df()
    except duckdb.Error as exc:
        raise SuiteError(f"{check.check_id}: {CHECKS_SQL / check.sql}: {exc}".splitlines()[0]) from exc
    lacking = [c for c in OBSERVATION_COLUMNS if c not in frame.columns]
    if lacking:
        raise SuiteError(f"{check.check_id}: {check.sql} lacks columns {lacking}")
    frame.insert(0, "obs_id", range(len(frame)))
    return frame


def observe_all(con: duckdb.DuckDBPyConnection, checks: list[Check]) -> dict[str, pd.DataFrame]:
    prepare(con)
    return {check.check_id: observe(con, check) for check in checks}


def sql_path(check: Check) -> Path:
    return CHECKS_SQL / check.sql
