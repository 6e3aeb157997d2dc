"""The `gknb-ingest` flow: files → extract (mapped, one task per document, concurrency-limited,
locally or on Dask) → load (one atomic build) → `ingest_runs`. Also the extract subflow the
nightly flow reuses."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE

from gknb.flows.settings import EXTRACT_TAG, ExtractionPlacement, extract_task_runner, extraction_placement

_POOLS: dict[int, ProcessPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """One pool of spawned extraction processes per width, shared by the extract tasks' threads
    (PDF parsing and OCR hold the GIL, so threads alone would extract one document at a time)."""
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        return _POOLS[workers]


def _discard_pool(workers: int, pool: ProcessPoolExecutor) -> None:
    """Forget a pool a dead worker broke: the next task gets a fresh one."""
    with _POOLS_LOCK:
        if _POOLS.get(workers) is pool:
            del _POOLS[workers]
    pool.shutdown(wait=False, cancel_futures=True)


def _extractor():
    from gknb.warehouse.ingest import extract_document

    return extract_document


def shutdown_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.shutdown(wait=True)
        _POOLS.clear()


@task(name="extract", tags=[EXTRACT_TAG], cache_policy=NO_CACHE, retries=0)
def extract(path: str, pool_workers: int = 0):
    """ExtractedDocument of one file (a bad document is a result with its error, not a failure)."""
    extract_document = _extractor()
    if pool_workers > 0:
        pool = _process_pool(pool_workers)
        try:
            return pool.submit(extract_document, path).result()
        except BrokenProcessPool:
            # A worker died (a crash in native PDF or OCR code) and broke the pool for every
            # document in it: replace the pool and try this document again alone, so that only
            # the file that kills its worker is rejected.
            from gknb.warehouse.ingest import _extract_isolated

            _discard_pool(pool_workers, pool)
            return _extract_isolated(Path(path), multiprocessing.get_context("spawn"), extract_document)
    return extract_document(path)


def _failed_extraction(path: str, error: BaseException):
    """A document whose extract task itself failed (a worker died, the cluster lost it): rejected."""
    from gknb.warehouse.ingest import sha256_file
    from gknb.warehouse.types import ExtractedDocument

    sha, size = sha256_file(Path(path))
    message = " ".join(f"extract task failed: {type(error).__name__}: {error}".split())[:500]
    return ExtractedDocument(path, sha, size, error=message, error_kind="internal")


@flow(name="gknb-extract", log_prints=True)
def extract_documents(paths: list[str], pool_workers: int = 0) -> list:
    """Maps `extract` over the documents; returns their ExtractedDocuments in order, failures included."""
    futures = extract.map(paths, pool_workers=unmapped(pool_workers))
    results = []
    for path, future in zip(paths, futures):
        outcome = future.result(raise_on_failure=False)
        results.append(_failed_extraction(path, outcome) if isinstance(outcome, BaseException) else outcome)
    return results


def run_extraction(paths: list[str], placement: ExtractionPlacement) -> list:
    """The extract subflow on the placement's task runner (Dask, or threads over local processes)."""
    if not paths:
        return []
    runner = extract_task_runner(placement)
    pool_workers = 0 if placement.on_dask or placement.workers <= 1 else placement.workers
    try:
        return extract_documents.with_options(task_runner=runner)(paths, pool_workers=pool_workers)
    finally:
        shutdown_pools()


@task(name="load", cache_policy=NO_CACHE)
def load(db: str, extracted: list, sources: list, fetches: list, trigger: str, workers: int, wall_clock: float):
    """One build: documents, crawl state, rollups and the run row, swapped in atomically."""
    from gknb.crawl.load import load_batch

    run = load_batch(Path(db), extracted, sources, fetches, trigger=trigger, workers=workers, wall_clock=wall_clock)
    get_run_logger().info("%s", run.summary())
    return run


@flow(name="gknb-ingest", log_prints=True)
def ingest(paths: list[str], db: str, workers: int | None = None, dask_address: str | None = None):
    """Ingest local files and folders through Prefect; returns the IngestRun (also in `ingest_runs`)."""
    from gknb.warehouse.ingest import iter_documents

    clock = time.perf_counter()
    placement = extraction_placement(workers, dask_address)
    files = [str(p) for p in iter_documents(paths)]
    extracted = run_extraction(files, placement)
    return load(db, extracted, [None] * len(files), [], "flow", placement.workers, clock)
