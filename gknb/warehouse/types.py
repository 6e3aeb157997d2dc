"""The values that move between extraction (worker processes), loading and the run record.

All are plain dataclasses so they pickle across processes and Prefect tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gknb.contract import Extraction


@dataclass(frozen=True)
class SourceInfo:
    """Where the crawler got a file: recorded in `documents` (and the document's identity is its URL)."""

    url: str | None = None
    fetched_at: datetime | str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    agency_column_url: str | None = None  # the report column the crawler listed it in (issue 12.2)


@dataclass
class ExtractedDocument:
    """One file after extraction: its identity, and either its cells or why it has none."""

    path: str
    sha256: str
    size: int
    format: str | None = None
    extraction: Extraction | None = None
    error: str | None = None  # one line; set when the document is rejected
    error_kind: str | None = None  # unreadable, unsupported, not_a_report, internal
    seconds: float = 0.0  # time spent extracting

    @property
    def ok(self) -> bool:
        return self.extraction is not None and self.error is None


@dataclass
class DocumentOutcome:
    """What loading one document did."""

    document_id: str
    status: str  # loaded, rejected, duplicate, unchanged
    report_id: str | None = None
    superseded: list[str] = field(default_factory=list)
    reason: str | None = None
    seconds: float = 0.0
    path: str | None = None  # the file, for messages

    def describe(self) -> str:
        """One line for the CLI: the reason, led by the file when the reason does not name it."""
        reason = self.reason or self.status
        if self.path and not reason.startswith(self.path):
            return f"{self.path}: {reason}"
        return reason


@dataclass
class IngestRun:
    """One ingest run: its counts and where the time went (a row of `ingest_runs`)."""

    run_id: str
    started: datetime
    finished: datetime | None = None
    trigger: str = "cli"
    workers: int = 1
    documents: int = 0
    loaded: int = 0
    rejected: int = 0
    unchanged: int = 0
    duplicates: int = 0
    superseded: int = 0
    extract_seconds: float = 0.0
    load_seconds: float = 0.0
    wall_seconds: float | None = None
    # What the crawl did for this run (null for a run without a crawl) and the Prefect flow run it
    # belongs to: columns of ingest_runs, so the crawl's printed summary, the run row and the
    # nightly artifact show one set of counters (issue 12.6).
    urls: int | None = None
    requests: int | None = None
    fetch_failures: int | None = None
    bytes_downloaded: int | None = None
    flow_run_id: str | None = None
    rollup_seconds: float = 0.0  # refreshing the out_* rollups (not a column of ingest_runs)
    # The first REJECTED_SAMPLE rejected documents, for the caller to show. Not every outcome:
    # a run of 150,000 documents must not hold one object per document (issue 14.1); the full
    # list is `documents` WHERE run_id = this run AND status = 'rejected'.
    rejected_sample: list[DocumentOutcome] = field(default_factory=list, repr=False)
    sample_size: int = field(default=200, repr=False)

    def count_fetches(self, fetches) -> None:
        """The crawl's counters, from its Fetch records (gknb.crawl.types.Fetch)."""
        fetches = list(fetches)
        self.urls = len(fetches)
        self.requests = sum(f.attempts for f in fetches)
        self.fetch_failures = sum(1 for f in fetches if f.error_kind is not None)
        self.bytes_downloaded = sum(f.size or 0 for f in fetches if f.changed)

    def count(self, outcome: DocumentOutcome) -> None:
        """Add one document's outcome to the run's counts."""
        self.documents += 1
        if outcome.status == "loaded":
            self.loaded += 1
        elif outcome.status == "rejected":
            self.rejected += 1
        elif outcome.status == "duplicate":
            self.duplicates += 1
        else:
            self.unchanged += 1
        self.superseded += len(outcome.superseded)
        self.load_seconds += outcome.seconds
        if outcome.status == "rejected" and len(self.rejected_sample) < self.sample_size:
            self.rejected_sample.append(outcome)

    @property
    def rejected_not_shown(self) -> int:
        """Rejected documents beyond the sample."""
        return self.rejected - len(self.rejected_sample)

    def summary(self) -> str:
        share = (self.load_seconds / self.extract_seconds * 100) if self.extract_seconds else 0.0
        return (f"{self.documents} documents: {self.loaded} loaded, {self.rejected} rejected, "
                f"{self.unchanged} unchanged, {self.duplicates} duplicates, {self.superseded} superseded; "
                f"extracting {self.extract_seconds:.1f}s, loading {self.load_seconds:.1f}s "
                f"({share:.0f}% of extraction)")
