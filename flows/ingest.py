"""The `gknb-ingest` flow and the ingest step of the nightly flow: gknb.pipeline.ingest with its
extraction done by Prefect tasks, one task per GROUP of documents (issue 14.3).

One task per document cost ~70 ms of Prefect bookkeeping and 0.6 MB of the server's database per
document (7x `gknb ingest`); a task of a few hundred documents makes that a small share of the run.
Inside a group, crash isolation and the per-document timeout stay per document (the pipeline's
ProcessExtractor). The loading, rollups and run record are the pipeline's, in the flow's process
(the warehouse has one writer); groups stream to it as they finish, at most a few in flight, so
memory stays bounded.

Placement: locally, the group tasks share one warm pool of `workers` processes (spawned once per
run); on a Dask cluster (GKNB_DASK_ADDRESS or `dask_address`), each group task runs on a Dask
worker with its own one-process pool there.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from gknb.flows.settings import EXTRACT_TAG, ExtractionPlacement, extract_task_runner, extraction_placement

# Documents per extract task. Big enough that Prefect's per-task cost (~70 ms, a few hundred KB in
# its database) is well under 1% of the group's extraction; small enough that a group's results
# (~83 KB a document) stay a few tens of MB and the cluster's workers share the load evenly.
FLOW_GROUP_SIZE = 200
# Groups submitted ahead of the loader (per extraction slot on Dask: 2 per worker).
GROUPS_AHEAD = 2

_LOCAL_POOL: dict = {}
_LOCAL_LOCK = threading.Lock()


def _extractor():
    """The function the workers run on each file (a seam for tests)."""
    from gknb.pipeline import extract_document

    return extract_document


def _local_pool(workers: int, timeout):
    """The run's warm pool of local extraction processes (spawned once, not per group)."""
    from gknb.pipeline import ProcessExtractor

    key = (workers, timeout)
    if key not in _LOCAL_POOL:
        _LOCAL_POOL[key] = ProcessExtractor(workers, timeout, _extractor())
    return _LOCAL_POOL[key]


def shutdown_pools() -> None:
    with _LOCAL_LOCK:
        for pool in _LOCAL_POOL.values():
            pool.close()
        _LOCAL_POOL.clear()


@task(name="extract-group", tags=[EXTRACT_TAG], cache_policy=NO_CACHE, retries=0)
def extract_group(jobs: list, pool_workers: int = 0, timeout: float | None = None) -> list:
    """ExtractedDocuments of a group of jobs, in order; a bad document is a result with its error.

    pool_workers > 0: this machine's shared pool (the local placement); 0: a one-process pool of
    its own (on a Dask worker)."""
    # Only module-level functions here: on Dask this body is pickled by value with what it names.
    return _extract_locally(jobs, pool_workers, timeout) if pool_workers > 0 else _extract_alone(jobs, timeout)


def _extract_locally(jobs: list, workers: int, timeout: float | None) -> list:
    with _LOCAL_LOCK:  # one group at a time through the shared pool; the next waits warm
        return [doc for doc, _ in _local_pool(workers, timeout).map(jobs)]


def _extract_alone(jobs: list, timeout: float | None) -> list:
    import multiprocessing

    from gknb.pipeline import ProcessExtractor

    if multiprocessing.current_process().daemon:
        return _extract_in_this_process(jobs)
    with ProcessExtractor(1, timeout, _extractor()) as pool:
        return [doc for doc, _ in pool.map(jobs)]


def _extract_in_this_process(jobs: list) -> list:
    """Extraction in a daemonic process, which may not start the one-document child that gives a
    crash its own process and a document its timeout: Dask's worker processes are daemonic unless
    the cluster sets `distributed.worker.daemon: false` (docs/crawl_and_flows.md). A crash then
    costs the worker; Dask reschedules the group or the flow rejects its documents."""
    from gknb.pipeline import _is_config_error
    from gknb.warehouse.types import ExtractedDocument

    extract, docs = _extractor(), []
    for job in jobs:
        if job.ready is not None:
            docs.append(job.ready)
            continue
        try:
            docs.append(extract(job.path))
        except Exception as exc:  # noqa: BLE001 - one bad document, not the group
            if _is_config_error(exc):
                raise
            message = " ".join(f"extractor failed: {type(exc).__name__}: {exc}".split())[:500]
            docs.append(ExtractedDocument(job.path, job.sha256, job.size, error=message, error_kind="internal"))
    return docs


def _failed_group(jobs: list, error: BaseException) -> list:
    """The documents of a group whose task itself failed (the cluster lost it): each rejected."""
    from gknb.warehouse.types import ExtractedDocument

    message = " ".join(f"extract task failed: {type(error).__name__}: {error}".split())[:500]
    return [job.ready or ExtractedDocument(job.path, job.sha256, job.size, error=message, error_kind="internal")
            for job in jobs]


class GroupTasks:
    """The pipeline's extractor in a flow: jobs in groups, each group an `extract-group` task on the
    flow's task runner, results yielded in job order as groups finish."""

    def __init__(self, placement: ExtractionPlacement, group_size: int | None = None, timeout: float | None = None):
        self.placement = placement
        self.group_size = group_size or FLOW_GROUP_SIZE
        self.timeout = timeout
        self.pool_workers = 0 if placement.on_dask else placement.workers
        self.ahead = GROUPS_AHEAD * (placement.workers if placement.on_dask else 1)

    def map(self, jobs: Iterable) -> Iterator[tuple]:
        in_flight: deque = deque()
        group: list = []

        def submit() -> None:
            chunk = list(group)
            group.clear()
            future = extract_group.submit(chunk, pool_workers=self.pool_workers, timeout=self.timeout)
            in_flight.append((chunk, future))

        def drain_one() -> Iterator[tuple]:
            chunk, future = in_flight.popleft()
            outcome = future.result(raise_on_failure=False)
            docs = _failed_group(chunk, outcome) if isinstance(outcome, BaseException) else outcome
            yield from zip(docs, chunk)

        for job in jobs:
            group.append(job)
            if len(group) >= self.group_size:
                submit()
                while len(in_flight) > self.ahead:
                    yield from drain_one()
        if group:
            submit()
        while in_flight:
            yield from drain_one()


def _log_progress(logger, every: int):
    """An `ingest(progress=...)` callback that logs a line every `every` documents and at the end."""
    state = {"next": every}

    def progress(done: int, total: int | None, run) -> None:
        if done >= state["next"] or done == total:
            state["next"] = done + every
            logger.info("ingest: %d/%s documents: %d loaded, %d rejected, %d unchanged, %d duplicates",
                        done, "?" if total is None else total, run.loaded, run.rejected, run.unchanged, run.duplicates)

    return progress


# The inputs and fetches of an ingest step, handed to its subflow by key: as flow parameters they
# would be written to Prefect's database (150,000 paths are tens of MB there).
_BATCHES: dict[str, tuple] = {}


@flow(name="gknb-ingest-documents", log_prints=True, validate_parameters=False)
def ingest_documents(batch: str, db: str, placement: ExtractionPlacement, trigger: str = "flow",
                     group_size: int | None = None):
    """gknb.pipeline.ingest with group tasks on this subflow's task runner (see `run_ingest`)."""
    from gknb.pipeline import extract_timeout, ingest

    inputs, fetches = _BATCHES.pop(batch)
    logger = get_run_logger()
    timeout = extract_timeout()
    extractor = GroupTasks(placement, group_size, timeout)
    try:
        run = ingest(inputs, db, workers=placement.workers, fetches=fetches, trigger=trigger,
                     progress=_log_progress(logger, extractor.group_size), extractor=extractor, timeout=timeout)
    finally:
        shutdown_pools()
    logger.info("%s", run.summary())
    return run


def run_ingest(inputs: Iterable, db: str | Path, placement: ExtractionPlacement, *, fetches: Iterable = (),
               trigger: str = "flow", group_size: int | None = None):
    """The ingest step of a flow (ingest, nightly): a subflow on the placement's task runner (Dask,
    or threads over the local pool) running gknb.pipeline.ingest with group tasks; returns the IngestRun."""
    import uuid

    from collections.abc import Sized

    batch = uuid.uuid4().hex
    # A list is walked up front (its count known); a stream (a crawl going on) and its fetches as
    # they come, the fetches read after the last document.
    _BATCHES[batch] = (list(inputs) if isinstance(inputs, Sized) else inputs,
                       list(fetches) if isinstance(fetches, Sized) else fetches)
    try:
        return ingest_documents.with_options(task_runner=extract_task_runner(placement))(
            batch, str(db), placement, trigger, group_size)
    finally:
        _BATCHES.pop(batch, None)


@flow(name="gknb-ingest", log_prints=True)
def ingest(paths: list[str], db: str, workers: int | None = None, dask_address: str | None = None,
           group_size: int | None = None):
    """Ingest local files and folders through Prefect; returns the IngestRun (also in `ingest_runs`)."""
    placement = extraction_placement(workers, dask_address)
    return run_ingest(list(paths), db, placement, trigger="flow", group_size=group_size)
