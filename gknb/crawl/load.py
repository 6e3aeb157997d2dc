"""Crawled documents into the warehouse through the one pipeline (gknb.pipeline.ingest): the crawl
state (`fetches`) is written in the same build as the documents it produced, so a file is never
marked fetched (and skipped by the next run's conditional request) unless it was also recorded.
"""

from __future__ import annotations

from pathlib import Path

from gknb.crawl.types import CrawledDocument, CrawlResult


def source_of(document: CrawledDocument):
    from gknb.warehouse.types import SourceInfo

    return SourceInfo(url=document.url, fetched_at=document.fetched_at, http_status=document.http_status,
                      etag=document.etag, last_modified=document.last_modified,
                      agency_column_url=document.column_url)


def source_docs(result: CrawlResult) -> list:
    """The crawl's documents as pipeline inputs: each raw file with its URL and validators."""
    from gknb.pipeline import SourceDoc

    return [SourceDoc(d.path, source_of(d)) for d in result.documents]


def extract_all(paths: list[str], workers: int = 1, extract=None) -> list:
    """ExtractedDocument of each path, in order, through the pipeline's process pool (a file that
    crashes its worker is a rejected document, not a failed crawl)."""
    from gknb.pipeline import Job, ProcessExtractor, extract_document, extract_timeout

    jobs = [Job(str(Path(p).resolve()), "", 0) for p in paths]
    with ProcessExtractor(workers, extract_timeout(), extract or extract_document) as pool:
        return [doc for doc, _ in pool.map(jobs)]


def ingest_crawl(result: CrawlResult, db: Path, *, workers: int | None = None, trigger: str = "crawl",
                 progress=None):
    """Extract and load what a crawl brought, record its fetches, refresh the rollups: one build."""
    from gknb.pipeline import ingest

    return ingest(source_docs(result), db, workers=workers, fetches=result.fetches, trigger=trigger,
                  progress=progress)
