"""gknb export --parquet: every table, partitioned by reporting year, reads back to the same rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from warehouse_helpers import samples_warehouse


def test_export_partitions_by_year_and_round_trips(tmp_path):
    db = samples_warehouse()
    out = tmp_path / "parquet"
    gknb = Path(sys.executable).parent / "gknb"
    run = subprocess.run([str(gknb), "export", "--parquet", str(out), "--db", str(db)],
                         capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert run.returncode == 0, run.stderr
    assert {"year=2019", "year=2023", "year=2024"} <= {p.name for p in (out / "cells").iterdir()}
    # Rejected documents (README.md, broken.pdf) have no report year: Hive's default partition.
    assert {"year=2020", "year=__HIVE_DEFAULT_PARTITION__"} <= {p.name for p in (out / "documents").iterdir()}
    assert (out / "template_cells" / "template_cells.parquet").exists()
    con = duckdb.connect(str(db), read_only=True)
    for table in ("documents", "reports", "cells", "ingest_runs", "template_cells"):
        glob = str(out / table / "**" / "*.parquet")
        n = con.execute(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)").fetchone()[0]
        assert n == con.execute(f"SELECT count(*) FROM {table}").fetchone()[0], table
        assert f"{out / table}: {n} rows" in run.stdout
    rejected = con.execute(
        f"SELECT count(*) FROM read_parquet('{out}/documents/**/*.parquet', hive_partitioning = true) "
        "WHERE year IS NULL AND status = 'rejected'").fetchone()[0]
    assert rejected == con.execute("SELECT count(*) FROM documents WHERE status = 'rejected'").fetchone()[0] >= 2
    hongze = con.execute(
        f"SELECT value FROM read_parquet('{out}/cells/year=2023/*.parquet') c "
        f"JOIN reports r USING (report_id) WHERE r.district = '洪泽区' AND c.section = 3 "
        "AND c.row_key = 'new_requests' AND c.col_key = 'total'").fetchone()
    con.close()
    assert int(hongze[0]) == 21


def test_export_of_a_missing_warehouse_is_one_line(tmp_path):
    gknb = Path(sys.executable).parent / "gknb"
    run = subprocess.run([str(gknb), "export", "--parquet", str(tmp_path / "o"), "--db", str(tmp_path / "none.duckdb")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "gknb ingest" in run.stderr


def test_a_failed_export_keeps_the_previous_one_and_is_one_line(tmp_path, monkeypatch):
    import pytest

    import gknb.warehouse.export as export
    from gknb.warehouse.errors import WarehouseError

    db, out = samples_warehouse(), tmp_path / "parquet"
    export.export_parquet(db, out)
    before = sorted(p.relative_to(out) for p in (out / "reports").rglob("*.parquet"))
    real = export.export_query

    def failing(con, table):  # the COPY of reports breaks half-way (a full disk, say)
        return ("SELECT *, error('disk full') AS boom FROM reports", True) if table == "reports" else real(con, table)

    monkeypatch.setattr(export, "export_query", failing)
    with pytest.raises(WarehouseError) as err:
        export.export_parquet(db, out)
    assert "\n" not in str(err.value) and str(out / "reports") in str(err.value)
    assert sorted(p.relative_to(out) for p in (out / "reports").rglob("*.parquet")) == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
