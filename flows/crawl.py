"""The `gknb-crawl` flow: one task per site (named after the site; retried only on transient
errors), each writing its table artifact as soon as it is done; results merged.

A site's fetch failures are logged at WARNING with their URLs; a failed site (unreachable,
robots.txt unreachable, too many failed fetches) at ERROR naming it. A permanent error (the raw
store unwritable, a corrupt warehouse: gknb.errors.TerminalError) is not retried.
"""

from __future__ import annotations

import hashlib
import re

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE

from gknb.crawl import CrawlResult, Site
from gknb.crawl.sites import NoSites, resolve_sites  # noqa: F401  (re-exported for the flows)
from gknb.errors import TerminalError
from gknb.flows.settings import NETWORK_TAG, crawl_task_runner

MAX_ARTIFACT_ROWS = 500


def transient_only(task, task_run, state) -> bool:
    """Retry a task only when its error may pass (a timeout, a 5xx, a lock): never a TerminalError
    (corrupt warehouse, bad configuration, full disk), which fails the run at once."""
    try:
        state.result()
    except TerminalError:
        return False
    except BaseException:  # noqa: BLE001 - anything else may be transient
        return True
    return True


def artifact_key(prefix: str, name: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) for a site name in any script."""
    ascii_part = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}-{ascii_part + '-' if ascii_part else ''}{digest}"


def site_rows(result: CrawlResult) -> list[dict]:
    """One row per URL the site's crawl met: what happened to it and why."""
    rows = []
    unchanged = {d.url for d in result.documents if not d.changed}
    for fetch in result.fetches[:MAX_ARTIFACT_ROWS]:
        if fetch.error_kind:
            outcome = f"failed: {fetch.error_kind}"
        elif fetch.changed:
            outcome = "fetched"
        else:
            outcome = "unchanged"
        rows.append({"url": fetch.url, "kind": fetch.kind, "outcome": outcome,
                     "http_status": fetch.http_status, "reason": fetch.error or "",
                     "document": "yes" if fetch.url in {d.url for d in result.documents} else "",
                     "unchanged_document": "yes" if fetch.url in unchanged else ""})
    return rows


@task(name="crawl-site", task_run_name="crawl {site.name}", tags=[NETWORK_TAG], retries=2,
      retry_delay_seconds=[5, 30], retry_condition_fn=transient_only, cache_policy=NO_CACHE)
def crawl_site(site: Site, db: str, raw_dir: str | None, feed: str | None = None) -> CrawlResult:
    """Crawls one site. Per-URL failures are in the result; the task is retried only if the crawl
    itself broke for a reason that may pass. `feed`: the key of a gknb.crawl.load.DocumentFeed
    that hands each document to the pipeline as soon as it is stored."""
    from functools import partial
    from pathlib import Path

    from prefect.artifacts import create_table_artifact

    from gknb.crawl import crawl
    from gknb.crawl.load import DocumentFeed

    logger = get_run_logger()
    result = crawl([site], Path(db), Path(raw_dir) if raw_dir else None,
                   on_document=partial(DocumentFeed.put_for, feed) if feed else None)
    for fetch in result.failures:
        if fetch.error_kind in ("robots", "outside_allow_list") and "unreachable" not in (fetch.error or ""):
            logger.info("%s: refused %s: %s", site.name, fetch.error_kind, fetch.error)
        else:
            logger.warning("%s: fetch failed (%s): %s", site.name, fetch.error_kind, fetch.error)
    for warning in result.warnings:
        logger.warning("%s", warning)
    s = result.summary()
    logger.info("%s: %s URLs, %s requests, %s documents (%s new or changed), %s failed",
                site.name, s["urls"], s["requests"], s["documents"], s["documents_to_ingest"], s["failures"])
    # Written now, while the other sites still crawl: what this site did, URL by URL.
    create_table_artifact(key=artifact_key("crawl", site.name), table=site_rows(result),
                          description=f"crawl of {site.name}: {s['urls']} URLs, {s['failures']} failed, "
                                      f"{s['documents']} documents"
                                      + (f"; FAILED: {result.site_failures[site.name]}" if site.name in result.site_failures else ""))
    return result


def merge(results: list[CrawlResult]) -> CrawlResult:
    """One result for the run; a URL two sites share is kept once."""
    merged, seen_docs, seen_urls = CrawlResult(), set(), set()
    journals = []
    for result in results:
        merged.unchanged += result.unchanged
        merged.seconds = max(merged.seconds, result.seconds)
        merged.warnings += result.warnings
        merged.site_failures.update(result.site_failures)
        merged.columns.update(result.columns)
        if result.journal is not None:
            journals.append(result.journal)
        for fetch in result.fetches:
            if fetch.url not in seen_urls:
                seen_urls.add(fetch.url)
                merged.fetches.append(fetch)
        for doc in result.documents:
            if doc.url not in seen_docs:
                seen_docs.add(doc.url)
                merged.documents.append(doc)
    merged.journal = _Journals(journals)
    return merged


class _Journals:
    """The journals of every site's crawl, done together once the run is loaded."""

    def __init__(self, journals: list):
        self.journals = journals

    def done(self) -> None:
        for journal in self.journals:
            journal.done()


@flow(name="gknb-crawl", log_prints=True, validate_parameters=False, task_runner=crawl_task_runner())
def crawl(sites: list[Site], db: str, raw_dir: str | None = None, feed: str | None = None) -> CrawlResult:
    """Crawls every site side by side (one task each); each host keeps its own rate limit. A site
    whose task failed for good is a failed site of the run (logged at ERROR); the others go on."""
    logger = get_run_logger()
    futures = crawl_site.map(sites, db=unmapped(db), raw_dir=unmapped(raw_dir), feed=unmapped(feed))
    results = []
    broken: dict[str, str] = {}
    for site, future in zip(sites, futures):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):  # one broken site must not stop the others' night
            logger.error("%s: crawl failed: %s", site.name, outcome)
            if isinstance(outcome, TerminalError):
                raise outcome  # a permanent error (corrupt warehouse, full disk): the run fails at once
            broken[site.name] = f"crawl failed: {outcome}"
            continue
        results.append(outcome)
    merged = merge(results)
    merged.site_failures.update(broken)
    for name, why in merged.site_failures.items():
        logger.error("site %s failed: %s", name, why)
    return merged
