"""`gknb ingest`: walk files and folders, extract in worker processes, load each document.

Extraction is CPU-bound and runs in a spawn-context ProcessPoolExecutor (`extract_document` is a
top-level function of picklable arguments and result); loading runs in the parent, one document
per transaction, in input order, so which of two versions supersedes the other never depends on
which worker finished first. Files whose bytes are already recorded at the same location are not
extracted again. Everything happens inside `publish.building`, so readers see the whole run or
none of it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterable, Mapping

from gknb.warehouse.errors import IngestError
from gknb.warehouse.load import document_id, load_documents, location_of, record_run, utcnow
from gknb.warehouse.types import DocumentOutcome, ExtractedDocument, IngestRun, SourceInfo

__all__ = [
    "ingest_paths", "extract_document", "iter_documents", "ExtractedDocument", "SourceInfo",
    "IngestRun", "DocumentOutcome",
]

# Files that are never reports: crawl logs and manifests, lock and database files, editor debris.
# Documents per commit: a commit costs a WAL fsync, so one per document would cost more than
# extracting a text report. 1024 documents are about 200,000 cells, more than a DuckDB row group
# (122,880 rows): DuckDB then writes the cells straight to the database file (compressed, once)
# instead of into the WAL at the commit and again at the checkpoint - a fifth less loading time
# than groups of 256 (measured on 1,000 generated reports); memory stays a few tens of MB.
GROUP_SIZE = 1024
SKIP_SUFFIXES = (".jsonl", ".duckdb", ".wal", ".lock", ".tmp", ".part", ".pyc")


def _skipped(path: Path) -> bool:
    return path.name.startswith(".") or path.name.endswith("~") or path.suffix.lower() in SKIP_SUFFIXES


def iter_documents(paths: Iterable[str | Path]) -> list[Path]:
    """The files to ingest: given files as they are, folders walked in name order (hidden skipped)."""
    found: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        p = Path(given)
        if not p.exists():
            raise IngestError(f"{p}: no such file or folder")
        if p.is_file():
            candidates = [p]
        else:
            candidates = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                candidates.extend(Path(root) / f for f in sorted(files) if not _skipped(Path(f)))
        for c in candidates:
            c = c.resolve()
            if c not in seen:
                seen.add(c)
                found.append(c)
    return found


def sha256_file(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


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
        doc.error, doc.error_kind = _one_line(str(exc)), exc.kind
    except Exception as exc:  # an extractor bug on one document must not stop the batch
        doc.error, doc.error_kind = _one_line(f"extractor failed: {type(exc).__name__}: {exc}"), "internal"
    doc.seconds = time.perf_counter() - started
    return doc


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line[:500]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def new_run_id() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def ingest_paths(paths: Iterable[str | Path], db: str | Path, *, workers: int | None = None,
                 progress: bool = True, sources: Mapping[str | Path, SourceInfo] | None = None,
                 trigger: str = "cli", fresh: bool = False, group_size: int = GROUP_SIZE,
                 retry_rejected: bool = False) -> IngestRun:
    """Ingest files and folders into the warehouse `db`; returns the run (also in `ingest_runs`).

    `sources` maps a local path to its crawl metadata (URL, fetch time, HTTP status, ETag,
    Last-Modified); the URL then identifies the document. `workers` defaults to the cores
    available; 1 extracts in this process. `fresh` rebuilds the warehouse from empty;
    `retry_rejected` extracts files recorded as rejected again (after an extractor fix). Documents
    are committed `group_size` at a time (see gknb.warehouse.load: each stays all-or-nothing).
    """
    from gknb.warehouse.publish import building

    files = iter_documents(paths)
    src = {Path(k).resolve(): v for k, v in (sources or {}).items()}
    workers = workers or default_workers()
    run = IngestRun(run_id=new_run_id(), started=utcnow(), trigger=trigger, workers=workers)
    t0 = time.perf_counter()
    with building(db, fresh=fresh) as con:
        todo: list[_Todo] = []
        first_copy: dict[str, Path] = {}
        recorded = dict(con.execute("SELECT document_id, status FROM documents").fetchall())
        for f in files:
            sha, size = sha256_file(f)
            s = src.get(f)
            probe = ExtractedDocument(str(f), sha, size)
            doc_id = document_id(sha, location_of(probe, s))
            known = recorded.get(doc_id)
            if known and not (retry_rejected and known == "rejected"):
                run.count(DocumentOutcome(doc_id, "unchanged", path=str(f)))
                continue
            if sha in first_copy:
                # A second copy in this batch is not extracted: it loads after the first as a
                # duplicate, or is rejected with it.
                probe.error = f"same bytes as {first_copy[sha]}, which could not be loaded"
                probe.error_kind = "duplicate_of_rejected"
                todo.append((f, s, probe))
                continue
            first_copy[sha] = f
            todo.append((f, s, None))
        pending: list[tuple[ExtractedDocument, SourceInfo | None]] = []

        def flush() -> None:
            for outcome in load_documents(con, pending, run_id=run.run_id, retry_rejected=retry_rejected):
                run.count(outcome)
            pending.clear()

        if workers > 1:
            # The extraction workers own the cores; DuckDB's own thread pool would only contend
            # with them for bulk inserts this small.
            con.execute("SET threads = 1")
        with _progress(progress, len(files), run) as advance:
            advance(run.documents)

            def load(extracted: ExtractedDocument, source: SourceInfo | None) -> None:
                run.extract_seconds += extracted.seconds
                pending.append((extracted, source))
                if len(pending) >= group_size:
                    flush()
                advance(1, extracted.path)

            _extract_all(todo, workers, load)
            flush()
        con.execute("RESET threads")
        run.finished = utcnow()
        run.wall_seconds = time.perf_counter() - t0
        record_run(con, run)
    return run


_Todo = tuple[Path, "SourceInfo | None", "ExtractedDocument | None"]


def _extract_all(todo: list[_Todo], workers: int,
                 load: Callable[[ExtractedDocument, SourceInfo | None], None],
                 extract: Callable[[str | Path], ExtractedDocument] = extract_document) -> None:
    """Extract every file (in workers when more than one) and hand each result to `load` in input order.

    An item with a ready result (a second copy of a file in the batch) is loaded as it is.
    """
    to_extract = [p for p, _, ready in todo if ready is None]
    if workers <= 1 or len(to_extract) <= 1:
        for path, source, ready in todo:
            load(ready or extract(path), source)
        return
    ctx = multiprocessing.get_context("spawn")
    retry: list[tuple[Path, SourceInfo | None]] = []
    with ProcessPoolExecutor(max_workers=min(workers, len(to_extract)), mp_context=ctx) as pool:
        futures: dict[Path, Future] = {p: pool.submit(extract, str(p)) for p in to_extract}
        for path, source, ready in todo:
            if ready is not None:
                load(ready, source)
                continue
            try:
                result = futures[path].result()
            except BrokenProcessPool:
                retry.append((path, source))
                continue
            load(result, source)
    # A worker died (a crash in a native PDF or OCR library): every unfinished file is tried again
    # alone in a fresh process, so the file that kills its worker is rejected and the rest load.
    for path, source in retry:
        load(_extract_isolated(path, ctx, extract), source)


def _extract_isolated(path: Path, ctx, extract) -> ExtractedDocument:
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        try:
            return pool.submit(extract, str(path)).result()
        except BrokenProcessPool:
            sha, size = sha256_file(path)
            return ExtractedDocument(str(path), sha, size, error="extraction crashed its worker process",
                                     error_kind="internal")


class _progress:
    """A rich progress bar over the run's documents (or nothing when progress is off)."""

    def __init__(self, enabled: bool, total: int, run: IngestRun):
        self.enabled, self.total, self.run, self.bar = enabled, total, run, None

    def __enter__(self):
        if self.enabled and self.total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TextColumn("{task.description}"), transient=False)
            self.bar.start()
            self.task = self.bar.add_task("", total=self.total)
        return self.advance

    def advance(self, n: int, path: str | None = None) -> None:
        if self.bar is not None and n:
            self.bar.update(self.task, advance=n, description=Path(path).name if path else "")

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.task, description=f"{self.run.loaded} loaded, {self.run.rejected} rejected")
            self.bar.stop()
        return False
