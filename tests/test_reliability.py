"""Reliability under careless users and a hostile machine (issue 15, items 7, 9, 10, 12 and the
lock wait of item 2): special files are skipped unopened, temporaries are unique and cleaned up,
glob characters are literal, a `--db` that is not a warehouse is never replaced, and every
failure of the machine (full disk, read-only folder, permission, a folder for a file) is one line
naming the path, exit 2, the old warehouse untouched.

The disk tests mount small tmpfs file systems and need root (skipped otherwise).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from gknb.warehouse.load import load_document
from gknb.warehouse.publish import building, connect_readonly
from conftest import SAMPLES
from warehouse_helpers import extracted_from_truth

GKNB = str(Path(sys.executable).with_name("gknb"))
REPORT = SAMPLES / "markdown" / "shanghai_office_2025.md"
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="mounts a tmpfs (root only)")


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GKNB_", "PREFECT_"))}
    env.update(GKNB_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"))
    return env


def _gknb(tmp: Path, *args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([GKNB, *args], env=_env(tmp), cwd=tmp, capture_output=True, text=True,
                          timeout=timeout, **kw)


def _one_line(done: subprocess.CompletedProcess, command: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr[-3000:]
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith(f"gknb {command}: "), lines[0]
    return lines[0]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _warehouse(db: Path, *names: str) -> Path:
    with building(db) as con:
        for name in names or ("hongze_2023",):
            load_document(con, extracted_from_truth(name))
    return db


def _dead_pid() -> int:
    """The pid of a process that has ended (what a killed run's temporary names)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- item 7: special files in an input folder ------------------------------------------------------

def test_special_files_are_skipped_with_a_reason_and_never_opened(tmp_path):
    """Was: a FIFO or a symlink to /dev/zero hung `gknb ingest` at hashing."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(REPORT, inputs / "good.md")
    os.mkfifo(inputs / "pipe.md")  # opened, it would block forever: nobody writes to it
    (inputs / "zeros.pdf").symlink_to("/dev/zero")  # read, it never ends
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(inputs / "sock.html"))
    if IS_ROOT:
        os.mknod(inputs / "device.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # like /dev/zero
    db = tmp_path / "wh.duckdb"
    try:
        done = _gknb(tmp_path, "ingest", "--no-progress", "--workers", "1", "--db", str(db), str(inputs), timeout=120)
    finally:
        server.close()
    assert done.returncode == 0, done.stderr[-3000:]
    con = connect_readonly(db)
    try:
        rows = dict(con.execute("SELECT regexp_extract(source_path, '[^/]+$'), coalesce(reason_kind, status) "
                                "FROM documents").fetchall())
    finally:
        con.close()
    # the symlink is recorded as what it points at (/dev/zero)
    special = {"pipe.md", "zero", "sock.html"} | ({"device.txt"} if IS_ROOT else set())
    assert {name: kind for name, kind in rows.items() if name in special} == {name: "special_file" for name in special}
    assert rows["good.md"] == "loaded"


# --- item 9: leftovers and races --------------------------------------------------------------------

def test_glob_characters_in_a_warehouse_name_are_literal(tmp_path):
    """Was: a build of `wh[1].duckdb` deleted `wh1.duckdb`'s build in progress (a glob matched it)."""
    in_progress = tmp_path / f".wh1.duckdb.build-{os.getpid()}-0123abcd"
    in_progress.write_bytes(b"another warehouse's build")
    stale_own = tmp_path / f".wh[1].duckdb.build-{_dead_pid()}-89abcdef"
    stale_own.write_bytes(b"a killed build of this warehouse")
    _warehouse(tmp_path / "wh[1].duckdb")
    assert in_progress.exists()  # not ours: untouched
    assert not stale_own.exists()  # ours, left by a killed writer: removed
    assert connect_readonly(tmp_path / "wh[1].duckdb").execute("SELECT count(*) FROM reports").fetchone()[0] == 1


def test_two_writers_of_one_page_never_share_a_temporary(tmp_path):
    """Was: `gknb dashboard` wrote every page through a fixed `.index.html.tmp`, so two runs into
    one --out replaced each other's half-written file (FileNotFoundError, or a torn page)."""
    from gknb.quality.dashboard import _write

    page = tmp_path / "index.html"
    errors: list[BaseException] = []
    bodies = {name: f"<html>{name * 20000}</html>" for name in "ab"}

    def writer(name: str) -> None:
        try:
            for _ in range(150):
                _write(page, bodies[name])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert page.read_text(encoding="utf-8") in bodies.values()  # whole, one writer's
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_temporaries_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    """Was: a killed release (the nightly's publishing step), export or dashboard left its staging
    folder or part file forever. The next run removes those whose process is gone, and spares a
    live one's."""
    from gknb.quality.dashboard import _write
    from gknb.warehouse.export import export
    from gknb.warehouse.release import publish_release

    db = _warehouse(tmp_path / "warehouse.duckdb", "hongze_2023")
    dead, live = _dead_pid(), os.getpid()
    releases = tmp_path / "releases"
    releases.mkdir()
    (releases / f".20260101T000000Z.part-{dead}").mkdir()
    (releases / f".20260101T000000Z.part-{dead}" / "warehouse.duckdb").write_bytes(b"half a copy")
    (releases / f".latest.tmp-{dead}").symlink_to("20260101T000000Z")
    out = tmp_path / "export"
    out.mkdir()
    (out / f".export.part-{dead}-0a1b2c3d").mkdir()
    (out / f".export-{dead}.part").mkdir(exist_ok=True)  # the old name is not ours to know; left
    site = tmp_path / "site"
    site.mkdir()
    (site / f".index.html.tmp-{dead}-0a1b2c3d").write_text("half a page")
    (site / f".index.html.tmp-{live}-0a1b2c3d").write_text("a live writer's page")

    publish_release(db, releases, keep=3)
    export(db, out, "parquet")
    _write(site / "index.html", "<html></html>")

    assert not [p.name for p in releases.iterdir() if p.name.startswith(".") and str(dead) in p.name]
    assert not (out / f".export.part-{dead}-0a1b2c3d").exists()
    assert not (site / f".index.html.tmp-{dead}-0a1b2c3d").exists()
    assert (site / f".index.html.tmp-{live}-0a1b2c3d").exists()


# --- item 10: refuse to destroy ----------------------------------------------------------------------

@pytest.mark.parametrize("fresh", [True, False])
def test_ingest_refuses_a_db_that_is_not_a_warehouse(tmp_path, fresh):
    """Was: `gknb ingest --fresh --db report.pdf` replaced the PDF with a warehouse, exit 0."""
    report = tmp_path / "report.pdf"
    shutil.copy(SAMPLES / "pdf" / "hongze_2023.pdf", report)
    before = _sha(report)
    args = ["ingest", "--no-progress", "--workers", "1", "--db", str(report), str(REPORT)]
    done = _gknb(tmp_path, *(args + (["--fresh"] if fresh else [])))
    line = _one_line(done, "ingest")
    assert str(report) in line and "not a DuckDB warehouse" in line
    assert _sha(report) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["report.pdf"]  # no lock, no build


def test_every_writer_refuses_a_duckdb_database_that_is_not_a_gknb_warehouse(tmp_path):
    other = tmp_path / "analysis.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE my_results AS SELECT 42 AS answer")
    con.close()
    before = _sha(other)
    for args in (["ingest", "--fresh", "--no-progress", "--workers", "1", "--db", str(other), str(REPORT)],
                 ["check", "--no-progress", "--no-docs", "--db", str(other)]):
        line = _one_line(_gknb(tmp_path, *args), args[0])
        assert f"{other} is a DuckDB database but not a gknb warehouse" in line
    assert _sha(other) == before


# --- item 12: one line for every environment failure ---------------------------------------------------

def test_a_folder_as_db_is_one_line(tmp_path):
    folder = tmp_path / "wh.duckdb"
    folder.mkdir()
    for args in (["ingest", "--no-progress", "--workers", "1", "--db", str(folder), str(REPORT)],
                 ["check", "--no-progress", "--no-docs", "--db", str(folder)],
                 ["export", "--parquet", str(tmp_path / "x"), "--db", str(folder)]):
        line = _one_line(_gknb(tmp_path, *args), args[0])
        assert f"{folder}" in line and "it is a folder" in line, line
    assert list(folder.iterdir()) == []


def _mount_tmpfs(point: Path, size: str) -> None:
    point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], check=True)


def _umount(point: Path) -> None:
    subprocess.run(["umount", "-l", str(point)], check=False)


@needs_root
def test_a_full_disk_is_one_line_and_the_warehouse_is_untouched(tmp_path):
    """Was: 46 lines ending `cannot rollback - no transaction is active`, hiding the full disk."""
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "24m")
    try:
        db = _warehouse(disk / "wh.duckdb", "hongze_2023")
        checked = _gknb(tmp_path, "check", "--no-progress", "--no-docs", "--db", str(db))
        assert checked.returncode == 0, checked.stderr[-2000:]  # the dashboard needs a check run
        before = _sha(db)
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        # room for the build's copy and a little more, not for the new document's rows
        filler_size = free - db.stat().st_size - 96 * 1024
        with open(disk / "filler", "wb") as fh:
            fh.truncate(0)
            chunk = b"\0" * (1 << 20)
            while filler_size > 0:
                fh.write(chunk[: min(len(chunk), filler_size)])
                filler_size -= len(chunk)
        for args in (["ingest", "--no-progress", "--workers", "1", "--db", str(db), str(REPORT)],
                     ["check", "--no-progress", "--no-docs", "--db", str(db)]):
            line = _one_line(_gknb(tmp_path, *args), args[0])
            assert line.endswith("No space left on device") and str(disk) in line, line
        with open(disk / "filler", "ab", buffering=0) as fh:  # now quite full: the writers of small files fail too
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError:
                pass
        for args in (["export", "--out", str(disk / "export"), "--db", str(db)],
                     ["dashboard", "--out", str(disk / "dashboard"), "--db", str(db)]):
            line = _one_line(_gknb(tmp_path, *args), args[0])
            assert line.endswith("No space left on device") and str(disk) in line, line
        assert _sha(db) == before
        leftovers = sorted(p.name for p in disk.iterdir() if p.name.startswith(".") and p.name != ".lock")
        assert leftovers == [] and (disk / "wh.duckdb").exists()
    finally:
        _umount(disk)


@needs_root
def test_a_read_only_folder_is_one_line(tmp_path):
    """Was: `OSError … .lock` with a traceback."""
    disk = tmp_path / "ro"
    _mount_tmpfs(disk, "16m")
    try:
        db = _warehouse(disk / "wh.duckdb")
        before = _sha(db)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        for args in (["ingest", "--no-progress", "--workers", "1", "--db", str(db), str(REPORT)],
                     ["check", "--no-progress", "--no-docs", "--db", str(db)],
                     ["ingest", "--no-progress", "--workers", "1", "--db", str(disk / "new.duckdb"), str(REPORT)]):
            line = _one_line(_gknb(tmp_path, *args), args[0])
            assert line.endswith("Read-only file system") and str(disk) in line, line
        assert _sha(db) == before
    finally:
        _umount(disk)


@needs_root
def test_a_folder_without_write_permission_is_one_line(tmp_path):
    """A user who may not write beside the warehouse (root ignores modes: run as nobody)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs setpriv to run gknb as another user")
    place = tmp_path / "perm"
    place.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(place, 0o755)  # root's folder: others may read, not write
    db = _warehouse(place / "wh.duckdb")
    before = _sha(db)

    report = place / "report.md"
    shutil.copy(REPORT, report)
    os.chmod(report, 0o644)
    env = _env(tmp_path)
    env["XDG_CACHE_HOME"] = str(place / "no-cache")  # not writable either: the stamp is only skipped
    # every parent must be traversable by nobody
    parents = [p for p in tmp_path.parents if p != Path("/")]
    modes = {p: p.stat().st_mode for p in parents}
    try:
        for p in parents:
            os.chmod(p, modes[p] | 0o011)
        done = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                               GKNB, "ingest", "--no-progress", "--workers", "1", "--db", str(db), str(report)],
                              env=env, cwd="/", capture_output=True, text=True, timeout=300)
    finally:
        for p in parents:
            os.chmod(p, stat.S_IMODE(modes[p]))
    line = _one_line(done, "ingest")
    assert line.endswith("Permission denied") and str(place) in line, line
    assert _sha(db) == before


# --- item 2: a second writer says it waits ----------------------------------------------------------

HOLDER = r"""
import sys
from pathlib import Path
from gknb.warehouse.publish import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_second_writer_says_whom_it_waits_for(tmp_path):
    """Was: a second `gknb ingest` waited on the lock without a word."""
    db = _warehouse(tmp_path / "wh.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        second = subprocess.Popen([GKNB, "ingest", "--no-progress", "--workers", "1", "--db", str(db), str(REPORT)],
                                  env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(second.stderr.readline()), daemon=True)
        reader.start()
        reader.join(timeout=60)  # silence (the old behaviour) fails here instead of hanging
        assert lines and lines[0].strip() == f"gknb: waiting for the other writer of {db} (pid {holder.pid}) to finish"
        assert second.poll() is None  # still waiting, not failed
        holder.stdin.write("done\n")
        holder.stdin.flush()
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err
    finally:
        for process in (holder, locals().get("second")):
            if process is not None and process.poll() is None:
                process.kill()
    assert connect_readonly(db).execute("SELECT count(*) FROM reports").fetchone()[0] == 2
