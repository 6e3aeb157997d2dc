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


# --- issue 15.1: an analyst's read-write session cannot alter what is published -------------------
#
# The analyst is the worst case: the same (non-root) user as the nightly, so only the published
# file's mode stands between a default `duckdb warehouse.duckdb` session and the warehouse. As
# root (which ignores modes) the test hands the folder and file to `nobody` and runs the CLI as it.

import os
import shutil
import tempfile
import time

from gknb.warehouse.publish import connect_readonly

NOBODY = 65534


def _native_duckdb() -> str:
    """The CLI binary itself (the .venv/bin/duckdb wrapper is a Python script that forks it, and
    killing the wrapper would leave the session alive)."""
    import importlib.util

    spec = importlib.util.find_spec("duckdb_cli")
    if spec and spec.origin and (Path(spec.origin).parent / "duckdb").is_file():
        return str(Path(spec.origin).parent / "duckdb")
    return str(Path(sys.executable).parent / "duckdb")


@pytest.fixture
def shared_folder():
    """A folder the analyst's user owns (tmp_path's parents are closed to other users)."""
    folder = Path(tempfile.mkdtemp(prefix="gknb-publish-", dir="/tmp"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        os.chown(folder, NOBODY, NOBODY)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _hand_to_analyst(db: Path) -> None:
    """The analyst owns what the nightly wrote (same user): only the file's mode protects it."""
    if os.geteuid() == 0:
        for path in (db, db.parent):
            os.chown(path, NOBODY, NOBODY)


def _analyst(db: Path, *args: str) -> subprocess.Popen:
    """`duckdb warehouse.duckdb` as the analyst types it: read-write by default, SQL on stdin."""
    demote = None
    if os.geteuid() == 0:
        def demote():
            os.setgid(NOBODY)
            os.setgroups([])
            os.setuid(NOBODY)
    return subprocess.Popen([_native_duckdb(), "-csv", *args, str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=demote, env={"HOME": str(db.parent), "PATH": "/usr/bin:/bin"})


def _send(session: subprocess.Popen, sql: str, marker: str) -> None:
    """Run `sql` in the session and wait until it is done (or the session has ended)."""
    try:
        session.stdin.write(f"{sql}\nSELECT '{marker}' AS m;\n")
        session.stdin.flush()
    except BrokenPipeError:
        return
    while True:
        line = session.stdout.readline()
        if not line or marker in line:
            return


def _end(session: subprocess.Popen) -> tuple[str, str]:
    try:
        session.stdin.write(".quit\n")
        session.stdin.close()
    except BrokenPipeError:
        pass  # the session had already ended
    err = session.stderr.read()
    out = session.stdout.read()
    session.wait(timeout=60)
    return out, err


def _agencies(db: Path) -> list[str]:
    con = connect_readonly(db)
    try:
        return [r[0] for r in con.execute("SELECT agency FROM reports ORDER BY agency").fetchall()]
    finally:
        con.close()


def test_published_file_is_read_only(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    assert db.stat().st_mode & 0o777 == 0o444
    with building(db) as con:  # the next build starts from it and publishes read-only again
        load_document(con, extracted_from_truth("huaian_2024"))
    assert db.stat().st_mode & 0o777 == 0o444 and _count(db) == 2


def test_a_session_open_across_a_swap_cannot_write_onto_the_new_warehouse(shared_folder):
    """Was: the session's UPDATE went to a WAL beside the new file, replayed there by row position
    (one agency's rename renamed another report)."""
    db = shared_folder / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    _hand_to_analyst(db)
    session = _analyst(db)
    try:
        with building(db) as con:  # the nightly swaps a new warehouse in under the open session
            load_document(con, extracted_from_truth("huaian_2024"))
        _hand_to_analyst(db)
        _send(session, "UPDATE reports SET agency = 'renamed by the analyst';", "updated")
        # the session may still be open: a reader now must see exactly what the build published
        assert _agencies(db) == ["洪泽区人民政府", "淮安市人民政府"]
        assert not Path(f"{db}.wal").exists()
    finally:
        out, err = _end(session)
    assert "Permission denied" in err  # the analyst is told, at once, that the file is not writable
    assert _agencies(db) == ["洪泽区人民政府", "淮安市人民政府"]
    readonly = subprocess.run([_native_duckdb(), "-readonly", "-csv", str(db), "-c",
                               "SELECT count(*) AS n FROM reports"], capture_output=True, text=True, timeout=60)
    assert readonly.returncode == 0 and readonly.stdout.split() == ["n", "2"]  # the documented way works


def test_writes_after_a_swap_fail_loudly_instead_of_vanishing(shared_folder):
    db = shared_folder / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    _hand_to_analyst(db)
    session = _analyst(db)
    try:
        with building(db) as con:
            load_document(con, extracted_from_truth("huaian_2024"))
        _hand_to_analyst(db)
        _send(session, "CREATE TABLE my_notes AS SELECT 42 AS n;", "created")
    finally:
        out, err = _end(session)
    assert "Permission denied" in err  # was: exit 0, and my_notes is in neither file
    con = connect_readonly(db)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert "my_notes" not in tables and "reports" in tables


def _stray_wal_of_an_old_copy(db: Path, tmp: Path) -> bytes:
    """The WAL a read-write session leaves when it dies after CREATE TABLE on the file a swap
    replaced: made on a writable copy of the old warehouse, then placed beside the published one."""
    old = tmp / "old-copy.duckdb"
    shutil.copyfile(db, old)
    os.chmod(old, 0o644)
    session = subprocess.Popen([_native_duckdb(), str(old)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    session.stdin.write("CREATE TABLE my_notes AS SELECT 1 AS n; INSERT INTO my_notes VALUES (2);\n"
                        "SELECT 'written' AS m;\n")
    session.stdin.flush()
    while "written" not in (session.stdout.readline() or "written"):
        pass
    session.kill()  # dies: no checkpoint, the WAL stays
    session.wait(timeout=30)
    wal = Path(f"{old}.wal")
    assert wal.exists() and wal.stat().st_size > 0
    data = wal.read_bytes()
    shutil.move(wal, Path(f"{db}.wal"))
    return data


def test_a_stray_wal_is_set_aside_by_the_next_build_and_never_replayed(tmp_path):
    """Was: `building()` copied the WAL into the build on purpose, and every open failed with
    `Failure while replaying WAL` until someone deleted it by hand."""
    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    with building(db) as con:
        load_document(con, extracted_from_truth("huaian_2024"))
    wal = _stray_wal_of_an_old_copy(db, tmp_path)
    warnings: list[str] = []
    with building(db, notify=warnings.append) as con:  # the next nightly
        assert "my_notes" not in {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert len(warnings) == 1 and "moved aside" in warnings[0] and f"{db}.wal" in warnings[0]
    assert not Path(f"{db}.wal").exists()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("warehouse.duckdb.wal.stray-")]
    assert len(aside) == 1 and aside[0].read_bytes() == wal  # kept for its owner, not deleted
    assert _agencies(db) == ["洪泽区人民政府", "淮安市人民政府"]
    cli = subprocess.run([_native_duckdb(), "-readonly", "-csv", str(db), "-c", "SELECT count(*) AS n FROM reports"],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0 and cli.stdout.split() == ["n", "2"], cli.stderr


def test_a_reader_sets_a_stray_wal_aside_instead_of_replaying_it(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    with building(db) as con:
        load_document(con, extracted_from_truth("huaian_2024"))
    _stray_wal_of_an_old_copy(db, tmp_path)
    warnings: list[str] = []
    con = connect_readonly(db, notify=warnings.append)  # gknb check / export / the workbench
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "my_notes" not in tables
        assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 2
    finally:
        con.close()
    assert warnings and not Path(f"{db}.wal").exists()


def test_a_live_read_write_session_is_named_and_its_wal_left_alone(tmp_path):
    """Someone made the file writable again and has it open: gknb names the session's pid instead of
    pulling its WAL from under it (that WAL is the session's own, not stray)."""
    from gknb.warehouse.errors import PublishError

    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        load_document(con, extracted_from_truth("hongze_2023"))
    os.chmod(db, 0o644)
    session = subprocess.Popen([_native_duckdb(), "-csv", str(db)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _send(session, "CREATE TABLE my_notes AS SELECT 1 AS n;", "created")
        wal = Path(f"{db}.wal")
        assert wal.exists()
        for attempt in (lambda: connect_readonly(db), lambda: building(db).__enter__()):
            with pytest.raises(PublishError, match=rf"is open read-write by another program \(pid {session.pid}\)"):
                attempt()
            assert wal.exists()  # untouched: still the live session's
        assert not [p for p in tmp_path.iterdir() if ".stray-" in p.name or ".build-" in p.name]
    finally:
        _end(session)
    assert _count(db) == 1
