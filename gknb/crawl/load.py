"""Crawled documents into the warehouse: extraction (any executor), then ONE build that loads every
document, records the crawl state and the run, and refreshes the rollups, swapped in atomically.

The crawl state is written in the same build as the documents it produced, so a file is never
marked fetched (and skipped by the next run's conditional request) unless it was also recorded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from gknb.crawl.state import record_fetches
from gknb.crawl.types import CrawledDocument, CrawlResult, Fetch


def source_of(document: CrawledDocument):
    from gknb.warehouse.types import SourceInfo

    return SourceInfo(url=document.url, fetched_at=document.fetched_at, http_status=document.http_status,
                      etag=document.etag, last_modified=document.last_modified)


def extract_all(paths: list[str], workers: int = 1, extract=None) -> list:
    """ExtractedDocument of each path, in order; in spawned worker processes when workers > 1.

    The ingest's own pool, not a second one: a file that crashes its worker (a native PDF or OCR
    library) is then a rejected document here too, instead of failing the whole crawl."""
    from gknb.warehouse.ingest import _extract_all, extract_document

    results: list = []
    _extract_all([(Path(p), None, None) for p in paths], workers,
                 lambda extracted, _source: results.append(extracted), extract=extract or extract_document)
    return results


GROUP = 200  # documents per transaction (the warehouse's bulk inserts; one bad group is replayed one by one)


def load_batch(db: Path, extracted: Iterable, sources: Iterable, fetches: Iterable[Fetch] = (), *,
                   trigger: str = "crawl", workers: int = 1, started=None, wall_clock: float | None = None):
    """Loads the extracted documents (each with its SourceInfo or None), records `fetches` in
    crawl_fetches, refreshes the rollups and writes the `ingest_runs` row, all in one build.
    Returns the IngestRun. A bad document is a rejected row, never an exception."""
    from gknb.warehouse.ingest import new_run_id
    from gknb.warehouse.load import load_documents, record_run, utcnow
    from gknb.warehouse.publish import building
    from gknb.warehouse.rollups import refresh_rollups
    from gknb.warehouse.types import IngestRun

    clock = wall_clock if wall_clock is not None else time.perf_counter()
    run = IngestRun(run_id=new_run_id(), started=started or utcnow(), trigger=trigger, workers=workers)
    with building(db) as con:
        items = list(zip(extracted, sources, strict=True))
        for start in range(0, len(items), GROUP):
            group = items[start:start + GROUP]
            run.extract_seconds += sum(result.seconds for result, _ in group)
            for outcome in load_documents(con, group, run_id=run.run_id):
                run.count(outcome)
        record_fetches(con, list(fetches))
        refresh_rollups(con)
        run.finished = utcnow()
        run.wall_seconds = time.perf_counter() - clock
        record_run(con, run)
    return run


def ingest_crawl(result: CrawlResult, db: Path, *, workers: int = 1, trigger: str = "crawl"):
    """Extract and load what a crawl brought (the plain API under `gknb crawl`)."""
    clock = time.perf_counter()
    extracted = extract_all([str(d.path) for d in result.documents], workers)
    return load_batch(db, extracted, [source_of(d) for d in result.documents], result.fetches,
                          trigger=trigger, workers=workers, wall_clock=clock)
