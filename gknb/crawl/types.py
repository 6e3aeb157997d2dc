"""The crawl's data: a site's settings, one fetch of one URL, and the result of a crawl."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# What a fetched URL is to the crawl: a list page (links to reports, paginated), a report page
# (an HTML report, or the page that links a report's attachments), an attachment (a PDF, a Word
# or WPS file, an image), or robots.txt.
LIST_PAGE = "list"
REPORT_PAGE = "report_page"
ATTACHMENT = "attachment"
ROBOTS = "robots"


@dataclass(frozen=True)
class LinkPatterns:
    """Regular expressions that tell a list page's links apart (searched, case-insensitive)."""

    pagination_text: tuple[str, ...] = ()
    pagination_url: tuple[str, ...] = ()
    report_link_text: tuple[str, ...] = ()
    report_url: tuple[str, ...] = ()
    attachment_url: tuple[str, ...] = ()
    exclude_url: tuple[str, ...] = ()
    report_table_text: tuple[str, ...] = ()
    # Discovery (issue 12.2): a link to a report column (政府信息公开年报, no year in it), a link to
    # a page listing agencies (部门, 地方部门平台链接), and on such a page a link to one agency.
    column_link_text: tuple[str, ...] = ()
    hub_link_text: tuple[str, ...] = ()
    agency_link_text: tuple[str, ...] = ()
    # Anchor texts that are navigation, never a report nor a column (首页, 返回列表).
    navigation_text: tuple[str, ...] = ()

    def matches(self, kind: str, value: str) -> bool:
        return any(re.search(p, value, re.IGNORECASE) for p in getattr(self, kind))


@dataclass(frozen=True)
class Site:
    """One site to crawl: where to start, which hosts may be fetched, how politely, what links mean."""

    name: str
    start_urls: tuple[str, ...]
    allowed_hosts: frozenset[str]
    patterns: LinkPatterns
    requests_per_second: float = 1.0
    timeout_seconds: float = 20.0
    retries: int = 3
    backoff_seconds: float = 1.0
    max_bytes: int = 50 * 1024 * 1024
    max_list_pages: int = 30
    max_redirects: int = 5
    user_agent: str = "gknb-crawler/0.1"
    obey_robots: bool = True
    # Which list-page reader: auto (chosen from the page itself), trs, hanweb or plain.
    adapter: str = "auto"
    # The query parameters a TRS JSON list API takes for the page number and the page size.
    api_page_param: str = "page"
    api_size_param: str = "prepage"
    # Links followed from the start pages to agencies' report columns (0: the start pages are the columns).
    discovery_depth: int = 0
    # The nightly run fails when more than this share of the site's fetches failed.
    max_failure_share: float = 0.5
    # Limits (issue 15): default from gknb.settings.limits(), a site may set its own.
    request_deadline_seconds: float = 120.0
    robots_max_bytes: int = 524288
    robots_timeout_seconds: float = 30.0
    max_crawl_delay_seconds: float = 30.0
    site_time_budget_seconds: float = 3600.0
    # Origins (scheme, host, port) the start URLs name: a bare host in allowed_hosts allows these
    # ports and the scheme's default port, never another port of the same host (issue 15.11).
    start_origins: frozenset = frozenset()

    def allows_host(self, host: str | None) -> bool:
        return bool(host) and host.lower() in {_entry_host(h) for h in self.allowed_hosts}

    def allows_url(self, url: str) -> bool:
        """Scheme + host + port in the allow-list. An entry `host` allows http(s) on the ports of
        the start URLs of that host and the default ports; `host:port` or `scheme://host:port`
        allows exactly that."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError:
            return False
        host = parts.hostname.lower()
        for entry in self.allowed_hosts:
            scheme, entry_host, entry_port = _parse_entry(entry)
            if entry_host != host or (scheme and scheme != parts.scheme):
                continue
            if entry_port is not None:
                if entry_port == port:
                    return True
                continue
            if port == _DEFAULT_PORTS[parts.scheme] or (parts.scheme, host, port) in self.start_origins:
                return True
        return False


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _parse_entry(entry: str) -> tuple[str | None, str, int | None]:
    """`host`, `host:port` or `scheme://host[:port]` → (scheme or None, host, port or None)."""
    from urllib.parse import urlsplit

    if "://" in entry:
        parts = urlsplit(entry)
        return parts.scheme, (parts.hostname or "").lower(), parts.port
    host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
    return None, host.lower(), int(port) if port.isdigit() else None


def _entry_host(entry: str) -> str:
    return _parse_entry(entry)[1]


def origin_of(url: str) -> tuple[str, str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)


@dataclass(frozen=True)
class PriorFetch:
    """What the last crawl learned about a URL: the validators for a conditional request."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str | None
    raw_path: str | None


@dataclass
class Fetch:
    """One URL fetched (or refused) in this crawl; the rows of the crawl state table."""

    url: str
    kind: str
    site: str
    fetched_at: datetime
    http_status: int | None = None
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    sha256: str | None = None
    raw_path: str | None = None
    size: int | None = None
    changed: bool = False  # a body we had not stored for this URL before
    error_kind: str | None = None
    error: str | None = None
    attempts: int = 0
    seconds: float = 0.0
    column_url: str | None = None  # the report column whose list led here (not stored in crawl_fetches)

    @property
    def ok(self) -> bool:
        return self.error_kind is None and self.raw_path is not None


@dataclass(frozen=True)
class CrawledDocument:
    """A report file to ingest: a stored raw file and where and when it was fetched."""

    path: Path
    url: str
    fetched_at: datetime
    http_status: int
    etag: str | None
    last_modified: str | None
    sha256: str
    changed: bool  # False: unchanged since the last crawl (kept only when it was never loaded)
    column_url: str | None = None  # the agency's report column (first list page) it was listed in
    site: str | None = None


@dataclass
class CrawlResult:
    """Everything a crawl did: fetches (for the state table), documents to ingest, failures."""

    fetches: list[Fetch] = field(default_factory=list)
    documents: list[CrawledDocument] = field(default_factory=list)
    unchanged: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0
    # One line each: a list advertising more records than were found, a time budget used up.
    warnings: list[str] = field(default_factory=list)
    # Site name → why the site failed (unreachable, robots.txt unreachable, too many failures):
    # the nightly run ends Failed when this is not empty (after loading what was fetched).
    site_failures: dict[str, str] = field(default_factory=dict)
    # Report columns met, per site (the start columns and those discovered).
    columns: dict[str, list[str]] = field(default_factory=dict)
    journal: object | None = field(default=None, repr=False)  # gknb.crawl.journal.Journal

    @property
    def failures(self) -> list[Fetch]:
        return [f for f in self.fetches if f.error_kind is not None]

    @property
    def requests(self) -> int:
        return sum(f.attempts for f in self.fetches)

    @property
    def bytes_downloaded(self) -> int:
        return sum(f.size or 0 for f in self.fetches if f.changed)

    def summary(self) -> dict[str, int | float]:
        return {
            "urls": len(self.fetches),
            "requests": self.requests,
            "documents": len(self.documents),
            "documents_to_ingest": len(self.documents) - self.unchanged,  # new or changed, or never loaded
            "unchanged": self.unchanged,
            "failures": len(self.failures),
            "warnings": len(self.warnings),
            "sites_failed": len(self.site_failures),
            "bytes_downloaded": self.bytes_downloaded,
            "seconds": round(self.seconds, 2),
        }
