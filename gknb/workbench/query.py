"""The workbench's read side: one read-only view of the warehouse, reopened when the file changes,
and the aggregated queries its pages run.

Writers publish the warehouse by swapping a new file in (gknb.warehouse.publish), so a server
that kept one connection would go on showing the old file. `Warehouse.snapshot()` compares the
file's identity (inode, mtime, size) on every request and, when it changed, attaches the new file
and builds, in the connection's in-memory catalog:

- `wb_findings`: the current findings (Q's `v_findings_current`, or the latest check run of
  `dq_findings` where that view does not exist yet) with the report dimensions and the cells'
  Chinese labels (tens of thousands of rows at 150,000 reports);
- `wb_reports`: a view of the current reports with their dimensions and their error / warning
  counts (from `wb_counts`, the findings counted per report).

Every page then aggregates over those with LIMIT/OFFSET (tens of ms at 150,000 reports) and reads
the big `cells` table only for one report or one agency at a time.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from gknb.quality.errors import QualityError, WarehouseIncomplete, WarehouseNotFound

# URL parameter -> column of wb_findings, in the order the facets are shown.
FACETS: tuple[tuple[str, str, str], ...] = (
    ("province", "province", "province 省"),
    ("city", "city", "city 市"),
    ("district", "district", "district 区县"),
    ("agency", "agency", "agency 机关"),
    ("year", "year", "year 年度"),
    ("template", "template", "template 模板"),
    ("check", "check_id", "check"),
    ("severity", "severity", "severity"),
    ("cause", "cause", "cause"),
)
FACET_COLUMNS = {param: column for param, column, _ in FACETS}
# The facets that describe a report (the overview filters reports by these).
REPORT_FACETS = ("province", "city", "district", "agency", "year", "template")
# A facet value standing for NULL ("place unknown"), so it can be selected in a URL.
NULL_TOKEN = "(none)"
# The drill-down of the overview.
LEVELS = ("province", "city", "district", "agency")
# How many values a facet lists (agencies run to six figures nationally; the rest are counted).
FACET_LIMIT = 30

# Sort keys of the findings table (URL value -> ORDER BY); '-key' sorts descending.
SORTS = {
    "severity": "CASE severity WHEN 'error' THEN 0 ELSE 1 END",
    "place": "province {d} NULLS LAST, city {d} NULLS LAST, district {d} NULLS LAST",
    "agency": "agency {d} NULLS LAST",
    "year": "year {d} NULLS LAST",
    "check": "check_id {d}",
    "cause": "cause {d}",
    "page": "page {d} NULLS LAST",
}
DEFAULT_SORT = "severity"

FINDING_COLUMNS = ("province", "city", "district", "agency", "year", "template", "check_id", "severity",
                   "cause", "row_key", "row_label", "col_key", "col_label", "expected", "observed",
                   "page", "message", "report_id", "agency_key", "format", "sha256")


class BadRequest(ValueError):
    """A query parameter the workbench cannot use (e.g. a year that is not a number)."""


@dataclass(frozen=True)
class Filters:
    """The facet selection of a page, as in its URL: parameter -> chosen values (OR within one
    facet, AND across facets), plus `q`, a substring of the agency name."""

    values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    q: str = ""

    @classmethod
    def from_query(cls, params, allowed: Iterable[str] = FACET_COLUMNS) -> "Filters":
        """From a Starlette QueryParams / MultiDict (getlist) or a plain mapping of lists."""
        chosen = []
        for param in allowed:
            got = params.getlist(param) if hasattr(params, "getlist") else list(params.get(param) or ())
            got = tuple(dict.fromkeys(v for v in got if v != ""))
            if param == "year":
                for v in got:
                    if v != NULL_TOKEN and not v.lstrip("-").isdigit():
                        raise BadRequest(f"year must be a number, not {v!r}")
            if got:
                chosen.append((param, got))
        q = params.get("q") or "" if hasattr(params, "get") else ""
        return cls(tuple(chosen), str(q).strip())

    def get(self, param: str) -> tuple[str, ...]:
        return dict(self.values).get(param, ())

    def only(self, params: Iterable[str]) -> "Filters":
        keep = set(params)
        return Filters(tuple((p, v) for p, v in self.values if p in keep), self.q)

    def without(self, *params: str) -> "Filters":
        return Filters(tuple((p, v) for p, v in self.values if p not in params), self.q)

    def toggled(self, param: str, value: str) -> "Filters":
        """The selection with `value` of `param` switched on or off (a facet link)."""
        current = list(self.get(param))
        current = [v for v in current if v != value] if value in current else current + [value]
        rest = [(p, v) for p, v in self.values if p != param]
        if current:
            rest.append((param, tuple(current)))
        return Filters(tuple(sorted(rest, key=lambda pv: list(FACET_COLUMNS).index(pv[0]))), self.q)

    def with_(self, **params: str) -> "Filters":
        rest = dict(self.values)
        for p, v in params.items():
            if v is None:
                rest.pop(p, None)
            else:
                rest[p] = (str(v),)
        return Filters(tuple(sorted(rest.items(), key=lambda pv: list(FACET_COLUMNS).index(pv[0]))), self.q)

    def pairs(self) -> list[tuple[str, str]]:
        """(parameter, value) pairs for urlencode, in facet order."""
        out = [(p, v) for p, vs in self.values for v in vs]
        if self.q:
            out.append(("q", self.q))
        return out

    def where(self, exclude: str | None = None) -> tuple[str, list]:
        """A SQL condition over wb_findings / wb_reports columns, with its parameters."""
        clauses, params = [], []
        for param, vals in self.values:
            if param == exclude:
                continue
            col = FACET_COLUMNS[param]
            nulls = NULL_TOKEN in vals
            vals = [v for v in vals if v != NULL_TOKEN]
            parts = []
            if vals:
                parts.append(f"{col} IN ({', '.join('?' * len(vals))})")
                params.extend(int(v) if param == "year" else v for v in vals)
            if nulls:
                parts.append(f"{col} IS NULL")
            clauses.append("(" + " OR ".join(parts) + ")")
        if self.q:
            # A substring, not a LIKE pattern: % and _ in the search are plain characters.
            clauses.append("contains(lower(agency), lower(?))")
            params.append(self.q)
        return (" AND ".join(clauses) or "TRUE"), params


@dataclass
class Snapshot:
    """One published version of the warehouse, attached read-only, with its in-memory tables."""

    con: object
    stamp: tuple
    has: set[str]
    run: dict | None
    findings_source: str
    checks_seen: list[str] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)
    years: list[int] = field(default_factory=list)

    def cursor(self):
        cur = self.con.cursor()
        cur.execute("USE warehouse")
        return cur


def _stamp(db: Path) -> tuple:
    st = os.stat(db)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Warehouse:
    """The warehouse file as published now; thread-safe, reopened when a writer swaps it."""

    def __init__(self, db: Path | str):
        self.db = Path(db).absolute()
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        try:
            stamp = _stamp(self.db)
        except FileNotFoundError:
            raise WarehouseNotFound(f"{self.db}: no warehouse here; run `gknb ingest` first") from None
        snap = self._snap
        if snap is not None and snap.stamp == stamp:
            return snap
        with self._lock:
            if self._snap is None or self._snap.stamp != _stamp(self.db):
                # The previous snapshot is dropped, not closed: a request still reading it keeps
                # its own cursor, and DuckDB frees the old file when the last one goes.
                self._snap = _open(self.db)
            return self._snap


def _open(db: Path) -> Snapshot:
    import duckdb

    from gknb.warehouse.errors import WarehouseError
    from gknb.warehouse.publish import connect_readonly

    stamp = _stamp(db)
    try:
        con = connect_readonly(db)
    except WarehouseError as exc:
        raise QualityError(str(exc)) from exc
    try:
        has = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'warehouse'").fetchall()}
        lacking = [t for t in ("reports", "cells", "documents") if t not in has]
        if lacking:
            raise WarehouseIncomplete(f"{db}: no {', '.join(lacking)} table; run `gknb ingest` first")
        run = None
        if "dq_runs" in has:
            row = con.execute(
                "SELECT run_id, strftime(started, '%Y-%m-%d %H:%M:%S'), strftime(finished, '%Y-%m-%d %H:%M:%S'), "
                "checks, reports, errors, warnings, data_docs FROM dq_runs ORDER BY finished DESC, run_id DESC LIMIT 1"
            ).fetchone()
            if row:
                run = dict(zip(("run_id", "started", "finished", "checks", "reports", "errors", "warnings",
                                "data_docs"), row))
        source = _build_tables(con, has, run)
        snap = Snapshot(con=con, stamp=stamp, has=has, run=run, findings_source=source)
        snap.checks_seen = [r[0] for r in con.execute(
            "SELECT DISTINCT check_id FROM memory.main.wb_findings ORDER BY 1").fetchall()]
        snap.years = [r[0] for r in con.execute(
            "SELECT DISTINCT year FROM memory.main.wb_reports WHERE year IS NOT NULL ORDER BY 1").fetchall()]
        snap.trend = _trend(con, has)
        return snap
    except duckdb.Error as exc:
        con.close()
        raise QualityError(f"{db}: cannot read the warehouse: {exc}".splitlines()[0]) from exc
    except BaseException:
        con.close()
        raise


def _columns(con, table: str) -> set[str]:
    # Not information_schema.columns: that binds every view of the warehouse (1.5 s at 150,000
    # reports); binding this one relation costs nothing.
    return {d[0] for d in con.execute(f'SELECT * FROM "{table}" LIMIT 0').description}


def _build_tables(con, has: set[str], run: dict | None) -> str:
    """Creates memory.wb_findings (one pass over the warehouse: the findings with the report
    dimensions; Q's view carries them, dq_findings is joined to `reports`) and memory.wb_reports
    (the current reports with their error and warning counts); returns where the findings came
    from."""
    wanted = ("report_id", "check_id", "severity", "row_key", "col_key", "expected", "observed", "page", "message")
    dims = ("province", "city", "district", "agency", "agency_key", "year", "template", "format", "document_id")
    if "v_findings_current" in has:
        cols = _columns(con, "v_findings_current")
        source, origin = "v_findings_current", "v_findings_current"
    elif "dq_findings" in has and run is not None:
        cols = _columns(con, "dq_findings")
        run_id = str(run["run_id"]).replace("'", "''")
        source, origin = f"(SELECT * FROM dq_findings WHERE run_id = '{run_id}')", "dq_findings (latest run)"
    else:
        cols, source, origin = set(wanted), None, "none (no check run yet)"
    # `cause` is Q's column (issue 10.1); until a warehouse has it, a finding of the `unsettled`
    # check is the extraction's and every other the report's own.
    cause = "f.cause" if "cause" in cols else "CASE f.check_id WHEN 'unsettled' THEN 'extraction' ELSE 'source' END"
    # Q's view carries the cells' labels (matched on the section too) and the document's hash;
    # otherwise they are looked up here.
    extra = ("row_label", "col_label", "sha256")
    picked = ", ".join(f"f.{c}" if c in cols else f"CAST(NULL AS VARCHAR) AS {c}" for c in wanted + extra)
    if source is None:
        body = ("SELECT " + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in wanted + extra + dims) +
                ", CAST(NULL AS VARCHAR) AS cause WHERE FALSE")
    elif set(dims) <= cols:
        body = f"SELECT {picked}, {', '.join('f.' + d for d in dims)}, {cause} AS cause FROM {source} f"
    else:
        rdims = ", ".join(f"r.{d}" for d in dims)
        body = (f"SELECT {picked}, {rdims}, {cause} AS cause FROM {source} f "
                "JOIN reports r ON r.report_id = f.report_id AND r.is_current")
    # Joined only where the source lacks them (a window or an empty join here costs a second
    # at 150,000 reports).
    joins = ""
    if "sha256" not in cols:
        joins += " LEFT JOIN documents d ON d.document_id = f.document_id"
    if "row_label" not in cols and "template_cells" in has:
        joins += (" LEFT JOIN (SELECT template, row_key, col_key, any_value(row_label) AS row_label,"
                  " any_value(col_label) AS col_label FROM template_cells GROUP BY ALL) t"
                  " ON t.template = CAST(f.template AS VARCHAR) AND t.row_key = f.row_key AND t.col_key = f.col_key")
    con.execute(f"""
        CREATE OR REPLACE TABLE memory.main.wb_findings AS
        SELECT f.province, f.city, f.district, f.agency, CAST(f.year AS INTEGER) AS year,
               CAST(f.template AS VARCHAR) AS template,
               CAST(f.check_id AS VARCHAR) AS check_id, CAST(f.severity AS VARCHAR) AS severity,
               CAST(f.cause AS VARCHAR) AS cause,
               f.row_key, {"t.row_label" if "JOIN (SELECT template" in joins else "f.row_label"} AS row_label,
               f.col_key, {"t.col_label" if "JOIN (SELECT template" in joins else "f.col_label"} AS col_label,
               CAST(f.expected AS VARCHAR) AS expected, CAST(f.observed AS VARCHAR) AS observed,
               CAST(f.page AS INTEGER) AS page, CAST(f.message AS VARCHAR) AS message,
               f.report_id, f.agency_key, f.format, {"d.sha256" if "documents d" in joins else "f.sha256"} AS sha256,
               CASE f.severity WHEN 'error' THEN 0 ELSE 1 END AS severity_rank
        FROM ({body}) f
        {joins}""")
    # The reports stay in the warehouse (a copy would cost the start-up half a second at 150,000
    # reports and save each overview query only a few ms): a view joins them to the counts.
    con.execute("""
        CREATE OR REPLACE TABLE memory.main.wb_counts AS
        SELECT report_id, count(*) FILTER (WHERE severity = 'error') AS errors,
               count(*) FILTER (WHERE severity <> 'error') AS warnings
        FROM memory.main.wb_findings GROUP BY report_id""")
    con.execute("""
        CREATE OR REPLACE VIEW memory.main.wb_reports AS
        SELECT r.report_id, r.agency, r.agency_key, r.agency_kind, r.year, CAST(r.template AS VARCHAR) AS template,
               r.province, r.city, r.district, r.format, r.document_id,
               coalesce(n.errors, 0) AS errors, coalesce(n.warnings, 0) AS warnings
        FROM warehouse.main.reports r
        LEFT JOIN memory.main.wb_counts n ON n.report_id = r.report_id
        WHERE r.is_current""")
    return origin


def _trend(con, has: set[str]) -> list[dict]:
    """Pass rate and findings per check run, oldest first. Q's view `v_quality_trend` when the
    warehouse has it, else computed from dq_runs and dq_findings."""
    if "v_quality_trend" in has:
        try:
            cur = con.execute("SELECT * FROM v_quality_trend")
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            out = [_trend_row(r) for r in rows]
            out = [r for r in out if r is not None]
            if out:
                return sorted(out, key=lambda r: r["finished"])
        except Exception:  # noqa: BLE001 - a view of another shape: fall back to our own query
            pass
    if not {"dq_runs", "dq_findings"} <= has:
        return []
    rows = con.execute("""
        SELECT r.run_id, strftime(r.finished, '%Y-%m-%d %H:%M') AS finished, r.reports, r.errors, r.warnings,
               coalesce(f.failing, 0) AS failing
        FROM dq_runs r
        LEFT JOIN (SELECT run_id, count(DISTINCT report_id) FILTER (WHERE severity = 'error') AS failing
                   FROM dq_findings GROUP BY run_id) f ON f.run_id = r.run_id
        ORDER BY r.finished, r.run_id""").fetchall()
    return [{"run_id": r[0], "finished": r[1], "reports": r[2], "errors": r[3], "warnings": r[4],
             "pass_rate": (1 - r[5] / r[2]) if r[2] else None} for r in rows]


def _trend_row(r: dict) -> dict | None:
    finished = r.get("finished") or r.get("run_finished") or r.get("started")
    if finished is None:
        return None
    rate = r.get("pass_rate", r.get("pass_ratio"))
    if rate is None and r.get("reports"):
        failing = r.get("reports_with_errors", r.get("failing"))
        rate = None if failing is None else 1 - failing / r["reports"]
    return {"run_id": r.get("run_id"), "finished": str(finished)[:16], "reports": r.get("reports"),
            "errors": r.get("errors"), "warnings": r.get("warnings"),
            "pass_rate": float(rate) if rate is not None else None}


def rows(cur, sql: str, params: list | tuple = ()) -> list[dict]:
    cur.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


# --- the pages' queries ---------------------------------------------------------------------------

def totals(cur, filters: Filters) -> dict:
    where, params = filters.only(REPORT_FACETS).where()
    r = rows(cur, f"""SELECT count(*) AS reports, count(*) FILTER (WHERE errors = 0) AS passing,
                             coalesce(sum(errors), 0) AS errors, coalesce(sum(warnings), 0) AS warnings,
                             count(DISTINCT coalesce(agency_key, agency)) AS agencies
                      FROM memory.main.wb_reports WHERE {where}""", params)[0]
    r["rate"] = r["passing"] / r["reports"] if r["reports"] else None
    return r


def drill(cur, filters: Filters, limit: int = 200) -> dict:
    """The next level below the selection's place, one row per division (or agency) with its pass
    rate per year."""
    level = next((lv for lv in LEVELS if not filters.get(lv)), "agency")
    where, params = filters.only(REPORT_FACETS).where()
    key = "coalesce(agency_key, agency)" if level == "agency" else level
    name = "any_value(agency)" if level == "agency" else level
    groups = rows(cur, f"""
        SELECT {key} AS key, {name} AS name, count(*) AS reports, count(*) FILTER (WHERE errors = 0) AS passing,
               sum(errors) AS errors, sum(warnings) AS warnings
        FROM memory.main.wb_reports WHERE {where}
        GROUP BY {key}
        ORDER BY errors DESC, reports DESC, name NULLS LAST
        LIMIT {int(limit) + 1}""", params)
    more = max(0, len(groups) - limit)
    groups = groups[:limit]
    cells = rows(cur, f"""
        SELECT {key} AS key, year, count(*) AS reports, count(*) FILTER (WHERE errors = 0) AS passing,
               sum(errors) AS errors, min(report_id) AS report_id
        FROM memory.main.wb_reports WHERE {where} AND year IS NOT NULL
        GROUP BY {key}, year""", params)
    by_key: dict = {}
    for c in cells:
        by_key.setdefault(c["key"], {})[c["year"]] = c
    years = sorted({c["year"] for c in cells})
    for g in groups:
        g["rate"] = g["passing"] / g["reports"] if g["reports"] else None
        g["years"] = by_key.get(g["key"], {})
    return {"level": level, "groups": groups, "more": more, "years": years}


def by_check(cur, filters: Filters) -> list[dict]:
    where, params = filters.where()
    return rows(cur, f"""SELECT check_id, count(*) FILTER (WHERE severity = 'error') AS errors,
                                count(*) FILTER (WHERE severity <> 'error') AS warnings,
                                count(*) FILTER (WHERE cause = 'extraction') AS extraction
                         FROM memory.main.wb_findings WHERE {where}
                         GROUP BY check_id ORDER BY count(*) DESC, check_id""", params)


def facet_counts(cur, filters: Filters) -> list[dict]:
    """Per facet: its values with the number of findings each would show, under every other
    facet's selection (so a chosen value can be widened), the chosen ones always listed."""
    out = []
    for param, col, label in FACETS:
        where, params = filters.where(exclude=param)
        chosen = filters.get(param)
        order = f"{col} DESC" if param == "year" else "n DESC, value"
        got = rows(cur, f"""SELECT {col} AS value, count(*) AS n FROM memory.main.wb_findings WHERE {where}
                            GROUP BY {col} ORDER BY {order} NULLS LAST LIMIT {FACET_LIMIT + 1}""", params)
        more = max(0, len(got) - FACET_LIMIT)
        got = got[:FACET_LIMIT]
        listed = {_token(g["value"]) for g in got}
        for v in chosen:  # a chosen value beyond the top ones is still shown, with its count
            if v not in listed:
                w2, p2 = filters.where(exclude=param)
                cond = f"{col} IS NULL" if v == NULL_TOKEN else f"{col} = ?"
                n = rows(cur, f"SELECT count(*) AS n FROM memory.main.wb_findings WHERE {w2} AND {cond}",
                         p2 + ([] if v == NULL_TOKEN else [int(v) if param == "year" else v]))[0]["n"]
                got.append({"value": None if v == NULL_TOKEN else v, "n": n})
        values = [{"value": g["value"], "token": _token(g["value"]), "n": g["n"],
                   "on": _token(g["value"]) in chosen} for g in got]
        out.append({"param": param, "label": label, "options": values, "more": more})
    return out


def _token(value) -> str:
    return NULL_TOKEN if value is None else str(value)


def order_by(sort: str | None) -> tuple[str, str]:
    """(normalised sort key, ORDER BY clause); unknown keys fall back to the default."""
    sort = sort or DEFAULT_SORT
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        key, desc = DEFAULT_SORT, False
    d = "DESC" if desc else "ASC"
    first = SORTS[key].format(d=d)
    if key == "severity" and desc:
        first += " DESC"
    return ("-" if desc else "") + key, f"{first}, severity_rank, province NULLS LAST, city NULLS LAST, district NULLS LAST, agency, year, check_id, report_id, row_key, col_key, rowid"


def findings_page(cur, filters: Filters, sort: str | None, page: int, per: int) -> dict:
    where, params = filters.where()
    total = rows(cur, f"SELECT count(*) AS n, count(DISTINCT report_id) AS reports FROM memory.main.wb_findings WHERE {where}", params)[0]
    sort, order = order_by(sort)
    pages = max(1, -(-total["n"] // per))
    page = min(max(1, page), pages)
    items = rows(cur, f"""SELECT * FROM memory.main.wb_findings WHERE {where} ORDER BY {order}
                          LIMIT {int(per)} OFFSET {int((page - 1) * per)}""", params)
    return {"rows": items, "total": total["n"], "reports": total["reports"], "page": page, "pages": pages,
            "per": per, "sort": sort}


def export_query(filters: Filters, sort: str | None) -> tuple[str, list]:
    where, params = filters.where()
    _, order = order_by(sort)
    cols = ", ".join(c for c in FINDING_COLUMNS if c not in ("format", "sha256"))
    return f"SELECT {cols} FROM memory.main.wb_findings WHERE {where} ORDER BY {order}", params


def report(cur, report_id: str) -> dict | None:
    got = rows(cur, "SELECT r.*, CAST(r.template AS VARCHAR) AS template, CAST(r.published AS VARCHAR) AS published_on "
                    "FROM reports r WHERE r.report_id = ?", [report_id])
    if not got:
        return None
    rep = got[0]
    doc = rows(cur, "SELECT * FROM documents WHERE document_id = ?", [rep["document_id"]])
    rep["document"] = doc[0] if doc else {}
    rep["cells"] = rows(cur, """
        SELECT c.section, c.item, c.row_key, c.col_key, t.row_label, t.col_label, t.position, c.status,
               CAST(c.value AS DOUBLE) AS value, c.raw, c.page, c.confidence
        FROM cells c
        LEFT JOIN template_cells t ON t.template = ? AND t.section = c.section AND t.row_key = c.row_key
                                   AND t.col_key = c.col_key
        WHERE c.report_id = ?
        ORDER BY c.section, t.position NULLS LAST, c.row_key, c.col_key""", [rep["template"], report_id])
    rep["findings"] = rows(cur, "SELECT * FROM memory.main.wb_findings WHERE report_id = ? ORDER BY severity_rank, check_id, row_key, col_key",
                           [report_id])
    rep["versions"] = rows(cur, "SELECT report_id, is_current, CAST(loaded_at AS VARCHAR) AS loaded_at FROM reports "
                                "WHERE agency_key = ? AND year = ? ORDER BY load_seq", [rep["agency_key"], rep["year"]]) \
        if rep.get("agency_key") and rep.get("year") is not None else []
    return rep


def agency(cur, key: str, measures: list[tuple[int, str, str]]) -> dict | None:
    reps = rows(cur, "SELECT * FROM memory.main.wb_reports WHERE coalesce(agency_key, agency) = ? ORDER BY year NULLS LAST",
                [key])
    if not reps:
        return None
    ids = [r["report_id"] for r in reps]
    wanted = " OR ".join("(c.section = ? AND c.row_key = ? AND c.col_key = ?)" for _ in measures)
    params = [x for m in measures for x in m]
    values = rows(cur, f"""
        SELECT c.report_id, c.section, c.row_key, c.col_key, c.status, CAST(c.value AS DOUBLE) AS value
        FROM cells c WHERE c.report_id IN ({', '.join('?' * len(ids))}) AND ({wanted})""", ids + params)
    labels = {(r["section"], r["row_key"], r["col_key"]): r for r in rows(cur, f"""
        SELECT section, row_key, col_key, any_value(row_label) AS row_label, any_value(col_label) AS col_label
        FROM template_cells t WHERE {wanted.replace('c.', 't.')} GROUP BY ALL""", params)}
    return {"reports": reps, "values": values, "labels": labels}


def document_by_sha(cur, sha256: str) -> list[dict]:
    return rows(cur, "SELECT document_id, source_path, url, sha256, size, format, status FROM documents "
                     "WHERE sha256 = ? ORDER BY status = 'loaded' DESC, first_seen DESC", [sha256])

