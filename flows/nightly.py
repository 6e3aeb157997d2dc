"""The `gknb-nightly` flow: crawl → extract (group tasks, locally or on Dask) → load + rollups
(one atomic build) → checks → dashboard → publish a dated release.

Failure policy (issue 12.7): a failed document is a rejected row and never fails the run. A failed
site (unreachable, robots.txt unreachable, more than its max_failure_share of fetches failed)
makes the run end Failed - after loading, checking and the dashboard, so what was fetched is kept
- with ERROR log lines naming the site; nothing is published then. A permanent error
(gknb.errors.TerminalError: corrupt warehouse, bad configuration, full disk) fails the run at
once, without retries. Either way the notification hook (--notify URL / GKNB_NOTIFY_URL) gets a
JSON POST. The run's counters are in `ingest_runs` (with the flow-run id; `dq_runs` holds it
too), in per-site table artifacts written as the run goes, and in the Markdown artifact
`gknb-nightly`.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from gknb.flows.crawl import NoSites, artifact_key, crawl, resolve_sites
from gknb.flows.ingest import run_ingest
from gknb.flows.settings import extraction_placement
from gknb.crawl import CrawlError


class NightlyError(Exception):
    """The nightly run could not start (no site to crawl, a malformed site list)."""


class NightlyFailed(Exception):
    """The run loaded what it fetched but a site failed: the flow ends Failed (issue 12.7)."""


NOTIFY_ENV = "GKNB_NOTIFY_URL"


def notify(url: str | None, payload: dict) -> str | None:
    """POSTs the failed run's summary (JSON) to the webhook; returns why it could not, or None.
    A notification that cannot be sent is logged, never a second failure of the run."""
    url = url or os.environ.get(NOTIFY_ENV)
    if not url:
        return None
    import httpx

    try:
        response = httpx.post(url, json=payload, timeout=10)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        return f"notification to {url} failed: {exc}"
    return None


@task(name="checks", cache_policy=NO_CACHE)
def checks(db: str):
    from gknb.quality import run_checks

    run = run_checks(Path(db))
    get_run_logger().info("%s", run.summary())
    return {"run_id": run.run_id, "checks": run.checks, "reports": run.reports, "errors": run.errors,
            "warnings": run.warnings, "data_docs": str(run.data_docs) if run.data_docs else None}


@task(name="dashboard", cache_policy=NO_CACHE)
def dashboard(db: str, out: str) -> str:
    from gknb.quality.dashboard import build_dashboard

    return str(build_dashboard(Path(db), Path(out)))


def _run_name() -> str:
    return "nightly-" + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%MZ")


def _markdown(summary: dict) -> str:
    from gknb.crawl.report import COUNTERS

    values, check = summary["counters"], summary.get("checks") or {}
    rows = [(label, values[key]) for key, label in COUNTERS]
    rows += [("check errors", check.get("errors", "—")), ("check warnings", check.get("warnings", "—"))]
    times = summary["seconds"]
    lines = ["# gknb nightly run", "", f"ingest run `{summary['run_id']}` · check run `{summary.get('check_run_id')}` "
             f"· flow run `{summary.get('flow_run_id')}`", "", "| measure | count |", "| --- | ---: |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", "| stage | seconds |", "| --- | ---: |"]
    lines += [f"| {stage} | {value:.1f} |" for stage, value in times.items()]
    if summary["failed_sites"]:
        lines += ["", "## Failed sites", ""] + [f"- **{n}**: {w}" for n, w in summary["failed_sites"].items()]
    if summary["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in summary["warnings"][:50]]
    if summary["failures"]:
        lines += ["", "## Fetch failures", ""] + [f"- `{f}`" for f in summary["failures"][:50]]
    if summary["rejected"]:
        lines += ["", "## Rejected documents", ""] + [f"- {r}" for r in summary["rejected"][:50]]
    lines += ["", f"Dashboard: `{summary['dashboard']}` · published: `{summary['release'] or 'nothing (failed run)'}`"]
    return "\n".join(lines)


@task(name="publish-release", cache_policy=NO_CACHE)
def publish(db: str, out: str, summary: dict) -> str:
    """A dated, immutable release under out/releases/ (gknb.warehouse.release), `latest` repointed."""
    from gknb.warehouse.release import publish_release

    return str(publish_release(Path(db), Path(out) / "releases", summary=summary))


def _load_artifacts(db: str, result, run_id: str) -> None:
    """Per site: each document of the run, loaded or rejected with its reason."""
    from prefect.artifacts import create_table_artifact

    from gknb.warehouse.publish import connect_readonly

    site_of = {d.url: d.site for d in result.documents}
    con = connect_readonly(Path(db))
    try:
        rows = con.execute("SELECT url, status, reason_kind, reason FROM documents WHERE run_id = ? AND url IS NOT NULL",
                           [run_id]).fetchall()
    finally:
        con.close()
    by_site: dict[str, list[dict]] = {}
    for url, status, kind, reason in rows:
        by_site.setdefault(site_of.get(url) or "?", []).append(
            {"url": url, "status": status, "reason_kind": kind or "", "reason": reason or ""})
    for site, table in by_site.items():
        loaded = sum(r["status"] == "loaded" for r in table)
        create_table_artifact(key=artifact_key("load", site), table=table[:500],
                              description=f"{site}: {loaded} loaded, {len(table) - loaded} not loaded")


@flow(name="gknb-nightly", flow_run_name=_run_name, log_prints=True)
def nightly(urls: list[str] | None = None, sites_file: str | None = None, db: str = "data/warehouse.duckdb",
            raw_dir: str | None = None, out: str = "data/out", workers: int | None = None,
            dask_address: str | None = None, notify_url: str | None = None) -> dict:
    """Crawl the sites (or start URLs), load what is new, check, publish the dashboard and a release.
    Ends Failed when a site failed (after loading what was fetched) or on a permanent error."""
    from prefect.runtime import flow_run

    logger = get_run_logger()
    flow_run_id = str(flow_run.id) if flow_run.id else None
    try:
        return _nightly(logger, flow_run_id, urls, sites_file, db, raw_dir, out, workers, dask_address)
    except BaseException as exc:  # a failed site, a permanent error, a run that could not start
        payload = {"event": "gknb-nightly failed", "flow_run_id": flow_run_id, "flow_run_name": flow_run.name,
                   "error": f"{type(exc).__name__}: {exc}", "failed_sites": getattr(exc, "failed_sites", {}),
                   "summary": getattr(exc, "summary", None)}
        why = notify(notify_url, payload)
        if why:
            logger.error("%s", why)
        raise


def _nightly(logger, flow_run_id, urls, sites_file, db, raw_dir, out, workers, dask_address) -> dict:
    clock, seconds = time.perf_counter(), {}
    from gknb.config import validate_configuration

    validate_configuration(include_sites=sites_file)  # a scheduled run: schemas/ may have changed since `serve`
    try:
        sites = resolve_sites(urls, sites_file)
    except (NoSites, CrawlError) as exc:
        raise NightlyError(str(exc)) from exc

    from gknb.crawl.load import DocumentFeed
    from gknb.crawl.report import counters

    stage = time.perf_counter()
    names = ", ".join(site.name for site in sites[:3]) + (f" +{len(sites) - 3}" if len(sites) > 3 else "")
    crawl_run = crawl.with_options(flow_run_name=f"crawl {len(sites)} site(s): {names}")
    crawl_ended: list[float] = []

    def crawl_sites(feed: str):
        try:
            return crawl_run(sites, db, raw_dir, feed=feed)
        finally:
            crawl_ended.append(time.perf_counter())

    # The crawl (a subflow, in a thread) and the one pipeline (gknb.pipeline via
    # flows.ingest.run_ingest: extraction as group tasks, loading, crawl state, rollups and the run
    # row in one build) go on together: each document is extracted once it is stored, not after
    # the last site. A crawl that breaks for good discards the build.
    placement = extraction_placement(workers, dask_address)
    with DocumentFeed(crawl_sites) as feed:
        feed.wait_begun()
        run = run_ingest(feed.documents(), db, placement, fetches=feed.fetches, trigger="nightly")
        result = feed.result()
    if result.journal is not None:
        result.journal.done()  # the fetches are in the warehouse now
    ingest_wall = time.perf_counter() - stage
    seconds["crawl"] = (crawl_ended[0] if crawl_ended else time.perf_counter()) - stage
    loading = run.load_seconds + run.rollup_seconds
    seconds["extract (wall)"] = max(ingest_wall - loading, 0.001)
    seconds["load + rollups"] = loading
    _load_artifacts(db, result, run.run_id)

    stage = time.perf_counter()
    check_summary = checks(db)
    seconds["checks"] = time.perf_counter() - stage

    stage = time.perf_counter()
    index = dashboard(db, str(Path(out) / "dashboard"))
    seconds["dashboard"] = time.perf_counter() - stage

    values = counters(result, run)
    summary = {
        "run_id": run.run_id,
        "flow_run_id": flow_run_id,
        "check_run_id": check_summary.get("run_id"),
        "counters": values,
        "crawl": result.summary(),
        "ingest": {k: getattr(run, k) for k in ("documents", "loaded", "rejected", "unchanged", "duplicates",
                                                 "superseded", "extract_seconds", "load_seconds")},
        "checks": check_summary,
        "dashboard": index,
        "failures": [f"{f.error_kind}: {f.error}" for f in result.failures],
        "warnings": list(result.warnings),
        "failed_sites": dict(result.site_failures),
        "rejected": [o.reason for o in run.rejected_sample],
        "seconds": seconds,
        "placement": "dask " + placement.dask_address if placement.on_dask else f"{placement.workers} local processes",
        "release": None,
    }
    if result.site_failures:
        # Loaded, checked and shown on the dashboard; not published: a release must not cite a
        # night whose sites were not read.
        seconds["total"] = time.perf_counter() - clock
        create_markdown_artifact(key="gknb-nightly", markdown=_markdown(summary), description="counts and timings of the run")
        for name, why in result.site_failures.items():
            logger.error("site %s failed: %s", name, why)
        failure = NightlyFailed(f"nightly {run.run_id}: {len(result.site_failures)} site(s) failed: "
                                + "; ".join(f"{n}: {w}" for n, w in result.site_failures.items())
                                + f" ({run.loaded} reports loaded; nothing published)")
        failure.failed_sites, failure.summary = dict(result.site_failures), _jsonable(summary)
        raise failure

    stage = time.perf_counter()
    # The manifest is written inside the release: it holds the timings of the stages before it.
    summary["release"] = publish(db, out, _jsonable(summary))
    seconds["publish"] = time.perf_counter() - stage
    seconds["total"] = time.perf_counter() - clock

    create_markdown_artifact(key="gknb-nightly", markdown=_markdown(summary), description="counts and timings of the run")
    summary["text"] = (f"nightly {run.run_id}: crawled {values['urls']} URLs, "
                       f"{run.loaded} reports loaded, {run.rejected} rejected, {run.superseded} superseded, "
                       f"{values['fetch_failures']} fetch failures; checks: {check_summary['errors']} errors, "
                       f"{check_summary['warnings']} warnings; dashboard {index}; published {summary['release']} "
                       f"({seconds['total']:.1f}s)")
    logger.info(summary["text"])
    return summary


def _jsonable(value):
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))
