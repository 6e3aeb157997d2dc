"""The wheel installs and runs anywhere (issue 9.1): built from the source, installed into a fresh
virtualenv that sees none of this checkout, it runs the README's demo - extract, ingest, check,
dashboard, export - from a folder outside the checkout, and puts nothing in site-packages but
`gknb/` and its dist-info.

The fresh venv borrows the development venv's third-party packages through a .pth file naming its
site-packages folder (nothing is downloaded); a path added by a .pth file is not itself scanned for
.pth files, so the checkout's editable install (its finder .pth) stays invisible.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
# What the wheel is built from: the package's folders and the files pyproject.toml reads.
SOURCES = ("gknb", "extractors", "flows", "schemas", "sql", "pyproject.toml", "README.md")

pytestmark = pytest.mark.slow


def _run(cmd: list, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}: exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh venv's bin folder, the wheel) with the wheel installed."""
    base = tmp_path_factory.mktemp("package")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:  # a clean copy: no stale build/ folder, no caches, no tests
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(REPO / name, src / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GKNB_", "VIRTUAL_ENV", "PYTHONPATH"))}
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src], cwd=base, env=env, timeout=600)
    (wheel,) = dist.glob("gknb-*.whl")

    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=base, env=env)
    bin_dir = venv / "bin"
    site = Path(_run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=base, env=env).stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=base, env=env)
    return bin_dir, wheel, env


def test_wheel_puts_nothing_at_top_level_but_gknb(installed):
    _, wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"gknb", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    # The package data the commands read at run time.
    for needed in ("gknb/schemas/template_cells.csv", "gknb/schemas/label_aliases.yaml",
                   "gknb/sql/views/010_v_cells.sql", "gknb/extractors/__init__.py", "gknb/flows/ingest.py"):
        assert needed in names
    assert any(n.startswith("gknb/schemas/tables/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("gknb/sql/ddl/") for n in names) and any(n.startswith("gknb/quality/templates/") for n in names)


def test_the_installed_wheel_runs_the_demo_from_another_folder(installed, tmp_path):
    bin_dir, _, env = installed
    work = tmp_path / "elsewhere"
    work.mkdir()
    reports = work / "reports"
    shutil.copytree(SAMPLES / "pdf", reports / "pdf")
    shutil.copytree(SAMPLES / "html", reports / "html")
    gknb = bin_dir / "gknb"

    # The code that runs is the wheel's, not the checkout's.
    where = _run([bin_dir / "python", "-c", "import gknb, gknb.extractors, gknb.paths; "
                  "print(gknb.__file__); print(gknb.extractors.__file__); print(gknb.paths.SCHEMAS_DIR)"],
                 cwd=work, env=env).stdout.split()
    assert all(p.startswith(str(bin_dir.parent)) for p in where), where
    assert _run([gknb, "--version"], cwd=work, env=env).stdout.startswith("gknb ")

    extracted = _run([gknb, "extract", reports / "pdf" / "hongze_2023.pdf"], cwd=work, env=env).stdout.splitlines()
    meta = json.loads(extracted[0])["meta"]
    assert (meta["district"], meta["year"]) == ("洪泽区", 2023)
    cells = {(c["section"], c["row_key"], c["col_key"]): c for c in map(json.loads, extracted[1:])}
    assert cells[(4, "admin_review", "upheld")]["value"] == 10

    # Defaults: everything under ./data of the folder it runs in.
    ingest = _run([gknb, "ingest", reports, "--no-progress"], cwd=work, env=env)
    assert "3 loaded" in ingest.stdout
    db = work / "data" / "warehouse.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT new_requests FROM rollup_requests_district_year "
                           "WHERE district = '洪泽区' AND year = 2023").fetchall() == [(21,)]
        assert con.execute("SELECT new_requests FROM out_rollup_requests_district_year "
                           "WHERE district = '洪泽区' AND year = 2023").fetchall() == [(21,)]
    finally:
        con.close()

    _run([gknb, "check", "--no-docs", "--no-progress"], cwd=work, env=env)
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = con.execute("SELECT DISTINCT r.district, f.row_key FROM dq_findings f JOIN reports r USING (report_id) "
                            "WHERE f.check_id = 'S4.row_total'").fetchall()
    finally:
        con.close()
    assert ("洪泽区", "admin_review") in found

    _run([gknb, "dashboard"], cwd=work, env=env)
    index = work / "data" / "dashboard" / "index.html"
    # Paged per province: 洪泽区's findings are on one of the pages the index links.
    assert index.exists()
    assert any("洪泽区" in page.read_text(encoding="utf-8") for page in index.parent.rglob("*.html"))

    _run([gknb, "export"], cwd=work, env=env)
    export = work / "data" / "export"
    assert (export / "datapackage.json").exists()
    con = duckdb.connect()
    try:
        hongze = con.execute(
            "SELECT c.value FROM read_parquet(?) c JOIN read_parquet(?) r USING (report_id) "
            "WHERE r.district = '洪泽区' AND c.section = 4 AND c.row_key = 'admin_review' AND c.col_key = 'upheld'",
            [str(export / "cells" / "*.parquet"), str(export / "reports" / "*.parquet")]).fetchall()
    finally:
        con.close()
    assert [int(v) for (v,) in hongze] == [10]
