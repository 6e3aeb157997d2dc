"""gknb export: every table, view and rollup, read by pandas, polars and DuckDB without options."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from warehouse_helpers import samples_warehouse

GKNB = Path(sys.executable).parent / "gknb"


@functools.lru_cache(maxsize=1)
def parquet_export() -> tuple[Path, str]:
    """The samples warehouse exported once by the command; (folder, stdout)."""
    out = Path(tempfile.mkdtemp(prefix="gknb-export-")) / "export"
    run = subprocess.run([str(GKNB), "export", "--out", str(out), "--db", str(samples_warehouse())],
                         capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert run.returncode == 0, run.stderr
    return out, run.stdout


def _package(out: Path) -> dict:
    return json.loads((out / "datapackage.json").read_text(encoding="utf-8"))


def test_every_table_view_and_rollup_is_exported_with_its_description():
    out, stdout = parquet_export()
    names = {r["title"]: r for r in _package(out)["resources"]}
    assert {"cells", "documents", "reports", "template_cells", "cell_crosswalk", "ingest_runs",
            "v_cells", "v_report_requests", "coverage_agency_year", "rollup_requests_district_year",
            "rollup_disclosure_district_year", "rollup_review_litigation_district_year",
            "yoy_requests_district_year", "yoy_review_litigation_agency_year"} <= set(names)
    assert not any(n.startswith("out_") for n in names)  # copies of views are not written twice
    con = duckdb.connect(str(samples_warehouse()), read_only=True)
    for name, resource in names.items():
        assert resource["description"], name
        assert all(f["description"] for f in resource["schema"]["fields"]), name
        assert resource["rows"] == con.execute(f"SELECT count(*) FROM {name}").fetchone()[0], name
        assert f"{out / name}: {resource['rows']} rows" in stdout
    con.close()
    cells = {f["name"]: f for f in names["cells"]["schema"]["fields"]}
    assert cells["value"]["type"] == "number" and cells["section"]["type"] == "integer"
    assert names["cells"]["schema"]["primaryKey"] == ["report_id", "section", "row_key", "col_key"]
    rollup = {f["name"]: f for f in names["rollup_requests_district_year"]["schema"]["fields"]}
    assert rollup["disclosure_ratio"]["unit"] == "ratio" and rollup["new_requests"]["unit"] == "count"


def test_pandas_reads_every_dataset_without_options_and_numbers_are_numbers():
    import pandas as pd

    out, _ = parquet_export()
    for resource in _package(out)["resources"]:
        name = resource["title"]
        df = pd.read_parquet(out / name)
        assert len(df) == resource["rows"], name
        for field in resource["schema"]["fields"]:
            if field["type"] in ("integer", "number"):
                assert pd.api.types.is_numeric_dtype(df[field["name"]]), (name, field["name"], df[field["name"]].dtype)
    cells = pd.read_parquet(out / "cells")
    # amounts and counts alike are floats: a groupby sum is numeric, not Decimal objects
    assert cells["value"].dtype == "float64"
    assert cells.groupby("year")["value"].sum().dtype == "float64"
    hongze = pd.read_parquet(out / "v_cells")
    row = hongze[(hongze.district == "洪泽区") & (hongze.section == 3) & (hongze.row_key == "new_requests")
                 & (hongze.col_key == "total")]
    assert row["value"].tolist() == [21.0]
    rollup = pd.read_parquet(out / "rollup_requests_district_year")
    assert rollup["new_requests"].dtype.kind in "if" and rollup["reports"].dtype == "int64"


def test_polars_and_duckdb_read_every_dataset_without_options():
    import polars as pl

    out, _ = parquet_export()
    for resource in _package(out)["resources"]:
        name = resource["title"]
        frame = pl.read_parquet(out / name)
        assert frame.height == resource["rows"], name
        numeric = [f["name"] for f in resource["schema"]["fields"] if f["type"] in ("integer", "number")]
        assert all(frame.schema[c].is_numeric() for c in numeric), name
        n = duckdb.sql(f"SELECT count(*) FROM read_parquet('{out / name}/*.parquet')").fetchone()[0]
        assert n == resource["rows"], name


def test_year_is_inside_every_file_and_null_years_have_no_hive_folder():
    import pandas as pd

    out, _ = parquet_export()
    files = sorted(p.name for p in (out / "cells").iterdir())
    assert {"cells-2019.parquet", "cells-2023.parquet", "cells-2024.parquet"} <= set(files)
    assert not any("=" in p.name for p in out.rglob("*"))  # no year=... partition folders
    one = pd.read_parquet(out / "cells" / "cells-2023.parquet")  # one file read alone has its year
    assert set(one["year"]) == {2023}
    # Rejected documents (README.md, broken.pdf) have no report year: a file of their own.
    nulls = pd.read_parquet(out / "documents" / "documents-no-year.parquet")
    assert len(nulls) >= 2 and set(nulls["status"]) == {"rejected"} and nulls["year"].isna().all()
    assert (out / "template_cells" / "template_cells.parquet").exists()


def test_csv_is_utf8_with_bom_one_file_per_dataset(tmp_path):
    import pandas as pd

    out = tmp_path / "csv"
    run = subprocess.run([str(GKNB), "export", "--out", str(out), "--format", "csv", "--db", str(samples_warehouse())],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    raw = (out / "reports.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfreport_id,")
    reports = pd.read_csv(out / "reports.csv")  # pandas and polars skip the BOM without options
    assert "洪泽区人民政府" in set(reports["agency"]) and reports["year"].dtype == "int64"
    assert reports.columns[0] == "report_id"
    import polars as pl
    assert pl.read_csv(out / "reports.csv").columns[0] == "report_id"
    package = _package(out)
    assert {r["format"] for r in package["resources"]} == {"csv"}
    assert all(r["encoding"] == "utf-8" for r in package["resources"])
    warnings = next(f for f in next(r for r in package["resources"] if r["title"] == "reports")["schema"]["fields"]
                    if f["name"] == "warnings")
    assert warnings["type"] == "string"  # a list is written as text joined by '; '


def test_the_parquet_option_still_works(tmp_path):
    out = tmp_path / "p"
    run = subprocess.run([str(GKNB), "export", "--parquet", str(out), "--db", str(samples_warehouse())],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (out / "datapackage.json").exists() and (out / "reports" / "reports-2023.parquet").exists()


def test_the_default_folder_is_in_the_data_directory(tmp_path):
    import shutil

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(samples_warehouse(), home / "warehouse.duckdb")
    run = subprocess.run([str(GKNB), "--data-dir", str(home), "export"], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (home / "export" / "datapackage.json").exists()


def test_export_of_a_missing_warehouse_is_one_line(tmp_path):
    run = subprocess.run([str(GKNB), "export", "--out", str(tmp_path / "o"), "--db", str(tmp_path / "none.duckdb")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "gknb ingest" in run.stderr


def test_a_failed_export_keeps_the_previous_one_and_is_one_line(tmp_path, monkeypatch):
    import gknb.warehouse.export as export
    from gknb.warehouse.errors import WarehouseError

    db, out = samples_warehouse(), tmp_path / "parquet"
    export.export(db, out)
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    package = (out / "datapackage.json").read_bytes()
    real = export.export_query

    def failing(con, name, fmt="parquet"):  # the COPY of reports breaks half-way (a full disk, say)
        return ("SELECT *, error('disk full') AS boom FROM reports", True) if name == "reports" else real(con, name, fmt)

    monkeypatch.setattr(export, "export_query", failing)
    with pytest.raises(WarehouseError) as err:
        export.export(db, out)
    assert "\n" not in str(err.value) and str(out) in str(err.value)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert (out / "datapackage.json").read_bytes() == package
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
