"""One set of counters for a crawl run (issue 12.6): the printed summary of `gknb crawl`, the
`ingest_runs` row and the nightly artifact all read `counters(result, run)`, built from the
crawl's fetches and the ingest run that loaded its documents (the run row stores the same fetch
counters: IngestRun.count_fetches)."""

from __future__ import annotations

from gknb.crawl.types import CrawlResult

# In the order they are printed and tabled; (key, label).
COUNTERS = (
    ("urls", "URLs crawled"), ("requests", "HTTP requests"), ("bytes_downloaded", "bytes downloaded"),
    ("fetch_failures", "fetch failures"), ("documents", "documents"), ("loaded", "reports loaded"),
    ("rejected", "documents rejected"), ("unchanged", "documents unchanged"), ("duplicates", "duplicates"),
    ("superseded", "reports superseded"), ("warnings", "warnings"), ("sites_failed", "sites failed"),
)


def counters(result: CrawlResult, run) -> dict[str, int]:
    """The run's counters: fetch counters as the run row stores them, document counters of the run."""
    if run.urls is None:  # a run that recorded no fetch (nothing crawled)
        run.count_fetches(result.fetches)
    values = {key: getattr(run, key) for key in ("urls", "requests", "bytes_downloaded", "fetch_failures",
                                                 "documents", "loaded", "rejected", "unchanged",
                                                 "duplicates", "superseded")}
    values["warnings"] = len(result.warnings)
    values["sites_failed"] = len(result.site_failures)
    return values


def summary_line(values: dict[str, int]) -> str:
    return (f"crawled {values['urls']} URLs in {values['requests']} requests ({values['bytes_downloaded']} bytes "
            f"downloaded, {values['fetch_failures']} failed): {values['documents']} documents, "
            f"{values['loaded']} loaded, {values['rejected']} rejected, {values['unchanged']} unchanged, "
            f"{values['duplicates']} duplicates, {values['superseded']} superseded")


def failure_lines(result: CrawlResult) -> list[str]:
    """Every failed or refused URL with its reason, the warnings, and each failed site."""
    lines = [f"  {f.error_kind}: {f.error}" for f in result.failures]
    lines += [f"  warning: {w}" for w in result.warnings]
    lines += [f"  site failed: {name}: {why}" for name, why in result.site_failures.items()]
    return lines
