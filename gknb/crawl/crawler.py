"""The crawl: list pages (and their pagination) → report pages → attachments, site by site.

Each body is stored in the raw layer; a document (an attachment, or a report page that is itself
the report) is handed on for ingestion only when its bytes are new for its URL, or were never
loaded. A second run sends conditional requests with the validators the first run recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

from gknb.crawl.adapters import HTML, read_api_page, read_list_page
from gknb.crawl.errors import CrawlError
from gknb.crawl.fetcher import Fetcher, Response
from gknb.crawl.journal import Journal
from gknb.crawl.links import PageLinks, decode_page, read_links
from gknb.crawl.sites import sites_for_urls
from gknb.crawl.state import read_prior
from gknb.crawl.storage import RawStore
from gknb.crawl.types import ATTACHMENT, LIST_PAGE, REPORT_PAGE, CrawledDocument, CrawlResult, Fetch, PriorFetch, Site
from gknb.paths import default_raw_dir

log = logging.getLogger("gknb.crawl")


def _now() -> datetime:
    """UTC, naive: the warehouse's TIMESTAMP columns hold UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


class Crawl:
    """One crawl over some sites, sharing a fetcher (client, robots.txt cache, rate limiter)."""

    def __init__(self, fetcher: Fetcher, store: RawStore, prior: dict[str, PriorFetch], known_sha: set[str],
                 on_fetch=None, journal: Journal | None = None, on_document=None):
        self.fetcher = fetcher
        self.store = store
        self.prior = prior
        self.known_sha = known_sha
        self.result = CrawlResult()
        self._visited: set[str] = set()
        self._lock = threading.Lock()
        self._on_fetch = on_fetch
        self._on_document = on_document  # each document as it is stored (gknb.crawl.load.DocumentFeed)
        self._journal = journal
        self._site_deadline: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def site(self, site: Site) -> None:
        """Walks one site: its columns (start pages, and the agencies' columns discovered from
        them), each column's list pages and list-API pages, then each report page, then each
        attachment. Each report keeps the column it was listed in."""
        self._site_deadline[site.name] = time.monotonic() + site.site_time_budget_seconds
        # (url, depth, role): role "column" (a list page, or a page linking columns) or "hub" (a
        # page listing agencies, 部门): its agency links are followed too.
        pages = deque((url, 0, "column") for url in site.start_urls)
        queued = set(site.start_urls)
        report_pages: list[tuple[str, str]] = []
        attachments: list[tuple[str, str]] = []
        columns: list[str] = []
        while pages:
            url, depth, role = pages.popleft()
            found = self._column(site, url, role, report_pages, attachments)
            if found is None:
                continue
            if found.records or found.advertised:
                columns.append(url)
            if depth >= site.discovery_depth:
                continue
            links = found.discovered
            follow = [(u, "column") for u in links.column_links] + [(u, "hub") for u in links.hub_links]
            if role == "hub":
                follow += [(u, "column") for u in links.agency_links]
            for target, next_role in follow:
                if target not in queued:  # off the allow-list: refused (and recorded) by the fetcher
                    queued.add(target)
                    pages.append((target, depth + 1, next_role))
        with self._lock:
            self.result.columns[site.name] = columns
        for url, column in report_pages:
            links = self._page(url, site, REPORT_PAGE, column)
            if links is not None:
                attachments.extend((a, column) for a in links.attachments)
        for url, column in attachments:
            self._document(url, site, ATTACHMENT, column)
        self._finish_site(site)

    def _column(self, site: Site, column_url: str, role: str, report_pages: list, attachments: list):
        """Reads one column: its first page, further static pages and list-API pages. Returns what
        it found (records, the advertised count, the first page's discovery links) or None."""
        queue = deque([(column_url, HTML)])
        seen_pages = {column_url}
        listed: set[str] = set()
        advertised: int | None = None
        discovered = None
        pages = 0
        while queue and pages < site.max_list_pages:
            url, fmt = queue.popleft()
            fetched = self._text(url, site, LIST_PAGE, column_url)
            if fetched is None:
                continue
            text, final_url, _ = fetched
            pages += 1
            if fmt == HTML:
                read = read_list_page(text, final_url, site)
            else:
                read = read_api_page(text, final_url, site, fmt)
            if discovered is None:
                discovered = read.links
            for more, more_fmt in read.more:
                if more not in seen_pages:
                    seen_pages.add(more)
                    queue.append((more, more_fmt))
            if read.advertised is not None:
                advertised = max(advertised or 0, read.advertised)
            listed.update(read.records)
            report_pages.extend((u, column_url) for u in read.links.report_pages)
            attachments.extend((u, column_url) for u in read.links.attachments)
        if discovered is None:
            return None
        if advertised is not None and len(listed) < advertised:
            self._warn(f"{site.name}: {column_url} advertises {advertised} records, {len(listed)} found"
                       + (f" ({len(queue)} list pages not read: max_list_pages {site.max_list_pages})" if queue else ""))
        return _ColumnRead(discovered, listed, advertised)

    def _claim(self, url: str) -> bool:
        """True the first time a URL is met in this crawl (sites may link the same file)."""
        with self._lock:
            if url in self._visited:
                return False
            self._visited.add(url)
            return True

    def _text(self, url: str, site: Site, kind: str, column: str | None) -> tuple[str, str, Fetch] | None:
        """A fetched page (or list-API answer) decoded, with its final URL; None if not fetched."""
        if not self._claim(url):
            return None
        fetch, body, response = self._fetch(url, site, kind, column)
        if body is None:
            return None
        try:
            text = decode_page(body, response.content_type if response else fetch.content_type)
        except Exception as exc:  # an undecodable page is one failed URL, not a failed crawl
            fetch.error_kind, fetch.error = "undecodable", f"{url}: {exc}"
            self._report(fetch)
            return None
        return text, fetch.final_url or url, fetch

    def _page(self, url: str, site: Site, kind: str, column: str | None = None) -> PageLinks | None:
        """Fetches a report page and reads its links; a report page with no attachment (or with
        the report's tables in it) is a document itself."""
        fetched = self._text(url, site, kind, column)
        if fetched is None:
            return None
        html, final_url, fetch = fetched
        links = read_links(html, final_url, site.patterns, list_page=False)
        if not links.attachments or links.has_report_table:
            self._hand_on(fetch, site)
        return links

    def _document(self, url: str, site: Site, kind: str, column: str | None = None) -> None:
        if not self._claim(url):
            return
        fetch, body, _ = self._fetch(url, site, kind, column)
        if body is not None:
            self._hand_on(fetch, site)

    def _fetch(self, url: str, site: Site, kind: str, column: str | None = None
               ) -> tuple[Fetch, bytes | None, Response | None]:
        """GET (conditional when we hold the last body); returns the body, stored or reused."""
        fetch = Fetch(url=url, kind=kind, site=site.name, fetched_at=_now(), column_url=column)
        if time.monotonic() > self._site_deadline.get(site.name, float("inf")):
            with self._lock:
                self._skipped[site.name] = self._skipped.get(site.name, 0) + 1
            return fetch, None, None  # over the site's time budget: not fetched, not recorded
        with self._lock:
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
        except (httpx.HTTPError, OSError) as exc:  # anything else the transport raises: one failed URL
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

    def _hand_on(self, fetch: Fetch, site: Site) -> None:
        """Hands a fetched document on for ingestion. Unchanged ones too: the pipeline finds them
        recorded and counts them unchanged, so the crawl's counters and the run's agree."""
        document = CrawledDocument(
            path=Path(fetch.raw_path), url=fetch.url, fetched_at=fetch.fetched_at,
            http_status=fetch.http_status, etag=fetch.etag, last_modified=fetch.last_modified,
            sha256=fetch.sha256, changed=fetch.changed, column_url=fetch.column_url, site=site.name,
        )
        with self._lock:
            if not fetch.changed and fetch.sha256 in self.known_sha:
                self.result.unchanged += 1
            self.result.documents.append(document)
        if self._on_document is not None:
            self._on_document(document)

    def _report(self, fetch: Fetch) -> None:
        if fetch.error_kind in REFUSALS:
            log.info("%s: %s: %s", fetch.site, fetch.error_kind, fetch.error)
        elif fetch.error_kind is not None:
            log.warning("%s: %s: %s", fetch.site, fetch.error_kind, fetch.error)
        elif self._journal is not None:
            self._journal.append(fetch)
        if self._on_fetch is not None:
            self._on_fetch(fetch)

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        with self._lock:
            self.result.warnings.append(message)

    def _finish_site(self, site: Site) -> None:
        """The site's verdict: unreachable, robots.txt unreachable, or too many failed fetches
        make it a failed site (the nightly run then ends Failed, after loading what was fetched)."""
        skipped = self._skipped.get(site.name, 0)
        if skipped:
            self._warn(f"{site.name}: time budget of {site.site_time_budget_seconds:g}s used up; "
                       f"{skipped} URLs not fetched (kept for the next run)")
        with self._lock:
            fetches = [f for f in self.result.fetches if f.site == site.name]
        reason = site_failure(site, fetches)
        if reason:
            log.error("%s: %s", site.name, reason)
            with self._lock:
                self.result.site_failures[site.name] = reason


# Failures that say the site could not serve a URL; refusals (robots.txt forbids, outside the
# allow-list) are our own decisions and never count against a site.
FAILURE_KINDS = frozenset({"fetch_failed", "deadline", "too_large", "redirects", "undecodable"})
REFUSALS = frozenset({"robots", "outside_allow_list"})


def site_failure(site: Site, fetches: list[Fetch]) -> str | None:
    """Why a site's crawl failed, or None."""
    robots = next((f.error for f in fetches if f.error_kind == "robots" and "robots.txt unreachable" in (f.error or "")), None)
    if robots:
        return robots.split(": ", 1)[-1]
    starts = [f for f in fetches if f.url in site.start_urls]
    if starts and all(f.error_kind in FAILURE_KINDS and (f.http_status is None or f.http_status >= 500) for f in starts):
        return f"unreachable: {starts[0].error}"
    counted = [f for f in fetches if f.error_kind is None or f.error_kind in FAILURE_KINDS]
    failed = [f for f in counted if f.error_kind is not None]
    if counted and len(failed) / len(counted) > site.max_failure_share:
        return (f"{len(failed)} of {len(counted)} fetches failed (more than {site.max_failure_share:.0%}); "
                f"first: {failed[0].error}")
    return None


@dataclass
class _ColumnRead:
    discovered: PageLinks
    records: set
    advertised: int | None


def crawl(targets: list[Site] | list[str], db: Path | None = None, raw_dir: Path | None = None, *,
          site_workers: int = 4, progress: bool = False, client: httpx.Client | None = None,
          on_document=None, **overrides) -> CrawlResult:
    """Crawls `targets` (Site objects, or start URLs crawled with the defaults of schemas/sites.yaml,
    `overrides` replacing any default); reads the last crawl's state from the warehouse `db`;
    stores bodies under `raw_dir`. Writes nothing to `db`: ingest the documents, then record the
    fetches (gknb.crawl.load), so a document is never marked fetched before it is loaded. Until
    then the fetches are in a journal under `raw_dir` (replayed by the next crawl if this one is
    killed); call `result.journal.done()` once loaded. `on_document(CrawledDocument)` is called
    from the crawl's threads as each document is stored (to extract while the crawl goes on)."""
    sites = [t for t in targets if isinstance(t, Site)]
    urls = [t for t in targets if isinstance(t, str)]
    if urls:
        sites += sites_for_urls(urls, **overrides)
    started, clock = _now(), time.monotonic()
    prior, known_sha = read_prior(db)
    root = Path(raw_dir) if raw_dir is not None else default_raw_dir()
    store = RawStore(root)
    try:
        journal = Journal(root)
    except OSError as exc:
        from gknb.errors import environment_failure

        raise environment_failure(exc, root / "journal") from exc
    prior.update(journal.replay())  # what a killed crawl fetched and never loaded
    user_agent = sites[0].user_agent if sites else "gknb-crawler/0.1"
    try:
        with _progress(progress) as on_fetch, Fetcher(user_agent=user_agent, client=client) as fetcher:
            run = Crawl(fetcher, store, prior, known_sha, on_fetch=on_fetch, journal=journal, on_document=on_document)
            # Sites run side by side (each host is still rate-limited on its own); pages of one site in order.
            with ThreadPoolExecutor(max_workers=max(1, min(site_workers, len(sites) or 1))) as pool:
                list(pool.map(run.site, sites))
    finally:
        journal.close()
    result = run.result
    result.journal = journal
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
