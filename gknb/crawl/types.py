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

    def allows_host(self, host: str | None) -> bool:
        return bool(host) and host.lower() in self.allowed_hosts


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


@dataclass
class CrawlResult:
    """Everything a crawl did: fetches (for the state table), documents to ingest, failures."""

    fetches: list[Fetch] = field(default_factory=list)
    documents: list[CrawledDocument] = field(default_factory=list)
    unchanged: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float = 0.0

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
            "documents_to_ingest": len(self.documents),
            "unchanged": self.unchanged,
            "failures": len(self.failures),
            "bytes_downloaded": self.bytes_downloaded,
            "seconds": round(self.seconds, 2),
        }
