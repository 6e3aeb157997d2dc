"""The one route from files to a published warehouse (issue 9.3):

    inputs → walk (skip special files) → hash → skip unchanged → extraction pool (one process per
    worker, crash isolation, per-document timeout) → load in groups, streaming → crawl fetches →
    rollups → run record, all inside ONE `publish.building`, swapped in atomically.

`gknb ingest`, `gknb crawl` (gknb.crawl.load), the Prefect flows (gknb.flows.ingest, nightly) all
call `ingest`. The flows pass their own `extractor` (groups of documents as Prefect tasks); the
rest of the route is the same code.

Memory is bounded by design (issue 14.1): jobs are generated lazily (hashing in chunks, the
warehouse asked which are known chunk by chunk), at most `in_flight` documents are between the
pool and the loader, the loader holds one commit group, and the run keeps counters plus a bounded
sample of rejected documents - never one object per document of the batch. What does grow with the
batch is the list of input paths and a digest per extracted file (to spot a second copy of the
same bytes): about 400 bytes a file, 60 MB at 150,000 files.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import signal
import stat
import threading
import time
import uuid
from collections import deque
from collections.abc import Sized
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from gknb.warehouse.errors import IngestError
from gknb.warehouse.types import DocumentOutcome, ExtractedDocument, IngestRun, SourceInfo

__all__ = [
    "ingest", "SourceDoc", "Job", "ProcessExtractor", "extract_document", "iter_inputs",
    "default_workers", "extract_timeout", "stop_on_signals", "GROUP_SIZE",
]

# Documents per commit: a commit costs a WAL fsync, so one per document would cost more than
# extracting a text report. 1024 documents are about 200,000 cells, more than a DuckDB row group
# (122,880 rows): DuckDB then writes the cells straight to the database file (compressed, once)
# instead of into the WAL at the commit and again at the checkpoint - a fifth less loading time
# than groups of 256 (measured on 1,000 generated reports). A group held before its commit is
# about 85 MB (~83 KB per extracted document).
GROUP_SIZE = 1024
# Files hashed, and looked up in the warehouse, per query.
HASH_CHUNK = 256
# Files known up front (a folder, a list) are looked up in bigger chunks: each lookup scans the
# recorded document ids once, so at 150,000 recorded documents 586 lookups of 256 cost ~30 s of a
# night where nothing changed. A stream (a crawl going on) keeps HASH_CHUNK, so extraction starts
# after 256 documents, not thousands.
BULK_HASH_CHUNK = 8192
# Rejected documents kept in IngestRun.rejected_sample for the caller to show; the rest are in
# `documents` (status 'rejected', run_id of the run).
REJECTED_SAMPLE = 200
# Used until gknb.settings (owner P2) exists; schemas/limits.yaml documents the real default.
DEFAULT_EXTRACT_TIMEOUT = 300.0
# Files that are never reports: crawl logs and manifests, lock and database files, editor debris.
SKIP_SUFFIXES = (".jsonl", ".duckdb", ".wal", ".lock", ".tmp", ".part", ".pyc")
WORKERS_ENV = "GKNB_EXTRACT_WORKERS"
# Documents a worker extracts before it is replaced by a fresh one: the extractors' caches and any
# leak in native PDF code stay bounded over a run of 150,000 files; a restart (~1-2 s) every few
# thousand documents costs about 1-2%.
MAX_PER_WORKER = 5000
# The loader's DuckDB memory (see `ingest`). Loading never reads back the cells it writes, yet
# DuckDB keeps the blocks it wrote cached up to its cap, so under a bigger cap the loading process
# grew with the batch. 64 MB is full within the first ~20,000 reports, and loading is no slower
# (bench/results/national.md).
DUCKDB_MEMORY_LIMIT = "64MB"
# The rollups' refresh scans every cell and fills its cap with cached blocks: 256 MB keeps the end
# of a run under what extraction needed; 128 MB is too little for a GROUP BY ALL of its views
# (bench/results/rollups.md).
ROLLUP_MEMORY_LIMIT = "256MB"


@dataclass(frozen=True)
class SourceDoc:
    """A file with where it came from (the crawler's URL and validators): the URL identifies it."""

    path: Path | str
    source: SourceInfo | None = None


@dataclass
class Job:
    """One document on its way through the pool: picklable (it crosses into Prefect tasks)."""

    path: str
    sha256: str
    size: int
    source: SourceInfo | None = None
    ready: ExtractedDocument | None = None  # decided without extraction (special file, a second copy)


# --------------------------------------------------------------------------------------------
# Settings


def default_workers() -> int:
    """Extraction worker processes by default: GKNB_EXTRACT_WORKERS, else one per core available.

    Measured on an idle 2-core machine (bench/results/national.md, "Worker processes"): 2,000
    generated reports took 40-50 s with 1 worker and 26-32 s with 2, for 14% more CPU and 20 MB
    more memory. The loader (the parent) needs about a tenth of a core and overlaps with the
    workers, so it does not need a core of its own.
    """
    value = os.environ.get(WORKERS_ENV)
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise IngestError(f"{WORKERS_ENV}={value!r}: not a number of workers") from None
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def extract_timeout() -> float | None:
    """Seconds one document may take to extract (limits().extract_timeout_seconds, owner P2)."""
    try:
        from gknb.settings import limits
    except ImportError:  # gknb.settings not there yet
        return DEFAULT_EXTRACT_TIMEOUT
    value = getattr(limits(), "extract_timeout_seconds", DEFAULT_EXTRACT_TIMEOUT)
    return float(value) if value else None


def new_run_id() -> str:
    from gknb.warehouse.load import utcnow

    return utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


# --------------------------------------------------------------------------------------------
# Inputs


def _skipped(name: str) -> bool:
    return name.startswith(".") or name.endswith("~") or Path(name).suffix.lower() in SKIP_SUFFIXES


def iter_inputs(inputs: Iterable[str | Path | SourceDoc]) -> Iterator[tuple[Path, SourceInfo | None]]:
    """(file, source) for every input: given files as they are, folders walked in name order
    (hidden files and SKIP_SUFFIXES skipped), SourceDocs with their source. A file named twice is
    yielded once (a path by its resolved location, a SourceDoc by its URL)."""
    seen: set = set()
    for given in inputs:
        source = None
        if isinstance(given, SourceDoc):
            given, source = Path(given.path), given.source
        p = Path(given)
        if not os.path.lexists(p):
            raise IngestError(f"{p}: no such file or folder")
        if p.is_dir() and source is None:
            candidates = _walk(p)
        else:
            candidates = iter((p,))
        for c in candidates:
            c = os.path.realpath(c)  # a str: 150,000 of them stay a few tens of MB
            key = source.url if source is not None and source.url else c
            if key not in seen:
                seen.add(key)
                yield Path(c), source


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if not _skipped(f):
                yield Path(root) / f


def iter_documents(paths: Iterable[str | Path]) -> list[Path]:
    """The files an ingest of `paths` reads, in order."""
    return [p for p, _ in iter_inputs(paths)]


def sha256_file(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _special_kind(path: Path) -> str | None:
    """'a FIFO', 'a device'… for what is not a regular file (read, it would block or never end)."""
    try:
        mode = os.stat(path).st_mode  # follows a symlink: a link to /dev/zero is a device
    except OSError:
        return None  # unreadable: extraction says why
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


# --------------------------------------------------------------------------------------------
# Extraction of one document (runs in the worker processes)


def extract_document(path: str | Path) -> ExtractedDocument:
    """Extract one file; never raises for a bad document (the error is in the result). Picklable."""
    from gknb import extractors

    path = Path(path).resolve()
    started = time.perf_counter()
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ExtractedDocument(str(path), "", 0, error=f"cannot read: {exc.strerror or exc}",
                                 error_kind="unreadable", seconds=time.perf_counter() - started)
    doc = ExtractedDocument(str(path), hashlib.sha256(data).hexdigest(), len(data))
    try:
        doc.format = extractors.sniff_format(data, str(path))
        doc.extraction = extractors.extract_bytes(data, source=str(path))
    except extractors.ExtractError as exc:
        doc.error, doc.error_kind = _one_line(str(exc)), getattr(exc, "kind", None) or "unreadable"
    except Exception as exc:  # an extractor bug on one document must not stop the batch
        if _is_config_error(exc):
            raise  # a broken schemas/ file is the run's error, not this document's (issue 9.6)
        doc.error, doc.error_kind = _one_line(f"extractor failed: {type(exc).__name__}: {exc}"), "internal"
    doc.seconds = time.perf_counter() - started
    return doc


def _is_config_error(exc: BaseException) -> bool:
    from gknb.errors import ConfigError

    return isinstance(exc, ConfigError)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def _failed(job: Job, reason: str, kind: str) -> ExtractedDocument:
    return ExtractedDocument(job.path, job.sha256, job.size, error=_one_line(reason), error_kind=kind)


# --------------------------------------------------------------------------------------------
# The extraction pool


class Extractor(Protocol):
    """What turns jobs into extracted documents, in job order (the loader's order decides which of
    two versions supersedes the other, so it must not depend on which worker finished first)."""

    def map(self, jobs: Iterable[Job]) -> Iterator[tuple[ExtractedDocument, Job]]: ...


_READY = "ready"  # a worker's first message: started and imported, documents' clocks may run
# Set by `stop_on_signals` on SIGTERM: pools running in other threads than the main one (Prefect
# task threads) stop at their next wake-up, at most _WAKE seconds later, and kill their workers.
_STOPPING = threading.Event()
_WAKE = 1.0


class Stopped(Exception):
    """A pool was told to stop (SIGTERM) while it extracted in a thread other than the main one."""


class _ConfigFailure(Exception):
    """A worker hit a configuration error (gknb.errors.ConfigError): re-raised in the parent."""


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the process that started it dies (even by
    SIGKILL), so no worker outlives a killed ingest."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(0)
    except (OSError, AttributeError):
        pass


# Documents sent to a worker at once: the one it extracts and the next, waiting in its pipe, so
# it goes on while this process is busy (loading a group, crawling, Prefect) instead of waiting
# for it to collect a result and send the next path.
WORKER_DEPTH = 2
# The workers' scheduling priority under the parent's (os.nice): on a machine as busy as the
# workers make it, the parent's share (a crawl, hashing, loading: what gives the workers their
# documents) comes first (bench/results/workers.md).
WORKER_NICENESS = 10


def _worker_main(conn, extract: Callable, die_with_parent: bool) -> None:
    """A worker process: extract the paths the parent sends, one at a time, until told to stop or
    the parent is gone (EOF on the pipe)."""
    if die_with_parent:
        _die_with_parent()
    try:  # below the process that feeds the workers: its crawl and loading never wait for them
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    # The pool already has a process per core: OCR's onnxruntime must not start a thread per core
    # in each of them (all cores per process cost 1.4x the CPU of one thread on a loaded machine).
    os.environ.setdefault("GKNB_OCR_THREADS", "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:  # the extractors' imports (seconds on a busy machine) must not count against a document's time
        import gknb.extractors  # noqa: F401
    except Exception:  # noqa: BLE001 - the first document will report it
        pass
    try:
        conn.send(_READY)
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        seq, path = message
        try:
            result = extract(path)
        except Exception as exc:  # noqa: BLE001
            if _is_config_error(exc):
                result = _ConfigFailure(str(exc))
            else:
                result = ExtractedDocument(str(path), "", 0, error=_one_line(
                    f"extractor failed: {type(exc).__name__}: {exc}"), error_kind="internal")
        try:
            conn.send((seq, result))
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - the result does not pickle
            conn.send((seq, ExtractedDocument(str(path), "", 0, error=_one_line(
                f"extraction result could not be returned: {type(exc).__name__}: {exc}"), error_kind="internal")))


class _Worker:
    def __init__(self, ctx, extract: Callable):
        parent, child = ctx.Pipe(duplex=True)
        die = threading.current_thread() is threading.main_thread()  # PDEATHSIG follows the creating thread
        # daemon: multiprocessing terminates it when this process exits, whatever thread made it
        self.process = ctx.Process(target=_worker_main, args=(child, extract, die), name="gknb-extract", daemon=True)
        self.process.start()
        child.close()
        self.conn = parent
        self.ready = False
        self.done = 0  # documents it returned
        self.slots: deque[_Slot] = deque()  # sent, in order: the first is the one it extracts
        self.deadline: float | None = None

    def stop(self, kill: bool = False) -> None:
        if not kill and self.process.is_alive():
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()
        self.process.close()


class _Slot:
    __slots__ = ("job", "result")

    def __init__(self, job: Job, result: ExtractedDocument | None = None):
        self.job, self.result = job, result


class ProcessExtractor:
    """Extraction in `workers` spawned processes, each one document at a time (the next one sent
    ahead, WORKER_DEPTH).

    - crash isolation: a worker that dies (a crash in native PDF or OCR code) costs only the
      document it held, rejected as `internal`; a new worker takes its place;
    - timeout: a document past `timeout` seconds has its worker killed and replaced and is rejected
      as `timeout`; the batch goes on;
    - bounded: at most `in_flight` documents between the job source and the consumer.

    Use as a context manager (the workers stop at its end, also on an exception or a signal).
    """

    def __init__(self, workers: int = 1, timeout: float | None = None, extract: Callable = extract_document,
                 in_flight: int | None = None, max_per_worker: int | None = MAX_PER_WORKER):
        self.workers = max(1, workers)
        self.timeout = timeout
        self.extract = extract
        self.in_flight = in_flight or max(8, 4 * self.workers)
        self.max_per_worker = max_per_worker
        self._ctx = multiprocessing.get_context("spawn")
        self._pool: list[_Worker] = []

    def __enter__(self) -> "ProcessExtractor":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.close(kill=exc_type is not None)
        return False

    def close(self, kill: bool = False) -> None:
        pool, self._pool = self._pool, []
        for w in pool:
            w.stop(kill=kill or bool(w.slots))

    def map(self, jobs: Iterable[Job]) -> Iterator[tuple[ExtractedDocument, Job]]:
        source = iter(jobs)
        window: deque[_Slot] = deque()
        queued: deque[_Slot] = deque()
        exhausted = False
        seq = itertools.count()
        try:
            while True:
                while not exhausted and len(window) < self.in_flight:
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    slot = _Slot(job, job.ready)
                    window.append(slot)
                    if slot.result is None:
                        queued.append(slot)
                self._dispatch(queued, seq)
                while window and window[0].result is not None:
                    slot = window.popleft()
                    yield slot.result, slot.job
                if not window:
                    if exhausted:
                        return
                    continue
                self._wait(queued)  # the head of the window is in a worker, or waits for one
        except BaseException:
            self.close(kill=True)
            raise

    def _dispatch(self, queued: deque, seq) -> None:
        while queued:
            worker = self._next_worker()
            if worker is None:
                return
            slot = queued.popleft()
            try:
                worker.conn.send((next(seq), slot.job.path))
            except (BrokenPipeError, OSError):  # it died
                ready, held = worker.ready, self._replace(worker)
                if held and ready:  # the one it was extracting killed it; the rest go to the others
                    held[0].result = _failed(held[0].job, "extraction crashed its worker process", "internal")
                    held = held[1:]
                queued.extendleft(reversed([*held, slot]))
                continue
            worker.slots.append(slot)
            if len(worker.slots) == 1:
                self._start_clock(worker)

    def _next_worker(self) -> _Worker | None:
        """An idle worker, else a new one (up to `workers`), else one with room for a document
        sent ahead - never past its `max_per_worker`, so a retiring worker holds none."""
        def room(w: _Worker, depth: int) -> bool:
            return len(w.slots) < depth and not (self.max_per_worker and w.done + len(w.slots) >= self.max_per_worker)

        idle = next((w for w in self._pool if room(w, 1)), None)
        if idle is not None:
            return idle
        if len(self._pool) < self.workers:
            worker = _Worker(self._ctx, self.extract)
            self._pool.append(worker)
            return worker
        return next((w for w in self._pool if room(w, WORKER_DEPTH)), None)

    def _start_clock(self, worker: _Worker) -> None:
        """A document's time runs from when a ready worker starts it: when it is sent to an idle
        worker, or when the worker returns the one before it."""
        worker.deadline = time.monotonic() + self.timeout if self.timeout and worker.ready else None

    def _wait(self, queued: deque) -> None:
        busy = [w for w in self._pool if w.slots]
        if not busy:
            return
        if _STOPPING.is_set():
            raise Stopped("stopped by a signal")
        deadlines = [w.deadline for w in busy if w.deadline is not None]
        wait_for = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        if threading.current_thread() is not threading.main_thread():
            wait_for = _WAKE if wait_for is None else min(wait_for, _WAKE)
        ready = set(wait_ready([w.conn for w in busy] + [w.process.sentinel for w in busy], wait_for))
        now = time.monotonic()
        for w in busy:
            if w.conn in ready or w.process.sentinel in ready:
                self._collect(w, queued)
            elif w.deadline is not None and now >= w.deadline:
                slot = w.slots[0]
                slot.result = _failed(slot.job, f"extraction took longer than {self.timeout:g} s "
                                      "(limit extract_timeout_seconds); stopped", "timeout")
                queued.extendleft(reversed(self._replace(w, kill=True)[1:]))  # sent ahead: extracted elsewhere

    def _collect(self, w: _Worker, queued: deque) -> None:
        slot = w.slots[0]
        try:
            if w.conn.poll():
                message = w.conn.recv()
                if message == _READY:
                    w.ready = True
                    self._start_clock(w)
                    return
                _, result = message
                if isinstance(result, _ConfigFailure):
                    from gknb.errors import ConfigError

                    raise ConfigError(str(result))
                if not result.sha256:  # the worker could not hash it: keep the parent's identity
                    result.sha256, result.size = slot.job.sha256, slot.job.size
                slot.result = result
                w.slots.popleft()
                w.deadline = None
                if w.slots:  # it has started the one sent ahead
                    self._start_clock(w)
                w.done += 1
                if self.max_per_worker and w.done >= self.max_per_worker:
                    self._replace(w, kill=False)  # retired: a fresh one starts when needed
                return
        except (EOFError, OSError):
            pass
        if not w.ready:
            # It died before it could take any document: the environment, not this document (a
            # worker that cannot import gknb would otherwise reject every file of the batch).
            code = w.process.exitcode
            self._replace(w, kill=True)
            raise IngestError(f"an extraction worker process could not start (exit code {code}); nothing was loaded")
        slot.result = _failed(slot.job, "extraction crashed its worker process", "internal")
        queued.extendleft(reversed(self._replace(w, kill=True)[1:]))  # sent ahead: extracted elsewhere

    def _replace(self, w: _Worker, kill: bool = True) -> list[_Slot]:
        """Stops `w`; returns the documents it held, in the order they were sent."""
        self._pool.remove(w)
        held, w.slots = list(w.slots), deque()
        w.stop(kill=kill)
        return held


# --------------------------------------------------------------------------------------------
# The route


class _Loader:
    """Collects extracted documents and commits them `group_size` at a time (gknb.warehouse.load)."""

    def __init__(self, con, run: IngestRun, group_size: int, retry_rejected: bool, advance: Callable):
        self.con, self.run, self.group_size, self.retry_rejected = con, run, group_size, retry_rejected
        self.pending: list[tuple[ExtractedDocument, SourceInfo | None]] = []
        self.advance = advance

    def add(self, doc: ExtractedDocument, source: SourceInfo | None) -> None:
        self.run.extract_seconds += doc.seconds
        self.pending.append((doc, source))
        if len(self.pending) >= self.group_size:
            self.flush()
        self.advance(1)  # extracted; the run's counts move at each commit

    def flush(self) -> None:
        from gknb.warehouse.load import load_documents

        if not self.pending:
            return
        outcomes = load_documents(self.con, self.pending, run_id=self.run.run_id, retry_rejected=self.retry_rejected)
        self.pending = []
        for outcome in outcomes:
            self.run.count(outcome)


def _jobs(con, files: Iterable[tuple[Path, SourceInfo | None]], run: IngestRun, retry_rejected: bool,
          advance: Callable, chunk_size: int = HASH_CHUNK) -> Iterator[Job]:
    """Jobs for the files not recorded yet, hashed and looked up `chunk_size` at a time."""
    from gknb.warehouse.load import document_id

    # sha256 (its first 16 bytes) → the file in this batch extracted for it: ~200 bytes a file
    first_copy: dict[bytes, str] = {}
    files = iter(files)
    while True:
        chunk = list(itertools.islice(files, chunk_size))
        if not chunk:
            return
        jobs: list[tuple[Job, str]] = []
        for path, source in chunk:
            path = Path(path)
            special = _special_kind(path)
            if special:
                sha = hashlib.sha256(f"special:{path}".encode()).hexdigest()
                job = Job(str(path), sha, 0, source)
                job.ready = _failed(job, f"{path} is {special}, not a file; skipped", "special_file")
            else:
                try:
                    sha, size = sha256_file(path)
                except OSError as exc:
                    from gknb.errors import environment_failure

                    raise environment_failure(exc, path, "read") from exc
                job = Job(str(path), sha, size, source)
            location = source.url if source is not None and source.url else str(path)
            jobs.append((job, document_id(job.sha256, location)))
        recorded = dict(con.execute("SELECT document_id, status FROM documents WHERE document_id IN (SELECT unnest(?))",
                                    [[d for _, d in jobs]]).fetchall())
        for job, doc_id in jobs:
            known = recorded.get(doc_id)
            if known and not (retry_rejected and known == "rejected"):
                run.count(DocumentOutcome(doc_id, "unchanged", path=job.path))
                advance(1)
                continue
            if job.ready is None:
                digest = bytes.fromhex(job.sha256[:32])
                if digest in first_copy:
                    # A second copy in this batch is not extracted: it loads after the first as a
                    # duplicate, or is rejected with it.
                    job.ready = _failed(job, f"same bytes as {first_copy[digest]}, which could not be loaded",
                                        "duplicate_of_rejected")
                else:
                    first_copy[digest] = job.path
            yield job


def ingest(inputs: Iterable[str | Path | SourceDoc], db: str | Path, *, workers: int | None = None,
           fresh: bool = False, retry_rejected: bool = False, fetches: Iterable = (), trigger: str = "cli",
           progress: Callable[[int, int, IngestRun], None] | None = None, group_size: int | None = None,
           timeout: float | None | bool = True, extractor: Extractor | None = None) -> IngestRun:
    """Ingest files, folders and crawled documents into the warehouse `db`; returns the run (also
    written to `ingest_runs`).

    `inputs`: paths (folders walked) or SourceDoc(path, SourceInfo) for crawled files (the URL then
    identifies the document). `workers`: extraction processes (default `default_workers()`).
    `fresh`: rebuild from empty. `retry_rejected`: extract files recorded as rejected again.
    `fetches`: the crawl's Fetch records, written to `crawl_fetches` in the same build.
    `progress(done, total, run)`: called as documents are decided. `group_size`: documents per
    commit. `timeout`: seconds per document (True: the configured extract_timeout_seconds; None:
    no limit). `extractor`: another extraction backend (the Prefect flows' group tasks).
    A bad document is a rejected row, never an exception; a configuration or environment error
    ends the run with nothing published.
    """
    from gknb.crawl.state import record_fetches
    from gknb.flows.settings import current_flow_run_id
    from gknb.warehouse.load import record_run, utcnow
    from gknb.warehouse.publish import building
    from gknb.warehouse.rollups import refresh_rollups

    if isinstance(inputs, Sized):
        # Paths only, as str (~200 bytes a file); raises for a missing input before anything starts.
        files = [(str(path), source) for path, source in iter_inputs(inputs)]
        total = len(files)
    else:  # a stream (a crawl going on: gknb.crawl.load.DocumentFeed), taken as it comes
        files, total = iter_inputs(inputs), None
    workers = workers or default_workers()
    if timeout is True:
        timeout = extract_timeout()
    group_size = group_size or GROUP_SIZE
    run = IngestRun(run_id=new_run_id(), started=utcnow(), trigger=trigger, workers=workers,
                    sample_size=REJECTED_SAMPLE)
    done = 0
    clock = time.perf_counter()

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None and n:
            progress(done, total, run)

    if progress is not None:
        progress(0, total, run)
    with building(db, fresh=fresh) as con:
        # DuckDB caches the blocks it reads and writes up to 80% of RAM by default: the rollups'
        # scan of every cell would make the run's memory grow with the warehouse. Beyond this it
        # evicts (or spills to a temporary folder beside the build), and memory stays flat.
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        if workers > 1:
            # The extraction workers own the cores; DuckDB's own thread pool would only contend
            # with them for bulk inserts this small.
            con.execute("SET threads = 1")
        loader = _Loader(con, run, group_size, retry_rejected, advance)
        jobs = _jobs(con, files, run, retry_rejected, advance, HASH_CHUNK if total is None else BULK_HASH_CHUNK)
        if extractor is None:
            with ProcessExtractor(workers, timeout) as pool:
                for doc, job in pool.map(jobs):
                    loader.add(doc, job.source)
        else:
            for doc, job in extractor.map(jobs):
                loader.add(doc, job.source)
        loader.flush()
        total = done if total is None else total
        if progress is not None:
            progress(done, total, run)  # the final counts
        con.execute("RESET threads")
        fetches = list(fetches)  # after the documents: a streamed crawl's records are complete now
        if fetches:
            record_fetches(con, fetches)
            run.count_fetches(fetches)
        run.flow_run_id = current_flow_run_id()
        started = time.perf_counter()
        # One thread and no insertion order: the rollups' aggregations then need about half the
        # memory (measured: 4,000 reports fit in 50 MB instead of 100 MB).
        con.execute("SET threads = 1")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET memory_limit = '{ROLLUP_MEMORY_LIMIT}'")
        refresh_rollups(con)  # every build: a warehouse never holds stale out_* tables
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        con.execute("RESET threads")
        con.execute("RESET preserve_insertion_order")
        run.rollup_seconds = time.perf_counter() - started
        run.finished = utcnow()
        run.wall_seconds = time.perf_counter() - clock
        record_run(con, run)
    return run


# --------------------------------------------------------------------------------------------
# Progress and signals for the command line


@contextmanager
def rich_progress(enabled: bool = True) -> Iterator[Callable[[int, int, IngestRun], None] | None]:
    """A rich progress bar as an `ingest(progress=...)` callback (None when disabled)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.description}"), transient=False)
    task = None

    def update(done: int, total: int, run: IngestRun) -> None:
        nonlocal task
        if task is None:
            task = bar.add_task("", total=total)
        bar.update(task, completed=done, description=f"{run.loaded} loaded, {run.rejected} rejected, "
                                                      f"{run.unchanged} unchanged")

    with bar:
        yield update


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C (SIGINT): the exception unwinds through the pool, which
    kills its workers, and through `building`, which discards the build. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        _STOPPING.set()  # pools in task threads stop too
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    _STOPPING.clear()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
