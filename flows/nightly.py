"""The `gknb-nightly` flow: crawl → extract (mapped, concurrency-limited, locally or on Dask) →
load + rollups (one atomic build) → checks → dashboard → publish the snapshot.

A failed document is a rejected row; a failed site is logged; neither fails the run. The run's
counts and timings are written to `ingest_runs` and shown in the Prefect UI as a Markdown
artifact (key `gknb-nightly`) and in the flow run's name and logs.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from gknb.flows.crawl import NoSites, crawl, resolve_sites
from gknb.flows.ingest import load, run_extraction
from gknb.flows.settings import extraction_placement
from gknb.crawl import CrawlError


class NightlyError(Exception):
    """The nightly run could not start (no site to crawl, a malformed site list)."""


@task(name="checks", cache_policy=NO_CACHE)
def checks(db: str):
    from gknb.quality import run_checks

    run = run_checks(Path(db))
    get_run_logger().info("%s", run.summary())
    return {"checks": run.checks, "reports": run.reports, "errors": run.errors, "warnings": run.warnings,
            "data_docs": str(run.data_docs) if run.data_docs else None}


@task(name="dashboard", cache_policy=NO_CACHE)
def dashboard(db: str, out: str) -> str:
    from gknb.quality.dashboard import build_dashboard

    return str(build_dashboard(Path(db), Path(out)))


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def publish_snapshot(db: str, out: str, summary: dict) -> str:
    """Copies the warehouse the run ended with to out/snapshot/ (swapped in atomically) with a
    manifest of the run: what analysts download or open, untouched by the next night's build."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "warehouse.duckdb"
    tmp = folder / f".warehouse.duckdb.part-{os.getpid()}"
    shutil.copyfile(db, tmp)
    os.replace(tmp, target)
    manifest = folder / "manifest.json"
    tmp_manifest = folder / f".manifest.json.part-{os.getpid()}"
    tmp_manifest.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp_manifest, manifest)  # like the warehouse: never read half-written
    return str(target)


def _run_name() -> str:
    return "nightly-" + datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%MZ")


def _markdown(summary: dict) -> str:
    crawl_s, run, check = summary["crawl"], summary["ingest"], summary.get("checks") or {}
    rows = [
        ("URLs crawled", crawl_s["urls"]), ("HTTP requests", crawl_s["requests"]),
        ("bytes downloaded", crawl_s["bytes_downloaded"]), ("fetch failures", crawl_s["failures"]),
        ("documents new or changed", crawl_s["documents_to_ingest"]), ("documents unchanged", crawl_s["unchanged"]),
        ("reports loaded", run["loaded"]), ("documents rejected", run["rejected"]),
        ("duplicates", run["duplicates"]), ("reports superseded", run["superseded"]),
        ("check errors", check.get("errors", "—")), ("check warnings", check.get("warnings", "—")),
    ]
    times = summary["seconds"]
    lines = ["# gknb nightly run", "", "| measure | count |", "| --- | ---: |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", "| stage | seconds |", "| --- | ---: |"]
    lines += [f"| {stage} | {value:.1f} |" for stage, value in times.items()]
    if summary["failures"]:
        lines += ["", "## Fetch failures", ""] + [f"- `{f}`" for f in summary["failures"][:50]]
    if summary["rejected"]:
        lines += ["", "## Rejected documents", ""] + [f"- {r}" for r in summary["rejected"][:50]]
    lines += ["", f"Dashboard: `{summary['dashboard']}` · snapshot: `{summary['snapshot']}`"]
    return "\n".join(lines)


@flow(name="gknb-nightly", flow_run_name=_run_name, log_prints=True)
def nightly(urls: list[str] | None = None, sites_file: str | None = None, db: str = "data/warehouse.duckdb",
            raw_dir: str | None = None, out: str = "data/out", workers: int | None = None,
            dask_address: str | None = None) -> dict:
    """Crawl the sites (or start URLs), load what is new, check, and publish the dashboard and snapshot."""
    logger = get_run_logger()
    clock, seconds = time.perf_counter(), {}
    try:
        sites = resolve_sites(urls, sites_file)
    except (NoSites, CrawlError) as exc:
        raise NightlyError(str(exc)) from exc

    stage = time.perf_counter()
    result = crawl(sites, db, raw_dir)
    seconds["crawl"] = time.perf_counter() - stage

    stage = time.perf_counter()
    placement = extraction_placement(workers, dask_address)
    extracted = run_extraction([str(d.path) for d in result.documents], placement)
    seconds["extract (wall)"] = time.perf_counter() - stage

    from gknb.crawl.load import source_of

    stage = time.perf_counter()
    run = load(db, extracted, [source_of(d) for d in result.documents], result.fetches, "nightly",
               placement.workers, clock)
    seconds["load + rollups"] = time.perf_counter() - stage

    stage = time.perf_counter()
    check_summary = checks(db)
    seconds["checks"] = time.perf_counter() - stage

    stage = time.perf_counter()
    index = dashboard(db, str(Path(out) / "dashboard"))
    seconds["dashboard"] = time.perf_counter() - stage

    summary = {
        "run_id": run.run_id,
        "crawl": result.summary(),
        "ingest": {k: getattr(run, k) for k in ("documents", "loaded", "rejected", "unchanged", "duplicates",
                                                 "superseded", "extract_seconds", "load_seconds")},
        "checks": check_summary,
        "dashboard": index,
        "failures": [f"{f.error_kind}: {f.error}" for f in result.failures],
        "rejected": [o.reason for o in run.outcomes if o.status == "rejected"],
        "seconds": seconds,
        "placement": "dask " + placement.dask_address if placement.on_dask else f"{placement.workers} local processes",
    }
    stage = time.perf_counter()
    summary["snapshot"] = str(Path(out) / "snapshot" / "warehouse.duckdb")
    # The manifest is written inside the snapshot step: it holds the timings of the stages before it.
    publish_snapshot(db, str(Path(out) / "snapshot"), summary)
    seconds["snapshot"] = time.perf_counter() - stage
    seconds["total"] = time.perf_counter() - clock

    create_markdown_artifact(key="gknb-nightly", markdown=_markdown(summary), description="counts and timings of the run")
    summary["text"] = (f"nightly {run.run_id}: crawled {result.summary()['urls']} URLs, "
                       f"{run.loaded} reports loaded, {run.rejected} rejected, {run.superseded} superseded, "
                       f"{len(result.failures)} fetch failures; checks: {check_summary['errors']} errors, "
                       f"{check_summary['warnings']} warnings; dashboard {index}; snapshot {summary['snapshot']} "
                       f"({seconds['total']:.1f}s)")
    logger.info(summary["text"])
    return summary
