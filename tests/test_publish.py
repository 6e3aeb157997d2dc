"""Publishing: a build is swapped in atomically; readers of the old file keep working; failures leave no trace."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from gknb.warehouse.load import load_document
from gknb.warehouse.publish import building
from warehouse_helpers import extracted_from_truth

READER = r"""
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
q = "SELECT count(*), min(agency) FROM reports"
print("before", *con.execute(q).fetchone(), flush=True)
sys.stdin.readline()          # the test swaps the warehouse now
print("after", *con.execute(q).fetchone(), flush=True)
print("cells", con.execute("SELECT count(*) FROM cells").fetchone()[0], flush=True)
"""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _count(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM reports").fetchone()[0]
    finally:
        con.close()


def test_readers_keep_the_old_warehouse_across_a_swap(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    in_process = duckdb.connect(str(db), read_only=True)
    try:
        assert reader.stdout.readline().split() == ["before", "1", "洪泽区人民政府"]
        with building(db) as con:  # the nightly build, while both readers hold the old file
            load_document(con, extracted_from_truth("huaian_2024"))
        out, err = reader.communicate("go\n", timeout=60)
        assert reader.returncode == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["after", "1", "洪泽区人民政府"]  # still the old data, no error
        assert int(lines[1].split()[1]) > 100
        assert in_process.execute("SELECT count(*) FROM reports").fetchone()[0] == 1
    finally:
        in_process.close()
        if reader.poll() is None:
            reader.kill()
    assert _count(db) == 2  # a new reader sees the new data


def test_a_failed_build_leaves_the_warehouse_untouched(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    before = _digest(db)
    with pytest.raises(RuntimeError, match="disk on fire"):
        with building(db) as con:
            load_document(con, extracted_from_truth("huaian_2024"))
            assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 2
            raise RuntimeError("disk on fire")
    assert _digest(db) == before and _count(db) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb", "warehouse.duckdb.lock"]


def test_concurrent_writers_do_not_lose_each_others_work(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    errors = []

    def write(name):
        try:
            with building(db) as con:
                load_document(con, extracted_from_truth(name))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("hongze_2023", "huaian_2024")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and _count(db) == 2


def test_the_duckdb_cli_opens_a_built_warehouse(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("huaian_2024"))
    cli = Path(sys.executable).parent / "duckdb"
    out = subprocess.run(
        [str(cli), "-readonly", "-csv", str(db), "-c",
         "SELECT total_processed, disclosure_ratio FROM rollup_requests_district_year WHERE city = '淮安市'"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["total_processed,disclosure_ratio", "3050,0.5954"]


def test_connect_readonly_sees_the_new_file_while_this_process_holds_the_old(tmp_path):
    from gknb.warehouse.publish import connect_readonly

    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    old = duckdb.connect(str(db), read_only=True)
    try:
        with building(db) as con:
            load_document(con, extracted_from_truth("huaian_2024"))
        # duckdb.connect(path) would hand back the database already open here (1 report).
        fresh = connect_readonly(db)
        assert fresh.execute("SELECT count(*) FROM reports").fetchone()[0] == 2
        assert fresh.execute("SELECT count(*) FROM rollup_requests_district_year").fetchone()[0] == 2
        fresh.close()
        assert old.execute("SELECT count(*) FROM reports").fetchone()[0] == 1
    finally:
        old.close()


def test_a_killed_writer_leaves_nothing_behind_after_the_next_build(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    writer = (
        "import sys, os\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from gknb.warehouse.publish import building\n"
        "from gknb.warehouse.load import load_document\n"
        "from warehouse_helpers import extracted_from_truth\n"
        "with building(sys.argv[1]) as con:\n"
        "    load_document(con, extracted_from_truth('hongze_2023'))\n"
        "    os._exit(9)  # killed in the middle of a build\n"
    )
    killed = subprocess.run([sys.executable, "-c", writer, str(db), str(Path(__file__).parent)], timeout=120)
    assert killed.returncode == 9 and not db.exists()
    assert any(p.name.startswith(".warehouse.duckdb.build-") for p in tmp_path.iterdir())
    with building(db) as con:
        load_document(con, extracted_from_truth("huaian_2024"))
    assert _count(db) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb", "warehouse.duckdb.lock"]
