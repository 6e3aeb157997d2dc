"""docs/analysis_example.py - the README's pandas/polars cookbook and its chart - runs on the
samples' export, so it cannot rot."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys

import duckdb

from conftest import REPO
from warehouse_helpers import samples_warehouse

SCRIPT = REPO / "docs" / "analysis_example.py"


def test_the_analysis_example_runs_on_the_export_and_draws_the_chart(tmp_path):
    from gknb.warehouse.export import export

    export(samples_warehouse(), tmp_path / "export")
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "export"), str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "New requests per year (pandas)" in run.stdout and "The same with polars" in run.stdout
    svg = (tmp_path / "out" / "analysis_example.svg").read_text(encoding="utf-8")
    bars = {int(y): int(n) for y, n in re.findall(r'data-year="(\d+)" data-new-requests="(\d+)"', svg)}
    con = duckdb.connect(str(samples_warehouse()), read_only=True)
    truth = dict(con.execute("SELECT year, new_requests FROM rollup_requests_district_year "
                             "WHERE district = '平潭县' AND new_requests IS NOT NULL").fetchall())
    con.close()
    assert bars == truth == {2019: 23, 2020: 21, 2021: 70, 2022: 74}
    assert svg.startswith("<svg") and "51% disclosed" in svg  # 2021: (granted + partial) / processed


def test_pandas_and_polars_give_the_same_honest_totals(tmp_path):
    from gknb.warehouse.export import export

    export(samples_warehouse(), tmp_path / "export")
    result = runpy.run_path(str(SCRIPT))["main"](tmp_path / "export", tmp_path / "out")
    by_pandas = result["pandas"].set_index("year")
    by_polars = {r["year"]: r for r in result["polars"].iter_rows(named=True)}
    assert set(by_pandas.index) == set(by_polars)
    for year, row in by_pandas.iterrows():
        other = by_polars[year]
        assert (row["reports"], row["reports_with_value"]) == (other["reports"], other["reports_with_value"])
        assert (None if row["new_requests"] is None or str(row["new_requests"]) == "<NA>" else int(row["new_requests"])) \
            == other["new_requests"], year
    # 2019: one of two reports (兴庆区民政局) has no new_requests - no total, not a partial one
    assert by_polars[2019]["new_requests"] is None and by_polars[2019]["reports_with_value"] == 1
