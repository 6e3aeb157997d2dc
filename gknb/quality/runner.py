"""`run_checks`: the checks in DuckDB, findings, runs and Data Docs, published in one step.

Everything is written through `gknb.warehouse.publish.building`, so a reader of the warehouse
sees either the previous run's findings or this run's, never half of one.

Incremental runs. `dq_checked` remembers, per current report, a fingerprint of its row (agency,
place, year, template, date, warnings; a new version of a document is a new report) when it was
last checked. A run re-checks the reports whose fingerprint changed or that are new, plus the
reports whose findings depend on them: the same agency's neighbouring years (S3.carry, duplicate)
and the district government's reports of the same district (hierarchy) — before and after the
change. Every other report's findings are carried forward from the previous run, so each run's
rows in dq_findings are the complete findings of the warehouse as it stands (the latest run is
the current state). A run is full when asked (`full=True`), when there is no previous run, or
when the checks themselves changed (`checks_version`: a hash of the check SQL, suites,
checks.yaml, the structure and the catalog).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from gknb.quality.errors import WarehouseNotFound
from gknb.quality.findings import CheckRun

FINDING_INSERT_COLUMNS = ("run_id", "report_id", "check_id", "severity", "cause", "section", "row_key",
                          "col_key", "expected", "observed", "page", "message")
# The row of a report whose change makes its findings (and its neighbours') stale.
FINGERPRINT = ("concat_ws('|', report_id, agency, agency_kind, agency_key, year, template, province, "
               "city, district, published, narrative_requests, CAST(warnings AS VARCHAR))")


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


def checks_version() -> str:
    """A hash of everything that decides what the checks find; a change forces a full run."""
    from gknb.paths import SCHEMAS_DIR, SQL_DIR

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    files = sorted((SQL_DIR / "checks").glob("*.sql")) + sorted((here / "suites").glob("*.py")) + [
        here / "engine.py", SCHEMAS_DIR / "checks.yaml", SCHEMAS_DIR / "template_structure.yaml",
        SCHEMAS_DIR / "template_cells.csv"]
    for f in files:
        h.update(f.name.encode())
        h.update(Path(f).read_bytes() if Path(f).exists() else b"")
    h.update(str(_ceiling()).encode())
    return h.hexdigest()[:16]


def _ceiling() -> int:
    try:
        from gknb.settings import limits

        return int(limits().max_count)
    except (ImportError, AttributeError):
        return 10 ** 9


def _previous_run(con):
    row = con.execute("SELECT run_id, checks_version FROM dq_runs ORDER BY finished DESC, run_id DESC "
                      "LIMIT 1").fetchone()
    return row


def _scope_incremental(con) -> int:
    """q_scope: changed or new reports and the reports whose findings depend on them."""
    from gknb.quality.catalog import load_checks

    gov = load_checks().get("hierarchy").params.get("government_kind")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE q_scope AS
    WITH now AS (
        SELECT *, md5({FINGERPRINT}) AS fingerprint FROM q_reports
    ),
    changed AS (
        SELECT n.report_id FROM now n LEFT JOIN dq_checked d USING (report_id)
        WHERE d.report_id IS NULL OR d.fingerprint <> n.fingerprint
    ),
    touched AS (  -- where the changed and the vanished reports are, now and when last checked
        SELECT n.agency_key, n.year, n.province, n.city, n.district FROM now n SEMI JOIN changed c USING (report_id)
        UNION
        SELECT d.agency_key, d.year, d.province, d.city, d.district FROM dq_checked d SEMI JOIN changed c USING (report_id)
        UNION
        SELECT d.agency_key, d.year, d.province, d.city, d.district FROM dq_checked d ANTI JOIN q_reports r USING (report_id)
    )
    SELECT report_id FROM changed
    UNION
    SELECT r.report_id FROM q_reports r JOIN touched t
      ON r.agency_key = t.agency_key AND r.year BETWEEN t.year - 1 AND t.year + 1
    UNION
    SELECT r.report_id FROM q_reports r JOIN touched t
      ON r.district = t.district AND r.city IS NOT DISTINCT FROM t.city
     AND r.province IS NOT DISTINCT FROM t.province
    WHERE r.agency_kind = ?
    """, [gov])
    return con.execute("SELECT count(*) FROM q_scope").fetchone()[0]


def _flow_run_id() -> str | None:
    """The Prefect flow run the checks run in (gknb-nightly), tying dq_runs to ingest_runs (issue 12.8)."""
    from gknb.flows.settings import current_flow_run_id

    return current_flow_run_id()


def run_checks(db: Path | str, *, docs_dir: Path | None = None, build_docs: bool = True,
               progress: bool = False, full: bool = False, keep_runs: int | None = None) -> CheckRun:
    """Runs every check on the current reports of `db` and publishes dq_findings, dq_runs,
    dq_run_totals and the Data Docs (into `docs_dir`, default `default_docs_dir(db)`, keeping the
    last `keep_runs` runs, default checks.yaml's data_docs_keep_runs). Incremental unless `full`
    (see the module's doc). Findings are data: this returns normally whatever the checks found,
    and raises QualityError only when they could not run."""
    from gknb.quality import datadocs, engine
    from gknb.quality.catalog import load_checks
    from gknb.quality.suites import all_checks
    from gknb.quality.validate import Validator, frames
    from gknb.warehouse.publish import building

    db = Path(db)
    if not db.exists():
        raise WarehouseNotFound(f"{db}: no warehouse here; run `gknb ingest` first")
    catalog = load_checks()
    checks = all_checks()
    if build_docs:
        # Absolute, so dq_runs.data_docs and the dashboard's link work from any directory.
        docs_dir = default_docs_dir(db) if docs_dir is None else Path(docs_dir).resolve()
        keep_runs = keep_runs or int(catalog.setting("data_docs_keep_runs", 10))
    batch_rows = int(catalog.setting("gx_batch_rows", 20000))
    started = _utcnow()
    run_id = new_run_id(started)
    version = checks_version()
    timings: dict[str, float] = {}
    sites: list = []  # the run's Data Docs staging, discarded if the run fails before publishing
    try:
        with building(db) as con, _progress(progress, len(checks)) as advance:
            t0, c0 = time.perf_counter(), time.process_time()
            engine.prepare(con, catalog.setting("duckdb_memory_limit"))
            previous = _previous_run(con)
            incremental = (not full and previous is not None and previous[1] == version
                           and con.execute("SELECT count(*) FROM dq_checked").fetchone()[0] > 0)
            checked = _scope_incremental(con) if incremental else engine.scope_all(con)
            gov = catalog.get("hierarchy").params.get("government_kind")
            engine.create_cells(con, gov)
            timings["prepare"] = time.perf_counter() - t0
            timings["prepare_cpu"] = time.process_time() - c0
            site = datadocs.RunSite(docs_dir, run_id) if build_docs else None
            sites.append(site)
            validator = Validator(site.staging if site else None, engine.INDEX_COLUMNS, batch_rows)
            for check in checks:
                params = {**check.params(), "ceiling": _ceiling()}
                c1 = time.process_time()
                result = engine.run_check(con, check, run_id, params)
                t1 = time.perf_counter()
                validator.validate(
                    check, frames(con, engine.failing_rows_sql(result.columns, len(check.specs)), batch_rows),
                    result.per_spec,
                    note=(f" — this run: {result.findings} failing row(s) found in DuckDB over "
                          f"{checked} report(s) checked, validated here"))
                timings[check.check_id] = result.seconds + time.perf_counter() - t1
                timings[f"{check.check_id}_cpu"] = time.process_time() - c1
                advance(check.check_id)
            for temp in (engine.FAIL_TABLE, "q_cellnum"):  # free their memory before publishing
                con.execute(f"DROP TABLE IF EXISTS {temp}")
            if incremental:
                cols = ", ".join(FINDING_INSERT_COLUMNS[1:])
                con.execute(
                    f"INSERT INTO dq_findings ({', '.join(FINDING_INSERT_COLUMNS)}) "
                    f"SELECT ?, {cols} FROM dq_findings f WHERE f.run_id = ? "
                    "AND f.report_id IN (SELECT report_id FROM q_reports) "
                    "AND f.report_id NOT IN (SELECT report_id FROM q_scope)", [run_id, previous[0]])
            _record_checked(con, run_id)
            con.execute("""
                INSERT INTO dq_run_totals
                SELECT run_id, check_id, severity, coalesce(cause, 'source'), count(*), count(DISTINCT report_id)
                FROM dq_findings WHERE run_id = ? GROUP BY ALL""", [run_id])
            reports, errors, warnings, with_errors = con.execute("""
                SELECT (SELECT count(*) FROM q_reports),
                       count(*) FILTER (WHERE severity = 'error'), count(*) FILTER (WHERE severity = 'warning'),
                       count(DISTINCT report_id) FILTER (WHERE severity = 'error')
                FROM dq_findings WHERE run_id = ?""", [run_id]).fetchone()
            index = None
            if site is not None:
                t1 = time.perf_counter()
                validator.build_docs()
                per_check = dict(con.execute(
                    "SELECT check_id, sum(findings) FROM dq_run_totals WHERE run_id = ? GROUP BY ALL",
                    [run_id]).fetchall())
                index = site.publish(keep_runs=keep_runs, summary={
                    "run_id": run_id, "warehouse": str(db.resolve()), "started": started, "reports": reports,
                    "checked": checked, "errors": errors, "warnings": warnings,
                    "scope": "incremental" if incremental else "full"},
                    checks=[{"check_id": c.check_id, "title": c.info.title, "severity": c.severity,
                             "cause": c.cause, "findings": int(per_check.get(c.check_id, 0))} for c in checks])
                timings["data_docs"] = time.perf_counter() - t1
            finished = _utcnow()
            con.execute(
                "INSERT INTO dq_runs (run_id, started, finished, checks, reports, errors, warnings, data_docs, "
                "scope, checked, checks_version, reports_with_errors, flow_run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, started, finished, len(checks), reports, errors, warnings,
                 str(index) if index else None, "incremental" if incremental else "full", checked, version,
                 with_errors, _flow_run_id()])
    except BaseException:
        for site in sites:
            if site is not None and site.staging.exists():
                site.discard()
        raise
    return CheckRun(run_id=run_id, started=started, finished=finished, checks=len(checks),
                    reports=int(reports), errors=int(errors), warnings=int(warnings), data_docs=index,
                    scope="incremental" if incremental else "full", checked=int(checked), timings=timings)


def _record_checked(con, run_id: str) -> None:
    """dq_checked: one row per current report, refreshed for the reports this run checked."""
    con.execute("DELETE FROM dq_checked WHERE report_id NOT IN (SELECT report_id FROM q_reports) "
                "OR report_id IN (SELECT report_id FROM q_scope)")
    con.execute(f"""
        INSERT INTO dq_checked (report_id, run_id, fingerprint, agency_key, agency_kind, year, province, city, district)
        SELECT report_id, ?, md5({FINGERPRINT}), agency_key, agency_kind, year, province, city, district
        FROM q_reports SEMI JOIN q_scope USING (report_id)""", [run_id])
