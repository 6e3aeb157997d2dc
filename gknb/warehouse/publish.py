"""Publishing for readers: every writer builds a new file and swaps it in atomically.

Analysts keep the warehouse open in the duckdb CLI while the nightly build runs. `building(db)`
copies the current warehouse to a new file in the same folder (same filesystem, so the swap is a
rename), yields a connection on the copy, and on success checkpoints, closes, fsyncs and
`os.replace`s it over the warehouse. A reader that has the old file open keeps its inode and goes
on querying the old data; the next reader to open the path sees the new data. On any error the
copy is deleted and the warehouse is untouched: nothing is ever half-loaded.

Writers are serialised by an exclusive lock on `<db>.lock`, so two builds never both start from
the same old warehouse and lose one another's work.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gknb.warehouse.errors import PublishError


def build_path(db: Path) -> Path:
    """A fresh file beside the warehouse (hidden, so walkers skip it)."""
    return db.with_name(f".{db.name}.build-{os.getpid()}-{uuid.uuid4().hex[:8]}")


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


def _remove_stale_builds(db: Path) -> None:
    """Delete build files a killed writer left behind: under the writer lock no other build runs."""
    for stale in db.parent.glob(f".{db.name}.build-*"):
        try:
            stale.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def writer_lock(db: Path) -> Iterator[None]:
    """Exclusive lock for the duration of one build (blocks until the previous writer is done)."""
    lock_path = db.with_name(f"{db.name}.lock")
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def building(db: Path | str, *, fresh: bool = False) -> Iterator["duckdb.DuckDBPyConnection"]:  # noqa: F821
    """A connection on a build copy of `db`, swapped in atomically when the block succeeds.

    `fresh=True` starts from an empty warehouse instead of a copy (a full rebuild). The schema
    (tables, catalog, views) is created or brought up to date before the connection is yielded.
    """
    import duckdb

    from gknb.warehouse.schema import create_all

    db = Path(db).resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(db):
        _remove_stale_builds(db)
        tmp = build_path(db)
        try:
            if db.exists() and not fresh:
                shutil.copyfile(db, tmp)
                wal = Path(f"{db}.wal")
                if wal.exists():  # a writer outside gknb left un-checkpointed changes: keep them
                    shutil.copyfile(wal, Path(f"{tmp}.wal"))
            con = duckdb.connect(str(tmp))
        except (OSError, duckdb.Error) as exc:
            _discard(tmp)
            raise PublishError(f"cannot start a build of {db}: {exc}") from exc
        try:
            create_all(con)
            yield con
            con.execute("CHECKPOINT")
            con.close()
        except BaseException:
            try:
                con.close()
            finally:
                _discard(tmp)
            raise
        try:
            if Path(f"{tmp}.wal").exists():
                raise PublishError(f"{tmp}: a WAL file remains after CHECKPOINT; not publishing")
            _fsync_file(tmp)
            os.replace(tmp, db)
            stale_wal = Path(f"{db}.wal")
            if stale_wal.exists():  # belonged to the old file; would be replayed onto the new one
                stale_wal.unlink()
            _fsync_dir(db.parent)
        except BaseException:
            _discard(tmp)
            raise


def connect_readonly(db: Path | str):
    """A read-only connection to the warehouse as published now (what analysts and checks read).

    `duckdb.connect(path)` reuses a database already open in this process under the same path, so
    a long-lived process would go on seeing the file it first opened, even after a swap. Attaching
    the file to a fresh in-memory database opens the current file every time.
    """
    import duckdb

    db = Path(db)
    if not db.exists():
        raise PublishError(f"{db}: no warehouse here; run `gknb ingest` first")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{str(db.resolve()).replace(chr(39), chr(39) * 2)}' AS warehouse (READ_ONLY)")
        con.execute("USE warehouse")
    except duckdb.Error as exc:
        con.close()
        raise PublishError(f"{db}: cannot open the warehouse: {exc}".splitlines()[0]) from exc
    return con
