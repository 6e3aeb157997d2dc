"""Versioned releases: dated immutable folders, `latest` on the newest, the last N kept, a failure
publishes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from warehouse_helpers import samples_warehouse

T0 = datetime(2026, 12, 6, 2, 0, tzinfo=timezone.utc)


def _state(releases: Path) -> dict:
    return {str(p.relative_to(releases)): (p.readlink() if p.is_symlink() else p.stat().st_size if p.is_file() else "dir")
            for p in sorted(releases.rglob("*"))}


def test_two_releases_leave_two_dated_folders_and_latest_on_the_newest(tmp_path):
    from gknb.warehouse.release import publish_release

    db, releases = samples_warehouse(), tmp_path / "releases"
    first = publish_release(db, releases, keep=3, summary={"run": 1}, now=T0)
    second = publish_release(db, releases, keep=3, summary={"run": 2}, now=T0 + timedelta(days=1))
    assert [first.name, second.name] == ["2026-12-06T020000Z", "2026-12-07T020000Z"]
    assert sorted(p.name for p in releases.iterdir()) == ["2026-12-06T020000Z", "2026-12-07T020000Z", "LATEST", "latest"]
    assert os.readlink(releases / "latest") == second.name and (releases / "latest").resolve() == second.resolve()
    assert (releases / "LATEST").read_text().strip() == second.name
    manifest = json.loads((releases / "latest" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["release"] == second.name and manifest["summary"] == {"run": 2}
    con = duckdb.connect(str(db), read_only=True)
    assert manifest["row_counts"]["cells"] == con.execute("SELECT count(*) FROM cells").fetchone()[0] > 2000
    assert manifest["row_counts"]["rollup_requests_district_year"] == 12
    con.close()
    # the manifest's checksums are the files'
    import hashlib
    for rel, entry in manifest["files"].items():
        assert hashlib.sha256((second / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    assert {"warehouse.duckdb", "dictionary.md", "export/datapackage.json",
            "export/cells/cells-2023.parquet"} <= set(manifest["files"])
    # v_cells (release: false) is in the release's warehouse, not its Parquet: the cells are
    assert not any(f.startswith("export/v_cells/") for f in manifest["files"])
    assert "v_cells" not in manifest["row_counts"] and manifest["row_counts"]["v_report_requests"] > 0
    # immutable: the released files are read-only, the copy opens in the duckdb CLI
    assert not os.access(second / "warehouse.duckdb", os.W_OK) or os.geteuid() == 0
    assert (second / "warehouse.duckdb").stat().st_mode & 0o222 == 0
    cli = Path(sys.executable).parent / "duckdb"
    out = subprocess.run([str(cli), "-readonly", "-csv", str(releases / "latest" / "warehouse.duckdb"), "-c",
                          "SELECT new_requests FROM rollup_requests_district_year WHERE district = '洪泽区'"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.splitlines()[1:] == ["21"], out.stderr


def test_only_the_newest_n_are_kept(tmp_path):
    from gknb.warehouse.release import publish_release, release_names

    db, releases = samples_warehouse(), tmp_path / "releases"
    made = [publish_release(db, releases, keep=2, now=T0 + timedelta(days=i)).name for i in range(3)]
    assert release_names(releases) == made[1:]
    assert os.readlink(releases / "latest") == made[2]


def test_a_failed_release_publishes_nothing(tmp_path, monkeypatch):
    import gknb.warehouse.export as export
    from gknb.warehouse.errors import WarehouseError
    from gknb.warehouse.release import publish_release

    db, releases = samples_warehouse(), tmp_path / "releases"
    publish_release(db, releases, keep=3, now=T0)
    before = _state(releases)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "export", broken)
    with pytest.raises(WarehouseError, match="No space left on device"):
        publish_release(db, releases, keep=3, now=T0 + timedelta(days=1))
    assert _state(releases) == before  # no new folder, no staging left, latest unchanged
    with pytest.raises(WarehouseError):  # no warehouse at all: nothing written either
        publish_release(tmp_path / "none.duckdb", releases, keep=3, now=T0 + timedelta(days=2))
    assert _state(releases) == before


def test_the_release_command(tmp_path):
    import shutil

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(samples_warehouse(), home / "warehouse.duckdb")
    gknb = Path(sys.executable).parent / "gknb"
    run = subprocess.run([str(gknb), "--data-dir", str(home), "release", "--keep", "1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    latest = (home / "releases" / "LATEST").read_text().strip()
    assert (home / "releases" / latest / "export" / "datapackage.json").exists()
    assert f"{home / 'releases' / latest}: released" in run.stdout
