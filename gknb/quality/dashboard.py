"""The auditors' dashboard: one static HTML file that opens from disk.

No server, no CDN: CSS, the small script and every chart (inline SVG, laid out here in Python) are
in the page. All report text goes through Jinja2 autoescaping, and the one JSON block is written
with `tojson` (which escapes <, >, & and '), so a report cannot inject markup or script.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gknb.quality.errors import QualityError, WarehouseIncomplete, WarehouseNotFound

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PASS_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#9bc53d", "#27ae60")  # 0% .. 100% passing
LINE_FORMATS = ("text", "markdown", "webtext")
# A page an auditor can still open at national scale (~150,000 reports a year): beyond these the
# page shows the worst and says how many more there are in dq_findings.
MAX_HEATMAP_ROWS = 80
MAX_FAILING_REPORTS = 300
MAX_HISTORIES = 300
MAX_GAPS = 500
SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#e6a117"}

_REPORTS_SQL = """
SELECT r.report_id, r.agency, r.agency_key, r.agency_kind, r.year, r.template, r.province,
       r.city, r.district, CAST(r.published AS VARCHAR) AS published, r.format,
       d.source_path, d.url,
       (SELECT CAST(c.value AS DOUBLE) FROM cells c
         WHERE c.report_id = r.report_id AND c.section = 3 AND c.row_key = 'new_requests'
           AND c.col_key = 'total' AND c.status = 'value') AS new_requests
FROM reports r
LEFT JOIN documents d ON d.document_id = r.document_id
WHERE coalesce(r.is_current, TRUE)
ORDER BY r.province NULLS LAST, r.city NULLS LAST, r.district NULLS FIRST, r.agency, r.year
"""

_COVERAGE_SQL = """
SELECT agency_key, agency, province, city, district, year, has_report
FROM coverage_agency_year
ORDER BY agency_key, year
"""

_FINDINGS_SQL = """
SELECT f.*, k.row_label, k.col_label
FROM dq_findings f
JOIN reports r ON r.report_id = f.report_id
LEFT JOIN (SELECT template, row_key, col_key, any_value(row_label) AS row_label,
                  any_value(col_label) AS col_label
           FROM q_catalog GROUP BY ALL) k
  ON k.template = CAST(r.template AS VARCHAR) AND k.row_key = f.row_key AND k.col_key = f.col_key
WHERE f.run_id = ?
ORDER BY CASE f.severity WHEN 'error' THEN 0 ELSE 1 END, f.report_id, f.check_id, f.row_key, f.col_key
"""


@dataclass
class Place:
    key: str
    label: str  # the most specific division known
    parent: str  # the divisions above it


def _place(rep: dict) -> Place:
    parts = [rep.get("province"), rep.get("city"), rep.get("district")]
    known = [p for p in parts if p]
    if not known:
        return Place("|||", "(place unknown)", "")
    label = known[-1] if rep.get("district") else f"{known[-1]} (city level)" if rep.get("city") else f"{known[-1]} (province level)"
    return Place("|".join(p or "" for p in parts), label, " ".join(known[:-1]))


def _pass_colour(rate: float) -> str:
    return PASS_COLOURS[min(len(PASS_COLOURS) - 1, int(rate * (len(PASS_COLOURS) - 1) + 0.5))]


def _source_link(rep: dict, page: int | None) -> str | None:
    """Where the auditor opens the document: its URL, or the local file (at the page, for PDFs)."""
    url = rep.get("url")
    if url:
        # Only web addresses become links: a javascript: or data: "URL" from a crawled page
        # would run in the auditor's browser.
        return url if url.split(":", 1)[0].lower() in ("http", "https") else None
    path = rep.get("source_path")
    if not path:
        return None
    uri = Path(path).resolve().as_uri()
    if page and (rep.get("format") in ("pdf", "ocr") or str(path).lower().endswith(".pdf")):
        uri += f"#page={page}"
    return uri


def load_dashboard_data(con) -> dict:
    """Everything the page shows, as plain Python values."""
    from gknb.quality.observe import catalog_frame

    con.register("q_catalog", catalog_frame())
    runs = con.execute(
        "SELECT run_id, strftime(started, '%Y-%m-%d %H:%M:%S'), strftime(finished, '%Y-%m-%d %H:%M:%S'), checks, reports, "
        "errors, warnings, data_docs FROM dq_runs ORDER BY finished DESC, run_id DESC LIMIT 1"
    ).fetchall()
    run = None
    if runs:
        keys = ("run_id", "started", "finished", "checks", "reports", "errors", "warnings", "data_docs")
        run = dict(zip(keys, runs[0]))
    reports = [dict(zip([d[0] for d in cur.description], row))
               for cur in [con.execute(_REPORTS_SQL)] for row in cur.fetchall()]
    findings = []
    if run:
        cur = con.execute(_FINDINGS_SQL, [run["run_id"]])
        names = [d[0] for d in cur.description]
        findings = [dict(zip(names, row)) for row in cur.fetchall()]
    cur = con.execute(_COVERAGE_SQL)
    coverage = [dict(zip([d[0] for d in cur.description], row)) for row in cur.fetchall()]
    return {"run": run, "reports": reports, "findings": findings, "coverage": coverage}


def shape(data: dict, out: Path) -> dict:
    """The page's sections from the raw rows: pass rates, failing reports, histories, gaps."""
    reports = {r["report_id"]: r for r in data["reports"]}
    for rep in reports.values():
        rep["place"] = _place(rep)
        rep["errors"] = rep["warnings"] = 0
        rep["checks_failed"] = set()
        rep["link"] = _source_link(rep, None)
        rep["document"] = rep.get("url") or (Path(rep["source_path"]).name if rep.get("source_path") else None)
    findings = [f for f in data["findings"] if f["report_id"] in reports]
    for f in findings:
        rep = reports[f["report_id"]]
        rep["errors" if f["severity"] == "error" else "warnings"] += 1
        rep["checks_failed"].add(f["check_id"])
        f["report"] = rep
        f["link"] = _source_link(rep, f["page"])
        # Text sources number lines, not pages (CONTRACT.md: `page` is the line for plain text).
        f["where"] = (f"line {f['page']}" if rep.get("format") in LINE_FORMATS else f"p. {f['page']}") if f["page"] else None
        f["cell"] = " / ".join(x for x in (f.get("row_label") or f.get("row_key"),
                                           f.get("col_label") or f.get("col_key")) if x)
    years = sorted({r["year"] for r in reports.values() if r["year"] is not None})
    failing = _failing(findings)
    histories = _histories(reports, years)
    gaps = _gaps(data.get("coverage", []))
    return {
        "run": data["run"],
        "docs_link": _docs_link(data["run"], out),
        "years": years,
        "totals": _totals(reports, findings),
        "heatmap": _heatmap(reports, years),
        "by_check": _by_check(findings),
        "failing": failing[:MAX_FAILING_REPORTS],
        "failing_more": max(0, len(failing) - MAX_FAILING_REPORTS),
        "histories": histories[:MAX_HISTORIES],
        "histories_more": max(0, len(histories) - MAX_HISTORIES),
        "gaps": gaps[:MAX_GAPS],
        "gaps_more": max(0, len(gaps) - MAX_GAPS),
        # For the filter box: the agencies of the reports listed.
        "agency_names": sorted({g["report"]["agency"] for g in failing[:MAX_FAILING_REPORTS] if g["report"]["agency"]}),
    }


def _docs_link(run: dict | None, out: Path) -> str | None:
    if not run or not run.get("data_docs"):
        return None
    target = Path(run["data_docs"])
    try:
        return Path(os.path.relpath(target, out.resolve())).as_posix()
    except ValueError:
        return target.as_uri()


def _totals(reports: dict, findings: list) -> dict:
    passing = sum(1 for r in reports.values() if r["errors"] == 0)
    return {
        "reports": len(reports),
        "passing": passing,
        "rate": passing / len(reports) if reports else 0.0,
        "errors": sum(1 for f in findings if f["severity"] == "error"),
        "warnings": sum(1 for f in findings if f["severity"] == "warning"),
        "agencies": len({r["agency_key"] or r["agency"] for r in reports.values()}),
    }


def _heatmap(reports: dict, years: list[int]) -> dict:
    """Pass rate (reports without an error / reports) by place and year, laid out as SVG cells."""
    places: dict[str, Place] = {}
    cells: dict[tuple[str, int], list[dict]] = {}
    for rep in reports.values():
        if rep["year"] is None:
            continue
        places[rep["place"].key] = rep["place"]
        cells.setdefault((rep["place"].key, rep["year"]), []).append(rep)
    label_w, cell_w, cell_h, top = 210, 58, 30, 28
    ordered = sorted(places.values(), key=lambda p: (p.parent, p.label))
    hidden = max(0, len(ordered) - MAX_HEATMAP_ROWS)
    if hidden:  # too many districts to draw: the ones with the lowest pass rate overall
        tally: dict[str, list[int]] = {}
        for (key, _), reps in cells.items():
            t = tally.setdefault(key, [0, 0])
            t[0] += sum(1 for r in reps if r["errors"] == 0)
            t[1] += len(reps)
        worst = sorted(ordered, key=lambda p: tally[p.key][0] / tally[p.key][1])[:MAX_HEATMAP_ROWS]
        ordered = sorted(worst, key=lambda p: (p.parent, p.label))
    rows = []
    for i, place in enumerate(ordered):
        row = {"label": place.label, "parent": place.parent, "y": top + i * cell_h, "cells": []}
        for j, year in enumerate(years):
            reps = cells.get((place.key, year))
            if not reps:
                continue
            ok = sum(1 for r in reps if r["errors"] == 0)
            rate = ok / len(reps)
            row["cells"].append({
                "x": label_w + j * cell_w, "year": year, "passing": ok, "reports": len(reps),
                "rate": rate, "colour": _pass_colour(rate),
                "agencies": ", ".join(sorted(r["agency"] or "?" for r in reps)),
            })
        rows.append(row)
    return {"rows": rows, "hidden": hidden,
            "years": [{"year": y, "x": label_w + j * cell_w} for j, y in enumerate(years)],
            "width": label_w + max(1, len(years)) * cell_w + 10, "height": top + len(rows) * cell_h + 10,
            "cell_w": cell_w - 4, "cell_h": cell_h - 4}


def _by_check(findings: list) -> dict:
    """Findings per check, errors and warnings stacked: a horizontal bar chart."""
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        counts.setdefault(f["check_id"], {"error": 0, "warning": 0})[f["severity"]] += 1
    most = max([c["error"] + c["warning"] for c in counts.values()] or [1])
    label_w, bar_w, bar_h = 120, 300, 24
    bars = []
    for i, (check, c) in enumerate(sorted(counts.items(), key=lambda kv: -(kv[1]["error"] + kv[1]["warning"]))):
        ew = bar_w * c["error"] / most
        ww = bar_w * c["warning"] / most
        bars.append({"check": check, "y": 8 + i * (bar_h + 6), "error": c["error"], "warning": c["warning"],
                     "ew": ew, "ww": ww, "wx": label_w + ew, "tx": label_w + ew + ww + 6})
    return {"bars": bars, "label_w": label_w, "bar_h": bar_h, "width": label_w + bar_w + 60,
            "height": 16 + len(bars) * (bar_h + 6), "colours": SEVERITY_COLOURS}


def _failing(findings: list) -> list[dict]:
    """Findings grouped by report, errors first: what an auditor works through."""
    groups: dict[str, dict] = {}
    for f in findings:
        rep = f["report"]
        g = groups.setdefault(rep["report_id"], {"report": rep, "findings": []})
        g["findings"].append(f)
    return sorted(groups.values(), key=lambda g: (-g["report"]["errors"], -g["report"]["warnings"],
                                                 g["report"]["agency"] or "", g["report"]["year"] or 0))


def _histories(reports: dict, years: list[int]) -> list[dict]:
    """Each agency across the loaded years: a sparkline of new requests, dots coloured by outcome."""
    by_agency: dict[str, list[dict]] = {}
    for rep in reports.values():
        by_agency.setdefault(rep["agency_key"] or rep["agency"] or rep["report_id"], []).append(rep)
    step, height, pad = 46, 44, 12
    width = pad * 2 + step * max(0, len(years) - 1)
    out = []
    # Agencies with findings first (what an auditor follows up), then by place.
    def order(kv):
        reps = kv[1]
        flagged = any(r["errors"] or r["warnings"] for r in reps)
        return (not flagged, reps[0]["place"].parent, reps[0]["place"].label, kv[0])

    for key, reps in sorted(by_agency.items(), key=order):
        per_year = {r["year"]: r for r in reps if r["year"] is not None}
        top = max([r["new_requests"] or 0 for r in per_year.values()] or [0]) or 1
        points = []
        for j, year in enumerate(years):
            rep = per_year.get(year)
            x = pad + j * step
            if rep is None:
                points.append({"x": x, "y": height - 6, "year": year, "state": "none", "label": f"{year}: no report"})
                continue
            value = rep["new_requests"]
            y = height - 6 - (height - 16) * ((value or 0) / top)
            state = "error" if rep["errors"] else "warning" if rep["warnings"] else "pass"
            shown = "?" if value is None else f"{value:g}"
            points.append({"x": x, "y": y, "year": year, "state": state, "value": value,
                           "label": f"{year}: {shown} new requests, {rep['errors']} errors, {rep['warnings']} warnings"})
        line = " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in points if p["state"] != "none")
        first = reps[0]
        out.append({"agency": first["agency"] or "(agency unknown)", "kind": first["agency_kind"],
                    "place": first["place"], "points": points, "line": line, "width": width,
                    "height": height, "years": sorted(per_year)})
    return out


def _gaps(coverage: list[dict]) -> list[dict]:
    """Agencies with no report for a year, as the warehouse's `coverage_agency_year` view defines it
    (from an agency's first report to the latest year loaded), so the page and analysts' SQL agree."""
    agencies: dict[str, dict] = {}
    for row in coverage:
        a = agencies.get(row["agency_key"])
        if a is None:  # rows come one per agency and year: place the agency once
            a = agencies[row["agency_key"]] = {"agency": row["agency"], "place": _place(row),
                                               "missing": [], "have": []}
        a["have" if row["has_report"] else "missing"].append(row["year"])
    out = [{**a, "agency": a["agency"] or "(agency unknown)", "missing": sorted(a["missing"]),
            "have": sorted(a["have"])} for a in agencies.values() if a["missing"]]
    return sorted(out, key=lambda g: (g["place"].parent, g["place"].label, g["agency"]))


def render(context: dict) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("dashboard.html.j2").render(**context)


def build_dashboard(db: Path | str, out: Path | str) -> Path:
    """Writes `out`/index.html from the warehouse's current reports and latest check run."""
    from gknb.warehouse.errors import WarehouseError
    from gknb.warehouse.publish import connect_readonly

    db, out = Path(db), Path(out)
    if not db.exists():
        raise WarehouseNotFound(f"{db}: no warehouse here; run `gknb ingest` first")
    try:
        # Not duckdb.connect(path): within one process (the nightly flow) that would hand back the
        # database opened before the last swap, and the dashboard would show yesterday's data.
        con = connect_readonly(db)
    except WarehouseError as exc:
        raise QualityError(str(exc)) from exc
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        lacking = [t for t in ("reports", "cells", "documents", "dq_runs", "dq_findings") if t not in tables]
        if lacking:
            raise WarehouseIncomplete(f"{db}: no {', '.join(lacking)} table; run `gknb ingest` and `gknb check` first")
        data = load_dashboard_data(con)
    finally:
        con.close()
    out.mkdir(parents=True, exist_ok=True)
    html = render(shape(data, out))
    index = out / "index.html"
    tmp = out / ".index.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, index)  # a reader never sees a half-written page
    return index
