"""Crawled documents into the warehouse through the one pipeline (gknb.pipeline.ingest): the crawl
state (`fetches`) is written in the same build as the documents it produced, so a file is never
marked fetched (and skipped by the next run's conditional request) unless it was also recorded.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import uuid
from pathlib import Path
from typing import Callable, Iterator

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


class DocumentFeed:
    """A crawl running in a thread of its own whose documents the pipeline extracts while it goes on
    (crawling is bound by politeness, extraction by CPU: one need not wait for the other).

    `run_crawl(feed_key)` does the crawl and returns its CrawlResult; whatever crawls under it
    hands each stored document to `DocumentFeed.put_for(feed_key, document)` (gknb.crawl.crawl's
    `on_document`; the key, a string, crosses Prefect's task parameters where a callable cannot).
    `documents()` yields them as pipeline inputs, each URL once, in the order they were stored,
    and ends when the crawl has; an error of the crawl is raised there, so the build that was
    loading them is discarded. `fetches` reads the crawl's fetch records once it has ended (the
    pipeline records them after its last document). At most `buffer` documents wait: a crawl far
    ahead of extraction waits too, so memory does not grow with the crawl.

    The crawl's thread runs in a copy of the caller's context (a Prefect flow run's stays its
    parent)."""

    _open: dict[str, "DocumentFeed"] = {}

    def __init__(self, run_crawl: Callable[[str], object], buffer: int = 2048):
        self.key = uuid.uuid4().hex
        self._queue: queue.Queue = queue.Queue(maxsize=buffer)
        self._closed = threading.Event()
        self._begun = threading.Event()  # a first document stored, or the crawl over
        self._result = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._crawl, run_crawl),
                                        name="gknb-crawl-feed", daemon=True)

    def __enter__(self) -> "DocumentFeed":
        DocumentFeed._open[self.key] = self
        self._thread.start()
        return self

    def __exit__(self, *exc) -> bool:
        self._closed.set()  # a consumer that stopped early must not leave the crawl blocked on a full queue
        DocumentFeed._open.pop(self.key, None)
        return False

    @classmethod
    def put_for(cls, key: str | None, document: CrawledDocument) -> None:
        feed = cls._open.get(key) if key else None
        if feed is not None:
            feed._put(document)

    def _put(self, item) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                self._begun.set()
                return
            except queue.Full:
                continue

    def _crawl(self, run_crawl) -> None:
        try:
            self._result = run_crawl(self.key)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._error = exc
        finally:
            self._put(_END)
            self._begun.set()

    def wait_begun(self, timeout: float | None = None) -> bool:
        """Blocks until the crawl has stored a first document (or ended). The nightly flow starts
        its ingest subflow then, not while the crawl's subflow is being created: Prefect's SQLite
        database answers two writers at once with 503, which its client retries seconds later."""
        return self._begun.wait(timeout)

    def documents(self) -> Iterator:
        from gknb.pipeline import SourceDoc

        seen: set[str] = set()
        while True:
            item = self._queue.get()
            if item is _END:
                break
            if item.url in seen:  # a site whose crawl task was retried hands its documents again
                continue
            seen.add(item.url)
            yield SourceDoc(item.path, source_of(item))
        self.result()

    def result(self) -> CrawlResult:
        """The crawl's result once it has ended (its error raised)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    @property
    def fetches(self) -> "_FetchesAfterCrawl":
        return _FetchesAfterCrawl(self)


_END = object()


class _FetchesAfterCrawl:
    def __init__(self, feed: DocumentFeed):
        self.feed = feed

    def __iter__(self):
        return iter(self.feed.result().fetches)


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
