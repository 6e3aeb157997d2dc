"""The auditors' static dashboard: `gknb dashboard --out DIR`, pages that open from disk or from any
web server, for publishing (issue 10.3).

At national scale (about 150,000 reports a year) one page cannot hold everything, so the export
is paged the way an auditor reads it:

    index.html                        the nation: pass rate by province and year, findings by
                                      check, the quality trend across check runs
    p/<province>/index.html           one province: pass rate by city and by district and year,
                                      agencies with no report for a year
    p/<province>/findings-<n>.html    its reports with findings, REPORTS_PER_PAGE a page, errors first

Every link is relative (pages to each other, and to the evidence: the document's archived copy or
recorded path, relative to the page, a PDF at `#page=N`), so the folder can be copied and served
anywhere. No server, no CDN: CSS and a small script are inline in each page, charts are inline
SVG or HTML. All report text goes through Jinja2 autoescaping, and the one JSON block is written
with `tojson` (which escapes <, >, & and '), so a report cannot inject markup or script.

The aggregation is the workbench's (gknb.workbench.query): the current reports and findings in
two in-memory tables, every page one aggregated query over them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from functools import lru_cache
from pathlib import Path

from gknb.quality.errors import QualityError, WarehouseIncomplete, WarehouseNotFound

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PASS_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#9bc53d", "#27ae60")  # 0% .. 100% passing
LINE_FORMATS = ("text", "markdown", "webtext")
PAGE_FORMATS = ("pdf", "ocr")
SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#e6a117"}
# Page sizes that keep every file to a few hundred KB at national scale.
REPORTS_PER_PAGE = 100
MAX_GAPS = 500  # agencies with gaps listed on a province page; the rest are counted
MAX_DISTRICTS = 400  # district rows on a province page (a province has ~100-200)
UNKNOWN = "(unknown)"


def _pass_colour(rate: float | None) -> str:
    if rate is None:
        return "#d5d8dc"
    return PASS_COLOURS[min(len(PASS_COLOURS) - 1, int(rate * (len(PASS_COLOURS) - 1) + 0.5))]


def province_slug(name: str | None) -> str:
    """A folder name for a province: ASCII, stable across builds, never a path."""
    if name is None:
        return "unknown"
    return "p" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


def _rel(target: Path, folder: Path) -> str | None:
    """`target` relative to `folder` as a URL path (percent-encoded), or None across drives."""
    from urllib.parse import quote

    try:
        return quote(Path(os.path.relpath(target, folder)).as_posix())
    except ValueError:
        return None


class Evidence:
    """Relative links from a page to the evidence of a finding, never file:/// links:

    - the document's archived copy (raw store, by sha256) or its recorded local file, linked
      relative to the page (`copy=False`; the folder then works wherever the data directory goes
      with it), or hard-linked / copied into `evidence/<sha256><ext>` of the export (`copy=True`;
      the export folder alone then holds everything it links);
    - a PDF at its page (`#page=N`);
    - a text source at its line: one HTML view per document (`text/<sha256>.html`), each line an
      anchor (`#L<n>`);
    - the http(s) URL where no local copy exists.
    """

    def __init__(self, out: Path, raw_dir: Path | None, copy: bool = False):
        self.out, self.raw_dir, self.copy = out, raw_dir, copy
        self.texts: set[str] = set()
        self.copies: set[str] = set()
        self._local: dict[tuple, Path | None] = {}

    def local(self, doc: dict) -> Path | None:
        key = (doc.get("sha256"), doc.get("source_path"))
        if key not in self._local:
            self._local[key] = self._find(doc)
        return self._local[key]

    def _find(self, doc: dict) -> Path | None:
        sha = doc.get("sha256")
        if self.raw_dir is not None and sha:
            sub = self.raw_dir / sha[:2]
            if sub.is_dir():
                found = next((p for p in sorted(sub.glob(f"{sha}*")) if not p.name.startswith(".")), None)
                if found is not None:
                    return self._published(found, sha)
        if doc.get("source_path") and Path(doc["source_path"]).is_file():
            return self._published(Path(doc["source_path"]), sha)
        return None

    def _published(self, path: Path, sha: str | None) -> Path:
        if not self.copy or not sha:
            return path
        target = self.out / "evidence" / f"{sha}{path.suffix.lower()}"
        if sha not in self.copies:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                try:
                    os.link(path, target)  # same bytes, no second copy on disk
                except OSError:
                    shutil.copyfile(path, target)
            self.copies.add(sha)
        return target

    def link(self, doc: dict, page: int | None, fmt: str | None, folder: Path) -> str | None:
        from gknb.workbench.evidence import web_url

        local = self.local(doc)
        if local is not None and fmt in LINE_FORMATS:
            link = _rel(self._text_view(doc, local), folder)
            if link is not None:
                return link + (f"#L{int(page)}" if page else "")
        if local is not None:
            link = _rel(local.resolve(), folder.resolve())
            if link is not None:
                return link + (f"#page={int(page)}" if page and fmt in PAGE_FORMATS else "")
        return web_url(doc.get("url"))

    def _text_view(self, doc: dict, local: Path) -> Path:
        from gknb.workbench.evidence import decode_text

        sha = doc["sha256"]
        path = self.out / "text" / f"{sha}.html"
        if sha not in self.texts:
            lines = decode_text(local.read_bytes()).splitlines()
            _write(path, render("dashboard_text.html.j2", {"lines": lines, "name": doc.get("url") or local.name,
                                                           "raw": _rel(local.resolve(), path.parent.resolve()),
                                                           "root": "../"}))
            self.texts.add(sha)
        return path

    def prune(self) -> None:
        """Text views and copies of an earlier build that this one no longer links."""
        for folder, keep in ((self.out / "text", self.texts), (self.out / "evidence", self.copies)):
            if folder.is_dir():
                for old in folder.iterdir():
                    if old.is_file() and old.name.split(".")[0] not in keep:
                        old.unlink()


def _where(fmt: str | None, page: int | None) -> str | None:
    if not page:
        return None
    # Text sources number lines, not pages (CONTRACT.md: `page` is the line for plain text).
    return f"line {page}" if fmt in LINE_FORMATS else f"p. {page}"


def _heat(groups: list[dict], years: list[int]) -> list[dict]:
    for g in groups:
        g["rate"] = g["passing"] / g["reports"] if g["reports"] else None
        g["colour"] = _pass_colour(g["rate"])
        g["cells"] = []
        for y in years:
            c = g["by_year"].get(y)
            if c:
                rate = c["passing"] / c["reports"]
                g["cells"].append({"year": y, "passing": c["passing"], "reports": c["reports"], "rate": rate,
                                   "colour": _pass_colour(rate)})
            else:
                g["cells"].append(None)
    return groups


def _grouped(cur, keys: list[str], where: str, params: list) -> tuple[list[dict], list[int]]:
    from gknb.workbench.query import rows

    cols = ", ".join(keys)
    totals = rows(cur, f"""SELECT {cols}, count(*) AS reports, count(*) FILTER (WHERE errors = 0) AS passing,
                                  sum(errors) AS errors, sum(warnings) AS warnings
                           FROM memory.main.wb_reports WHERE {where} GROUP BY {cols}
                           ORDER BY {', '.join(k + ' NULLS LAST' for k in keys)}""", params)
    cells = rows(cur, f"""SELECT {cols}, year, count(*) AS reports, count(*) FILTER (WHERE errors = 0) AS passing
                          FROM memory.main.wb_reports WHERE {where} AND year IS NOT NULL
                          GROUP BY {cols}, year""", params)
    by: dict[tuple, dict] = {}
    for c in cells:
        by.setdefault(tuple(c[k] for k in keys), {})[c["year"]] = c
    for t in totals:
        t["by_year"] = by.get(tuple(t[k] for k in keys), {})
    return totals, sorted({c["year"] for c in cells})


def _by_check(cur, where: str, params: list) -> dict:
    from gknb.workbench.query import rows

    counts = rows(cur, f"""SELECT check_id, count(*) FILTER (WHERE severity = 'error') AS error,
                                  count(*) FILTER (WHERE severity <> 'error') AS warning
                           FROM memory.main.wb_findings WHERE {where} GROUP BY check_id
                           ORDER BY count(*) DESC, check_id""", params)
    most = max([c["error"] + c["warning"] for c in counts] or [1])
    label_w, bar_w, bar_h = 120, 300, 24
    bars = []
    for i, c in enumerate(counts):
        ew, ww = bar_w * c["error"] / most, bar_w * c["warning"] / most
        bars.append({"check": c["check_id"], "y": 8 + i * (bar_h + 6), "error": c["error"], "warning": c["warning"],
                     "ew": ew, "ww": ww, "wx": label_w + ew, "tx": label_w + ew + ww + 6})
    return {"bars": bars, "label_w": label_w, "bar_h": bar_h, "width": label_w + bar_w + 60,
            "height": 16 + len(bars) * (bar_h + 6), "colours": SEVERITY_COLOURS}


def _prepare(cur, has: set[str]) -> None:
    """Once per build: the agencies with gaps (from `coverage_agency_year`, so the pages and
    analysts' SQL give one list) and the documents of the reports with findings, in memory, so
    each province and page reads a small table instead of the warehouse's views."""
    if "coverage_agency_year" in has:
        cur.execute("""
            CREATE OR REPLACE TABLE memory.main.wb_gaps AS
            SELECT agency_key, any_value(province) AS province, any_value(agency) AS agency,
                   any_value(city) AS city, any_value(district) AS district,
                   list(year ORDER BY year) FILTER (WHERE NOT has_report) AS missing,
                   list(year ORDER BY year) FILTER (WHERE has_report) AS have
            FROM coverage_agency_year
            GROUP BY agency_key HAVING count(*) FILTER (WHERE NOT has_report) > 0""")
    cur.execute("""
        CREATE OR REPLACE TABLE memory.main.wb_docs AS
        SELECT d.document_id, d.source_path, d.url, d.sha256
        FROM documents d
        WHERE d.document_id IN (SELECT document_id FROM memory.main.wb_reports WHERE errors + warnings > 0)""")


def _gaps(cur, province: str | None, has: set[str]) -> tuple[list[dict], int]:
    """Agencies of a province with no report for a year."""
    from gknb.workbench.query import rows

    if "coverage_agency_year" not in has:
        return [], 0
    cond = "province IS NULL" if province is None else "province = ?"
    got = rows(cur, f"""SELECT * FROM memory.main.wb_gaps WHERE {cond}
                        ORDER BY city NULLS LAST, district NULLS FIRST, agency""",
               [] if province is None else [province])
    return got[:MAX_GAPS], max(0, len(got) - MAX_GAPS)


def _docs_link(run: dict | None, out: Path) -> str | None:
    if not run or not run.get("data_docs"):
        return None
    return _rel(Path(run["data_docs"]), out.resolve())


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda r: "–" if r is None else f"{r * 100:.0f}%"
    return env


def render(name: str, context: dict) -> str:
    return _env().get_template(name).render(**context)


def _write(path: Path, html: str) -> None:
    from gknb.warehouse.publish import remove_stale, unique_temp

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent, path.name, "tmp")  # a killed run's; a fixed name raced between two runs
    tmp = unique_temp(path, "tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)  # a reader never sees a half-written page
    except OSError as exc:  # a full disk or read-only folder: one line naming the page
        from gknb.errors import environment_failure

        tmp.unlink(missing_ok=True)
        raise environment_failure(exc, path) from None


def build_dashboard(db: Path | str, out: Path | str, *, raw_dir: Path | str | None = None,
                    copy_evidence: bool = False) -> Path:
    """Writes the static dashboard of the warehouse's current reports and latest check run into
    `out` (index.html and one folder per province); returns the index's path. `raw_dir`: the raw
    store (default raw/ in the data directory); `copy_evidence`: hard-link or copy the evidence of
    the listed findings into `out`/evidence/ instead of linking it where it lies."""
    from gknb.paths import default_raw_dir
    from gknb.workbench.query import Warehouse

    db, out = Path(db), Path(out)
    if not db.exists():
        raise WarehouseNotFound(f"{db}: no warehouse here; run `gknb ingest` first")
    snap = Warehouse(db).snapshot()
    if "dq_runs" not in snap.has or "dq_findings" not in snap.has:
        snap.con.close()
        raise WarehouseIncomplete(f"{db}: no dq_runs, dq_findings table; run `gknb ingest` and `gknb check` first")
    raw = Path(raw_dir) if raw_dir is not None else default_raw_dir()
    out.mkdir(parents=True, exist_ok=True)
    cur = snap.cursor()
    try:
        written = _build(cur, snap, out.resolve(), raw, copy_evidence)
    except QualityError:
        raise
    finally:
        cur.close()
        snap.con.close()
    # Province folders of an earlier build that this one no longer has.
    pdir = out / "p"
    if pdir.is_dir():
        for old in pdir.iterdir():
            if old.is_dir() and old.name not in written:
                shutil.rmtree(old, ignore_errors=True)
    return out / "index.html"


def _build(cur, snap, out: Path, raw: Path, copy_evidence: bool) -> set[str]:
    from gknb.workbench.query import rows, totals as totals_of, Filters

    run = snap.run
    _prepare(cur, snap.has)
    nation = totals_of(cur, Filters())
    provinces, years = _grouped(cur, ["province"], "TRUE", [])
    for p in provinces:
        p["slug"] = province_slug(p["province"])
        p["name"] = p["province"] or UNKNOWN
        p["href"] = f"p/{p['slug']}/index.html"
    trend = [t for t in snap.trend if t.get("pass_rate") is not None]
    context = {"run": run, "docs_link": _docs_link(run, out), "years": years, "totals": nation,
               "provinces": _heat(provinces, years), "by_check": _by_check(cur, "TRUE", []),
               "trend": trend[-30:], "root": ""}
    _write(out / "index.html", render("dashboard.html.j2", context))
    from gknb.workbench.checks import explanations

    _write(out / "checks.html", render("dashboard_checks.html.j2", {**context, "checks": explanations()}))
    written = set()
    evidence = Evidence(out, raw, copy=copy_evidence)
    for p in provinces:
        folder = out / "p" / p["slug"]
        cond, params = ("province IS NULL", []) if p["province"] is None else ("province = ?", [p["province"]])
        cities, _ = _grouped(cur, ["city"], cond, params)
        for c in cities:
            c["name"], c["href"] = c["city"] or "(province level)", None
        districts, _ = _grouped(cur, ["city", "district"], cond, params)
        for d in districts:
            d["name"], d["first"], d["href"] = d["district"] or "(city level)", d["city"] or "(province level)", None
        # The province's reports with findings and their findings: two queries, then paged here.
        failing = rows(cur, f"""
            SELECT w.*, d.source_path, d.url, d.sha256 AS doc_sha256
            FROM memory.main.wb_reports w LEFT JOIN memory.main.wb_docs d ON d.document_id = w.document_id
            WHERE {cond.replace('province', 'w.province')} AND w.errors + w.warnings > 0
            ORDER BY w.errors DESC, w.warnings DESC, w.city NULLS LAST, w.district NULLS LAST, w.agency, w.year,
                     w.report_id""", params)
        found: dict[str, list[dict]] = {}
        for f in rows(cur, f"""SELECT * FROM memory.main.wb_findings WHERE {cond}
                               ORDER BY severity_rank, check_id, row_key, col_key, rowid""", params):
            found.setdefault(f["report_id"], []).append(f)
        ids = failing
        pages = max(1, -(-len(ids) // REPORTS_PER_PAGE))
        gaps, gaps_more = _gaps(cur, p["province"], snap.has)
        base = {"run": run, "years": years, "province": p, "root": "../../", "pages": pages,
                "docs_link": _docs_link(run, folder)}
        _write(folder / "index.html", render("dashboard_province.html.j2", {
            **base, "cities": _heat(cities, years), "districts": _heat(districts[:MAX_DISTRICTS], years),
            "districts_more": max(0, len(districts) - MAX_DISTRICTS), "gaps": gaps, "gaps_more": gaps_more,
            "by_check": _by_check(cur, cond, params), "failing_reports": len(ids)}))
        for n in range(1, pages + 1):
            chunk = ids[(n - 1) * REPORTS_PER_PAGE:n * REPORTS_PER_PAGE]
            _write(folder / f"findings-{n}.html", render("dashboard_findings.html.j2", {
                **base, "page": n,
                "first": (n - 1) * REPORTS_PER_PAGE + 1, "total": len(ids),
                "groups": _report_groups(chunk, found, folder, evidence)}))
        for stale in folder.glob("findings-*.html"):
            try:
                if int(stale.stem.split("-")[1]) > pages:
                    stale.unlink()
            except (ValueError, IndexError):
                pass
        written.add(p["slug"])
    evidence.prune()
    return written


def _report_groups(reports: list[dict], found: dict[str, list[dict]], folder: Path, evidence: Evidence) -> list[dict]:
    groups = []
    for rep in reports:
        doc = {"sha256": rep["doc_sha256"], "source_path": rep["source_path"], "url": rep["url"]}
        rep["place"] = " ".join(x for x in (rep["province"], rep["city"], rep["district"]) if x) or UNKNOWN
        rep["document"] = rep["url"] or (Path(rep["source_path"]).name if rep["source_path"] else None)
        rep["link"] = evidence.link(doc, None, rep["format"], folder)
        findings = found.get(rep["report_id"], [])
        for f in findings:
            f["where"] = _where(rep["format"], f["page"])
            f["link"] = evidence.link(doc, f["page"], rep["format"], folder) if f["page"] else None
            f["cell"] = " / ".join(x for x in (f.get("row_label") or f.get("row_key"),
                                               f.get("col_label") or f.get("col_key")) if x)
        groups.append({"report": rep, "findings": findings})
    return groups
