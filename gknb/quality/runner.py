"""`run_checks`: observe, validate, and publish findings, runs and Data Docs in one step.

Everything is written through `gknb.warehouse.publish.building`, so a reader of the warehouse
sees either the previous run's findings or this run's, never half of one.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from gknb.quality.errors import WarehouseNotFound
from gknb.quality.findings import FINDING_COLUMNS, CheckRun


def default_docs_dir(db: Path) -> Path:
    """One Data Docs site per warehouse, in its data directory (gknb.paths.data_docs_dir)."""
    from gknb.paths import data_docs_dir

    return data_docs_dir(db)


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def _utcnow() -> datetime:
    # Naive UTC: DuckDB TIMESTAMP columns carry no zone.
    return datetime.now(timezone.utc).replace(tzinfo=None)


@contextmanager
def _progress(show: bool, total: int):
    """A rich progress bar over the checks, or a no-op."""
    if not show:
        yield lambda check_id: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("checks"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("", total=total)
        yield lambda check_id: bar.update(task, advance=1, description=check_id)


def run_checks(db: Path | str, *, docs_dir: Path | None = None, build_docs: bool = True,
               progress: bool = False) -> CheckRun:
    """Runs every suite on the current reports of `db` and publishes dq_findings, dq_runs and the
    Data Docs (into `docs_dir`, default `default_docs_dir(db)`). Findings are data: this returns
    normally whatever the checks found, and raises QualityError only when they could not run."""
    from gknb.quality.observe import observe_all
    from gknb.quality.suites import all_checks
    from gknb.quality.validate import validate
    from gknb.warehouse.publish import building

    db = Path(db)
    if not db.exists():
        raise WarehouseNotFound(f"{db}: no warehouse here; run `gknb ingest` first")
    if build_docs:
        # Absolute, so dq_runs.data_docs and the dashboard's link work from any directory.
        docs_dir = default_docs_dir(db) if docs_dir is None else Path(docs_dir).resolve()
    started = _utcnow()
    run_id = new_run_id(started)
    checks = all_checks()
    with building(db) as con, _progress(progress, len(checks)) as advance:
        observations = observe_all(con, checks)
        findings, index = validate(checks, observations, run_id=run_id,
                                   docs_dir=docs_dir if build_docs else None, on_check=advance)
        reports = con.execute("SELECT count(*) FROM q_reports").fetchone()[0]
        errors = int((findings["severity"] == "error").sum())
        warnings = int((findings["severity"] == "warning").sum())
        finished = _utcnow()
        con.execute(
            "INSERT INTO dq_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, started, finished, len(checks), reports, errors, warnings,
             str(index) if index else None],
        )
        con.register("q_new_findings", findings)
        cols = ", ".join(FINDING_COLUMNS)
        con.execute(f"INSERT INTO dq_findings ({cols}) SELECT {cols} FROM q_new_findings")
        con.unregister("q_new_findings")
    return CheckRun(run_id=run_id, started=started, finished=finished, checks=len(checks),
                    reports=int(reports), errors=errors, warnings=warnings, data_docs=index)
