"""Publishing for readers: every writer builds a new file and swaps it in atomically.

Analysts keep the warehouse open in the duckdb CLI while the nightly build runs. `building(db)`
copies the current warehouse to a new file in the same folder (same filesystem, so the swap is a
rename), yields a connection on the copy, and on success checkpoints, closes, fsyncs and
`os.replace`s it over the warehouse. A reader that has the old file open keeps its inode and goes
on querying the old data; the next reader to open the path sees the new data. On any error the
copy is deleted and the warehouse is untouched: nothing is ever half-loaded.

The published file is read-only (mode 0444), and nothing but a build ever writes it (issue 15.1).
The duckdb CLI opens read-write by default; a read-write session across a swap would write
`<db>.wal` beside the *new* file, and the next open would replay it there (by row position, onto
other rows). So:
- a published warehouse is opened with `duckdb -readonly warehouse.duckdb` (a default session is
  refused with "Permission denied": it cannot write, so it cannot corrupt);
- a `<db>.wal` beside the published file is never gknb's (builds write their own file), so it is
  stray: every build, and every gknb reader, moves it aside to `<db>.wal.stray-<UTC time>` and
  reports it as a warning. It is never copied into a build and never replayed.
(root ignores file permissions: an administrator's session can still write; its WAL is then set
aside by the next gknb run instead of being replayed.)

Writers are serialised by an exclusive lock on `<db>.lock`, so two builds never both start from
the same old warehouse and lose one another's work; a writer that has to wait says so, naming the
pid of the writer it waits for. Before anything is written, `building` refuses a `--db` that is a
folder or an existing file that is not a gknb warehouse (DuckDB's header and a `documents` table):
a typo must not replace a report with a warehouse. Disk full, read-only folders and permissions
end as one line (`gknb.errors.EnvironmentFailure`) naming the path, the old warehouse untouched.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from gknb.errors import EnvironmentFailure, as_environment_failure, environment_failure
from gknb.warehouse.errors import PublishError

PUBLISHED_MODE = 0o444  # read-only for everyone: only a build (a new file, swapped in) changes it
# A DuckDB database file carries this magic at byte 8 (after the header checksum).
DUCKDB_MAGIC = b"DUCK"
# The table every gknb warehouse has (created by the first build, before it is ever published).
WAREHOUSE_TABLE = "documents"

Notify = Callable[[str], None]


def _stderr(message: str) -> None:
    print(f"gknb: {message}", file=sys.stderr, flush=True)


# --- names --------------------------------------------------------------------------------------

def build_path(db: Path) -> Path:
    """A fresh file beside the warehouse (hidden, so walkers skip it; unique per writer)."""
    return db.with_name(f".{db.name}.build-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _build_pattern(db: Path) -> re.Pattern:
    # exact, not a glob: `wh[1].duckdb` must never match another warehouse's builds
    return re.compile(rf"\.{re.escape(db.name)}\.build-\d+-[0-9a-f]{{8}}(\.wal)?")


def unique_temp(target: Path | str, tag: str = "part") -> Path:
    """A hidden temporary name beside `target`, unique per process and call (`.name.part-<pid>-<rand>`)."""
    target = Path(target)
    return target.with_name(f".{target.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def remove_stale(folder: Path | str, name: str | None, tag: str = "part") -> list[Path]:
    """Remove temporaries named like `unique_temp(folder/name, tag)` whose process is gone.

    A run killed between creating a temporary and renaming it leaves `.name.tag-<pid>-<rand>`
    (a file or a folder); the next run calls this first. Only names whose pid is no longer alive
    are removed, so a concurrent run's temporary is spared. Matching is by exact name (`name=None`:
    any name), never a glob, so glob characters in names are literal."""
    folder = Path(folder)
    head = re.escape(f".{name}") if name is not None else r"\..+"
    pattern = re.compile(rf"{head}\.{re.escape(tag)}-(\d+)(?:-[0-9a-f]+)?")
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if not found or _alive(int(found.group(1))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # not ours to fight over; the next run tries again
    return removed


# --- what a warehouse is ------------------------------------------------------------------------

def check_target(db: Path, *, tables: bool = True) -> None:
    """Refuse a `--db` that no writer may replace: a folder, or a file that is not a gknb warehouse.

    A missing file is fine (the first build creates it). Reads only the header and, with `tables`,
    the DuckDB file's table list (read-only)."""
    if db.is_dir():
        raise EnvironmentFailure(f"cannot use {db} as a warehouse: it is a folder")
    if not db.exists():
        if db.is_symlink():
            raise EnvironmentFailure(f"cannot use {db} as a warehouse: it is a broken symbolic link")
        return
    if not db.is_file():
        raise PublishError(f"{db} is not a regular file; refusing to replace it with a warehouse")
    try:
        with open(db, "rb") as fh:
            header = fh.read(12)
    except OSError as exc:
        raise environment_failure(exc, db, "read") from None
    if header[8:12] != DUCKDB_MAGIC:
        raise PublishError(f"{db} exists and is not a DuckDB warehouse; refusing to replace it "
                           "(give --db a new file name or an existing gknb warehouse)")
    if tables and not _has_documents_table(db):
        raise PublishError(f"{db} is a DuckDB database but not a gknb warehouse (no `{WAREHOUSE_TABLE}` table); "
                           "refusing to replace it")


def _has_documents_table(db: Path) -> bool:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_sql_path(db)}' AS target (READ_ONLY)")
        return bool(con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'target' AND schema_name = 'main' "
            "AND table_name = ?", [WAREHOUSE_TABLE]).fetchone()[0])
    except duckdb.Error as exc:
        raise _open_failure(db, exc) from None
    finally:
        con.close()


def _sql_path(db: Path) -> str:
    return str(db).replace("'", "''")


def _open_failure(db: Path, exc: Exception) -> Exception:
    """One line for a warehouse DuckDB could not open."""
    text = " ".join(str(exc).split())
    held = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", text)
    if held:
        return PublishError(f"{db} is open read-write by another program (pid {held.group(1)}); a published "
                            "warehouse is read-only - close that session and open it with `duckdb -readonly`")
    found = _environment_reason(exc)
    if found:
        return EnvironmentFailure(f"cannot read {db}: {found}")
    return PublishError(f"{db}: cannot open the warehouse: {text}")


# --- stray WAL files ----------------------------------------------------------------------------

def set_aside_stray_wal(db: Path, notify: Notify | None = None, *, report: bool = True) -> Path | None:
    """Move `<db>.wal` (never gknb's: builds write their own file) to `<db>.wal.stray-<UTC time>`.

    It was written by a read-write session outside gknb - across a swap it belongs to another file,
    and replaying it would apply its changes to the wrong rows. Returns the new name, or None."""
    wal = Path(f"{db}.wal")
    if not wal.exists():
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = Path(f"{wal}.stray-{stamp}-{uuid.uuid4().hex[:6]}")
    try:
        os.replace(wal, aside)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise environment_failure(exc, wal, "move aside") from None
    if report:
        _report_stray(wal, aside, notify)
    return aside


def _report_stray(wal: Path, aside: Path, notify: Notify | None) -> None:
    (notify or _stderr)(f"warning: {wal} was written by a session outside gknb (published warehouses are "
                        f"read-only); moved aside to {aside.name}, not replayed")


# --- the writer lock ----------------------------------------------------------------------------

def _lock_path(db: Path) -> Path:
    return db.with_name(f"{db.name}.lock")


@contextmanager
def writer_lock(db: Path, notify: Notify | None = None) -> Iterator[None]:
    """Exclusive lock for the duration of one build. Waits for the previous writer, saying so once."""
    lock_path = _lock_path(db)
    try:
        fh = open(lock_path, "a+b")
    except OSError as exc:
        raise environment_failure(exc, lock_path, "write") from None
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read(32).decode("ascii", "replace").strip()
            who = f"pid {holder}" if holder.isdigit() else "another process"
            (notify or _stderr)(f"waiting for the other writer of {db} ({who}) to finish")
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n".encode())
            fh.flush()
        except OSError:
            pass  # the pid is only a courtesy to a waiting writer
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --- environment failures -----------------------------------------------------------------------

def _environment_reason(exc: BaseException | None) -> str | None:
    failure = as_environment_failure(exc) if exc is not None else None
    return str(failure).rsplit(": ", 1)[-1] if failure is not None else None


def _as_environment_failure(exc: BaseException, db: Path) -> EnvironmentFailure | None:
    """A full disk, read-only folder or permission, named by the warehouse (what the user gave)."""
    if isinstance(exc, EnvironmentFailure):
        return exc
    return as_environment_failure(exc, db)


# --- building -----------------------------------------------------------------------------------

@contextmanager
def building(db: Path | str, *, fresh: bool = False,
             notify: Notify | None = None) -> Iterator["duckdb.DuckDBPyConnection"]:  # noqa: F821
    """A connection on a build copy of `db`, swapped in atomically when the block succeeds.

    `fresh=True` starts from an empty warehouse instead of a copy (a full rebuild). The schema
    (tables, catalog, views) is created or brought up to date before the connection is yielded.
    `notify` receives warnings (a stray WAL set aside, a wait for another writer); default stderr.
    Refuses a `db` that exists and is not a gknb warehouse, with `fresh` too.
    """
    import duckdb

    from gknb.warehouse.schema import create_all

    db = Path(db).absolute()
    if db.exists() or db.is_symlink():
        db = db.resolve()
    check_target(db, tables=False)  # before the lock: a folder or a report must not even get a .lock beside it
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise environment_failure(exc, db.parent, "create") from None
    with writer_lock(db, notify):
        # a stray WAL is set aside before the table check (DuckDB would replay it, even read-only)
        # and put back if the file turns out not to be ours: another program's database keeps its WAL
        aside = set_aside_stray_wal(db, report=False)
        try:
            check_target(db)  # under the lock: another writer may have published meanwhile
        except BaseException:
            if aside is not None:
                os.replace(aside, Path(f"{db}.wal"))
            raise
        if aside is not None:
            _report_stray(Path(f"{db}.wal"), aside, notify)
        remove_stale_builds(db, _build_pattern(db))
        tmp = build_path(db)
        try:
            if db.exists() and not fresh:
                shutil.copyfile(db, tmp)  # the file alone: a WAL is never copied into a build
            con = duckdb.connect(str(tmp))
        except (OSError, duckdb.Error) as exc:
            _discard(tmp)
            failure = _as_environment_failure(exc, db)
            if failure:
                raise failure from None
            raise PublishError(f"cannot start a build of {db}: {' '.join(str(exc).split())}") from exc
        try:
            create_all(con)
            yield con
            con.execute("CHECKPOINT")
            con.close()
        except BaseException as exc:
            try:
                con.close()
            except Exception:
                pass  # closing after a full disk fails too; the copy is deleted anyway
            _discard(tmp)
            failure = _as_environment_failure(exc, db)
            if failure is not None and failure is not exc:
                raise failure from None
            raise
        try:
            if Path(f"{tmp}.wal").exists():
                raise PublishError(f"{tmp}: a WAL file remains after CHECKPOINT; not publishing")
            os.chmod(tmp, PUBLISHED_MODE)
            _fsync_file(tmp)
            os.replace(tmp, db)
            # a session on the old file wrote its WAL during the build: it belongs to the old file
            set_aside_stray_wal(db, notify)
            _fsync_dir(db.parent)
        except BaseException as exc:
            _discard(tmp)
            failure = _as_environment_failure(exc, db)
            if failure is not None and failure is not exc:
                raise failure from None
            raise


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def remove_stale_builds(db: Path, pattern: re.Pattern | None = None) -> None:
    """Delete build files a killed writer left behind: under the writer lock no other build runs.

    Names are matched exactly (not as a glob), so `wh[1].duckdb` never touches `wh1.duckdb`'s build."""
    pattern = pattern or _build_pattern(db)
    try:
        entries = list(os.scandir(db.parent))
    except OSError:
        return
    for entry in entries:
        if pattern.fullmatch(entry.name):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass


_remove_stale_builds = remove_stale_builds  # the name earlier callers used


# --- reading ------------------------------------------------------------------------------------

def connect_readonly(db: Path | str, notify: Notify | None = None):
    """A read-only connection to the warehouse as published now (what analysts and checks read).

    `duckdb.connect(path)` reuses a database already open in this process under the same path, so
    a long-lived process would go on seeing the file it first opened, even after a swap. Attaching
    the file to a fresh in-memory database opens the current file every time. A stray `<db>.wal`
    is moved aside first (when no build holds the writer lock), since DuckDB would replay it even
    read-only.
    """
    import duckdb

    db = Path(db)
    if db.is_dir():
        raise EnvironmentFailure(f"cannot use {db} as a warehouse: it is a folder")
    if not db.exists():
        raise PublishError(f"{db}: no warehouse here; run `gknb ingest` first")
    if Path(f"{db}.wal").exists():
        _refuse_if_open_for_writing(db)  # a live session's WAL is its own: not set aside under it
        _set_aside_if_idle(db.resolve(), notify)
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_sql_path(db.resolve())}' AS warehouse (READ_ONLY)")
        con.execute("USE warehouse")
    except duckdb.Error as exc:
        con.close()
        raise _open_failure(db, exc) from None
    return con


def _refuse_if_open_for_writing(db: Path) -> None:
    """A one-line error when another program holds the file open read-write (DuckDB's lock)."""
    import duckdb

    probe = duckdb.connect(":memory:")
    try:
        probe.execute(f"ATTACH '{_sql_path(db.resolve())}' AS probe (READ_ONLY)")
    except duckdb.Error as exc:
        if "Conflicting lock" in str(exc):
            raise _open_failure(db, exc) from None
    finally:
        probe.close()


def _set_aside_if_idle(db: Path, notify: Notify | None) -> None:
    """Set a stray WAL aside unless a build holds the lock (it sets it aside when it publishes)."""
    try:
        fh = open(_lock_path(db), "a+b")
    except OSError:
        return  # a read-only folder: no build can run here either; DuckDB reports what it finds
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        try:
            set_aside_stray_wal(db, notify)
        except EnvironmentFailure:
            pass
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
