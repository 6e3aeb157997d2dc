"""The crawl: list pages (and their pagination) → report pages → attachments, site by site.

Each body is stored in the raw layer; a document (an attachment, or a report page that is itself
the report) is handed on for ingestion only when its bytes are new for its URL, or were never
loaded. A second run sends conditional requests with the validators the first run recorded.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import httpx

from gknb.crawl.errors import CrawlError
from gknb.crawl.fetcher import Fetcher, Response
from gknb.crawl.links import PageLinks, decode_page, read_links
from gknb.crawl.sites import sites_for_urls
from gknb.crawl.state import read_prior
from gknb.crawl.storage import RawStore
from gknb.crawl.types import ATTACHMENT, LIST_PAGE, REPORT_PAGE, CrawledDocument, CrawlResult, Fetch, PriorFetch, Site
from gknb.paths import default_raw_dir


def _now() -> datetime:
    """UTC, naive: the warehouse's TIMESTAMP columns hold UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


class Crawl:
    """One crawl over some sites, sharing a fetcher (client, robots.txt cache, rate limiter)."""

    def __init__(self, fetcher: Fetcher, store: RawStore, prior: dict[str, PriorFetch], known_sha: set[str],
                 on_fetch=None):
        self.fetcher = fetcher
        self.store = store
        self.prior = prior
        self.known_sha = known_sha
        self.result = CrawlResult()
        self._visited: set[str] = set()
        self._lock = threading.Lock()
        self._on_fetch = on_fetch

    def site(self, site: Site) -> None:
        """Walks one site: every start URL's list pages, then each report page, then each attachment."""
        list_queue = deque(site.start_urls)
        list_pages = 0
        report_pages: list[str] = []
        attachments: list[str] = []
        while list_queue and list_pages < site.max_list_pages * len(site.start_urls):
            url = list_queue.popleft()
            links = self._page(url, site, LIST_PAGE)
            if links is None:
                continue
            list_pages += 1
            list_queue.extend(links.next_pages)
            report_pages.extend(links.report_pages)
            attachments.extend(links.attachments)
        for url in report_pages:
            links = self._page(url, site, REPORT_PAGE)
            if links is not None:
                attachments.extend(links.attachments)
        for url in attachments:
            self._document(url, site, ATTACHMENT)

    def _claim(self, url: str) -> bool:
        """True the first time a URL is met in this crawl (sites may link the same file)."""
        with self._lock:
            if url in self._visited:
                return False
            self._visited.add(url)
            return True

    def _page(self, url: str, site: Site, kind: str) -> PageLinks | None:
        """Fetches an HTML page and reads its links; a report page with no attachment (or with the
        report's tables in it) is a document itself."""
        if not self._claim(url):
            return None
        fetch, body, response = self._fetch(url, site, kind)
        if body is None:
            return None
        try:
            html = decode_page(body, response.content_type if response else fetch.content_type)
        except Exception as exc:  # an undecodable page is one failed URL, not a failed crawl
            fetch.error_kind, fetch.error = "undecodable", f"{url}: {exc}"
            return None
        links = read_links(html, fetch.final_url or url, site.patterns, list_page=(kind == LIST_PAGE))
        if kind == REPORT_PAGE and (not links.attachments or links.has_report_table):
            self._hand_on(fetch)
        return links

    def _document(self, url: str, site: Site, kind: str) -> None:
        if not self._claim(url):
            return
        fetch, body, _ = self._fetch(url, site, kind)
        if body is not None:
            self._hand_on(fetch)

    def _fetch(self, url: str, site: Site, kind: str) -> tuple[Fetch, bytes | None, Response | None]:
        """GET (conditional when we hold the last body); returns the body, stored or reused."""
        fetch = Fetch(url=url, kind=kind, site=site.name, fetched_at=_now())
        self.result.fetches.append(fetch)
        prior = self.prior.get(url)
        if prior is not None and not (prior.raw_path and Path(prior.raw_path).exists()):
            prior = None  # the raw file is gone: fetch unconditionally and store it again
        try:
            response = self.fetcher.get(url, site, prior)
        except CrawlError as exc:
            fetch.error_kind, fetch.error = exc.kind, str(exc)
            fetch.http_status = getattr(exc, "status", None)
            fetch.attempts = getattr(exc, "attempts", 0)
            self._report(fetch)
            return fetch, None, None
        except httpx.HTTPError as exc:  # anything else the transport raises: one failed URL
            fetch.error_kind, fetch.error = "fetch_failed", f"{url}: {exc}"
            self._report(fetch)
            return fetch, None, None
        fetch.http_status, fetch.final_url = response.status, response.final_url
        fetch.attempts, fetch.seconds = response.attempts, round(response.seconds, 3)
        fetch.content_type = response.content_type
        fetch.etag = response.headers.get("etag")
        fetch.last_modified = response.headers.get("last-modified")
        if response.status == 304 and prior is not None:
            fetch.etag = fetch.etag or prior.etag
            fetch.last_modified = fetch.last_modified or prior.last_modified
            fetch.sha256, fetch.raw_path = prior.sha256, prior.raw_path
            body = Path(prior.raw_path).read_bytes()
            fetch.size = len(body)
        else:
            body = response.body
            sha, path = self.store.put(body, response.final_url, response.content_type)
            fetch.sha256, fetch.raw_path, fetch.size = sha, str(path), len(body)
            fetch.changed = prior is None or prior.sha256 != sha
        self._report(fetch)
        return fetch, body, response

    def _hand_on(self, fetch: Fetch) -> None:
        """Queues a fetched document for ingestion unless the warehouse already holds these bytes."""
        if not fetch.changed and fetch.sha256 in self.known_sha:
            self.result.unchanged += 1
            return
        self.result.documents.append(CrawledDocument(
            path=Path(fetch.raw_path), url=fetch.url, fetched_at=fetch.fetched_at,
            http_status=fetch.http_status, etag=fetch.etag, last_modified=fetch.last_modified,
            sha256=fetch.sha256, changed=fetch.changed,
        ))

    def _report(self, fetch: Fetch) -> None:
        if self._on_fetch is not None:
            self._on_fetch(fetch)


def crawl(targets: list[Site] | list[str], db: Path | None = None, raw_dir: Path | None = None, *,
          site_workers: int = 4, progress: bool = False, client: httpx.Client | None = None,
          **overrides) -> CrawlResult:
    """Crawls `targets` (Site objects, or start URLs crawled with the defaults of schemas/sites.yaml,
    `overrides` replacing any default); reads the last crawl's state from the warehouse `db`;
    stores bodies under `raw_dir`. Writes nothing to `db`: ingest the documents, then record the
    fetches (gknb.crawl.record), so a document is never marked fetched before it is loaded."""
    sites = [t for t in targets if isinstance(t, Site)]
    urls = [t for t in targets if isinstance(t, str)]
    if urls:
        sites += sites_for_urls(urls, **overrides)
    started, clock = _now(), time.monotonic()
    prior, known_sha = read_prior(db)
    store = RawStore(Path(raw_dir) if raw_dir is not None else default_raw_dir())
    user_agent = sites[0].user_agent if sites else "gknb-crawler/0.1"
    with _progress(progress) as on_fetch, Fetcher(user_agent=user_agent, client=client) as fetcher:
        run = Crawl(fetcher, store, prior, known_sha, on_fetch=on_fetch)
        # Sites run side by side (each host is still rate-limited on its own); pages of one site in order.
        with ThreadPoolExecutor(max_workers=max(1, min(site_workers, len(sites) or 1))) as pool:
            list(pool.map(run.site, sites))
    result = run.result
    result.started_at, result.finished_at, result.seconds = started, _now(), time.monotonic() - clock
    return result


class _progress:
    """A rich progress line counting fetched URLs, or nothing."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._progress = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import Progress, SpinnerColumn, TextColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True)
        self._progress.start()
        task = self._progress.add_task("crawling", total=None)
        counts = {"urls": 0, "failed": 0}

        def on_fetch(fetch: Fetch) -> None:
            counts["urls"] += 1
            counts["failed"] += fetch.error_kind is not None
            self._progress.update(task, description=f"crawled {counts['urls']} URLs ({counts['failed']} failed): {fetch.url}")

        return on_fetch

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
