"""`gknb crawl`, `gknb nightly`, `gknb serve`: the crawler and the Prefect flows (issue 6).

Prefect is imported only inside `nightly` and `serve`, so `gknb extract` and `gknb crawl` never load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from gknb.config import validate_configuration
from gknb.errors import GknbError

NOTIFY_HELP = ("Webhook URL that receives a JSON POST (flow run id, error, failed sites, counters) when the "
               "nightly run fails; default the GKNB_NOTIFY_URL environment variable.")
DB_HELP = "Warehouse file (default: warehouse.duckdb in the data directory)."
RAW_HELP = "Folder of the raw layer: fetched files stored by SHA-256 (default: raw/ in the data directory)."


def crawl(
    urls: List[str] = typer.Argument(None, help="Start URLs: a site's front page, a 部门 page or report columns; each is crawled with the defaults of the site list, allowed on its own scheme, host and port. Without URLs, the enabled sites of --sites."),
    sites: Optional[Path] = typer.Option(None, "--sites", help="Site list (default schemas/sites.yaml): its enabled sites are crawled, or its defaults apply to the start URLs given."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    raw: Optional[Path] = typer.Option(None, "--raw", help=RAW_HELP),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Extraction worker processes (default: one per core, or GKNB_EXTRACT_WORKERS)."),
    rate: Optional[float] = typer.Option(None, "--rate", min=0.01, help="Requests per second to one host (default from the site list: 1)."),
    depth: Optional[int] = typer.Option(None, "--depth", min=0, help="Discovery depth for start URLs: links followed from a start page to agencies' report columns (default from the site list: 3; 0 = the start URLs are the columns)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress display (logs, CI)."),
) -> None:
    """Crawl report columns (robots.txt obeyed, only new or changed files downloaded) and load what they hold.

    Prints one summary line (the same counters as the run's ingest_runs row), then every failed
    URL with its reason. Exit 1 when a site failed (unreachable, robots.txt unreachable, or more
    than its max_failure_share of fetches failed) - after loading what was fetched.
    """
    validate_configuration(include_sites=sites)  # configuration errors stop the run before anything is recorded
    import logging

    from functools import partial

    from gknb.crawl import crawl as run_crawl
    from gknb.crawl.load import DocumentFeed
    from gknb.crawl.report import counters, failure_lines, summary_line
    from gknb.crawl.sites import resolve_sites
    from gknb.paths import default_warehouse

    # Every failure is listed below with its reason; the log would repeat them line for line.
    logging.getLogger("gknb.crawl").addHandler(logging.NullHandler())
    logging.getLogger("gknb.crawl").propagate = False
    target = db or default_warehouse()
    overrides = {}
    if rate:
        overrides["requests_per_second"] = rate
    if depth is not None:
        overrides["discovery_depth"] = depth
    targets = resolve_sites(list(urls or []), sites, **overrides)
    from gknb.pipeline import ingest, stop_on_signals

    def crawl_all(feed: str):
        return run_crawl(targets, target, raw, progress=not no_progress,
                         on_document=partial(DocumentFeed.put_for, feed))

    # Documents are extracted while the crawl goes on (gknb.crawl.load.DocumentFeed), loaded with
    # the crawl's fetch records in one build; SIGTERM stops the workers, nothing half-published.
    with stop_on_signals(), DocumentFeed(crawl_all) as feed:
        run = ingest(feed.documents(), target, workers=workers, fetches=feed.fetches, trigger="crawl")
        result = feed.result()
    if result.journal is not None:
        result.journal.done()  # the fetches are in the warehouse now
    typer.echo(summary_line(counters(result, run)))
    for line in failure_lines(result):
        typer.echo(line, err=True)
    for outcome in run.rejected_sample:
        typer.echo(f"  rejected: {outcome.describe()}", err=True)
    typer.echo(f"{target}: {run.summary()}")
    if result.site_failures:
        raise typer.Exit(1)


def _check_sites(command: str, urls: List[str] | None, sites: Optional[Path]) -> None:
    """A bad site list, a malformed URL or nothing to crawl is one line now, before any Prefect
    start-up - not a flow run that fails later (for `serve`, every night at 02:00)."""
    if urls and sites:
        typer.echo(f"gknb {command}: give start URLs or --sites, not both", err=True)
        raise typer.Exit(2)
    from gknb.crawl import CrawlError
    from gknb.crawl.sites import resolve_sites

    try:
        resolve_sites(list(urls or []), sites)
    except CrawlError as exc:
        typer.echo(f"gknb {command}: {exc}", err=True)
        raise typer.Exit(2)


def nightly(
    urls: List[str] = typer.Argument(None, help="Start URLs to crawl instead of the site list."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    sites: Optional[Path] = typer.Option(None, "--sites", help="Site list (default schemas/sites.yaml; its enabled sites are crawled)."),
    raw: Optional[Path] = typer.Option(None, "--raw", help=RAW_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder: dashboard/ (index.html) and the published snapshot/ (default: the data directory)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Extraction worker processes (default: one per core, or GKNB_EXTRACT_WORKERS)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="Dask scheduler address (tcp://host:8786) to extract on a cluster; default the GKNB_DASK_ADDRESS environment variable."),
    notify: Optional[str] = typer.Option(None, "--notify", help=NOTIFY_HELP),
) -> None:
    """Run the nightly Prefect flow once: crawl → extract → load → rollups → checks → dashboard → release.

    Without PREFECT_API_URL it runs on a temporary local Prefect server with its own PREFECT_HOME.
    Exit 1 (flow run Failed, ERROR lines naming the site, notification sent) when a site failed
    - after loading what was fetched; nothing is published then.
    """
    validate_configuration(include_sites=sites)  # configuration errors stop the run before anything is recorded
    _check_sites("nightly", urls, sites)
    from gknb.flows.settings import prepare_prefect_environment, start_temporary_server
    from gknb.pipeline import stop_on_signals

    # SIGTERM unwinds like Ctrl-C: extraction workers killed, the build discarded, and at exit the
    # temporary Prefect server stopped and its PREFECT_HOME removed (issue 15.8).
    with stop_on_signals():
        prepare_prefect_environment()
        server = start_temporary_server()  # it starts while the flow's modules load
        from gknb.flows.nightly import NightlyError, nightly as nightly_flow
        from gknb.paths import data_dir, default_warehouse

        if server is not None:
            server.wait_ready()
        state = nightly_flow(urls=list(urls or []), sites_file=str(sites) if sites else None,
                             db=str(db or default_warehouse()), raw_dir=str(raw) if raw else None,
                             out=str(out or data_dir()), workers=workers, dask_address=dask, notify_url=notify,
                             return_state=True)
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, NightlyError):
        typer.echo(f"gknb nightly: {outcome}", err=True)
        raise typer.Exit(2)
    if isinstance(outcome, GknbError):
        raise outcome  # one line, exit 2 (a corrupt warehouse, a full disk)
    if isinstance(outcome, BaseException) or not state.is_completed():
        typer.echo(f"gknb nightly: run {state.name}: {outcome}", err=True)
        raise typer.Exit(1)
    typer.echo(outcome["text"])


def serve(
    cron: str = typer.Option("0 2 * * *", "--cron", help="When the nightly flow runs (cron syntax)."),
    timezone: str = typer.Option("Asia/Shanghai", "--timezone", help="Time zone of the cron schedule (IANA name)."),
    name: str = typer.Option("gknb-nightly", "--name", help="Deployment name on the Prefect server."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    sites: Optional[Path] = typer.Option(None, "--sites", help="Site list the scheduled runs crawl (default schemas/sites.yaml)."),
    url: List[str] = typer.Option(None, "--url", help="A start URL the scheduled runs crawl instead of the site list (repeatable)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder of the scheduled runs (default: the data directory)."),
    notify: Optional[str] = typer.Option(None, "--notify", help=NOTIFY_HELP),
) -> None:
    """Register the nightly deployment (cron schedule) on the Prefect server at PREFECT_API_URL and run its flows when due.

    Start the server first: `prefect server start --host 127.0.0.1`, then
    `PREFECT_API_URL=http://127.0.0.1:4200/api gknb serve`. Stops with Ctrl-C.
    """
    validate_configuration(include_sites=sites)  # configuration errors stop the run before anything is recorded
    import os

    from gknb.flows.deploy import validate_schedule

    validate_schedule(cron, timezone)  # a bad cron or time zone: one line, exit 2, before Prefect is asked
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("gknb serve: set PREFECT_API_URL to a running Prefect server "
                   "(prefect server start --host 127.0.0.1; PREFECT_API_URL=http://127.0.0.1:4200/api)", err=True)
        raise typer.Exit(2)
    _check_sites("serve", url, sites)
    from gknb.flows.deploy import serve_nightly
    from gknb.paths import data_dir, default_warehouse

    parameters = {"db": str((db or default_warehouse()).resolve()), "out": str((out or data_dir()).resolve()),
                  "sites_file": str(sites.resolve()) if sites else None, "urls": list(url or []),
                  "notify_url": notify or os.environ.get("GKNB_NOTIFY_URL")}
    serve_nightly(cron=cron, timezone=timezone, name=name, parameters=parameters)


def register(app: typer.Typer) -> None:
    """Adds this area's commands to `gknb`."""
    app.command("crawl")(crawl)
    app.command("nightly")(nightly)
    app.command("serve")(serve)
