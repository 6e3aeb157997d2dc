"""The `gknb-crawl` flow: one task per site (network: retried), results merged."""

from __future__ import annotations

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE

from gknb.flows.settings import NETWORK_TAG, crawl_task_runner
from gknb.crawl import CrawlResult, Site
from gknb.crawl.sites import NoSites, resolve_sites  # noqa: F401  (re-exported for the flows)


@task(name="crawl-site", tags=[NETWORK_TAG], retries=2, retry_delay_seconds=30, cache_policy=NO_CACHE)
def crawl_site(site: Site, db: str, raw_dir: str | None) -> CrawlResult:
    """Crawls one site. Per-URL failures are in the result; the task is retried only if the crawl
    itself broke (the raw store unwritable, the warehouse unreadable…)."""
    from pathlib import Path

    from gknb.crawl import crawl

    result = crawl([site], Path(db), Path(raw_dir) if raw_dir else None)
    s = result.summary()
    get_run_logger().info("%s: %s URLs, %s requests, %s new or changed documents, %s unchanged, %s failed",
                          site.name, s["urls"], s["requests"], s["documents_to_ingest"], s["unchanged"], s["failures"])
    return result


def merge(results: list[CrawlResult]) -> CrawlResult:
    """One result for the run; a URL two sites share is kept once."""
    merged, seen_docs, seen_urls = CrawlResult(), set(), set()
    for result in results:
        merged.unchanged += result.unchanged
        merged.seconds = max(merged.seconds, result.seconds)
        for fetch in result.fetches:
            if fetch.url not in seen_urls:
                seen_urls.add(fetch.url)
                merged.fetches.append(fetch)
        for doc in result.documents:
            if doc.url not in seen_docs:
                seen_docs.add(doc.url)
                merged.documents.append(doc)
    return merged


@flow(name="gknb-crawl", log_prints=True, validate_parameters=False, task_runner=crawl_task_runner())
def crawl(sites: list[Site], db: str, raw_dir: str | None = None) -> CrawlResult:
    """Crawls every site side by side (one task each); each host keeps its own rate limit."""
    futures = crawl_site.map(sites, db=unmapped(db), raw_dir=unmapped(raw_dir))
    results = []
    for site, future in zip(sites, futures):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):  # one broken site must not stop the others' night
            get_run_logger().error("%s: crawl failed after retries: %s", site.name, outcome)
            continue
        results.append(outcome)
    return merge(results)
