"""The auditors' workbench: a small read-only web application over the warehouse (issue 10.2).

`create_app(db)` returns a FastAPI application; `gknb dashboard --serve` runs it with uvicorn.
Server-rendered HTML (Jinja2, autoescaped), inline SVG charts drawn in Python, one small static
script; nothing from the network. Every link is built with urlencode, so report text in a URL is
data, never markup. The pages:

    /                      overview: pass rate by province → city → district → agency, by year; trend
    /findings              findings with facets, sorting and paging (the filter is the query string)
    /findings.csv|.parquet|.xlsx   the same selection as a download (.xlsx when openpyxl is installed)
    /report/<report_id>    one report: its findings with their cells, the evidence, all its cells
    /agency?key=<key>      one agency across years, its main measures as charts
    /checks                what each check means (#check-<id>)
    /raw/<sha256>          the archived bytes of a recorded document (PDF opens at #page=N)
    /text/<sha256>         a text source with one anchor per line (#L<n>)
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from gknb.quality.errors import QualityError
from gknb.workbench import charts, evidence, query
from gknb.workbench.checks import explanations
from gknb.workbench.query import FACETS, NULL_TOKEN, BadRequest, Filters, Warehouse

HERE = Path(__file__).resolve().parent
PER_PAGE = 50
MAX_PER_PAGE = 500
# The measures an agency page charts: (section, row_key, col_key) of the catalog; labels come from
# the warehouse's template_cells.
AGENCY_MEASURES = [(3, "new_requests", "total"), (3, "total_processed", "total"), (3, "granted", "total"),
                   (3, "carried_forward", "total"), (4, "admin_review", "total"), (4, "lawsuit_direct", "total"),
                   (4, "lawsuit_after_review", "total")]
CSV_COLUMNS = [c for c in query.FINDING_COLUMNS if c not in ("format", "sha256")]
# A spreadsheet runs a cell starting with one of these as a formula (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
HTML_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def url(path: str, pairs=(), **extra) -> str:
    """A URL of this app: `path` (already safe) plus the query, percent-encoded."""
    items = list(pairs) + [(k, v) for k, v in extra.items() if v is not None]
    return path + ("?" + urlencode(items, quote_via=quote) if items else "")


def report_url(report_id: str) -> str:
    return "/report/" + quote(str(report_id), safe="")


def agency_url(key: str | None) -> str | None:
    return url("/agency", key=key) if key else None


def check_url(check_id: str) -> str:
    return "/checks#check-" + quote(str(check_id), safe=".")


def safe_cell(value) -> object:
    """A value for CSV / XLSX that no spreadsheet runs as a formula: text starting with = + - @
    (or a tab / CR) gets a leading apostrophe; plain numbers such as -3 stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def where_label(fmt: str | None, page: int | None) -> str | None:
    if not page:
        return None
    return f"line {page}" if fmt in evidence.LINE_FORMATS else f"p. {page}"


def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(url=url, report_url=report_url, agency_url=agency_url, check_url=check_url,
                       pass_colour=charts.pass_colour, where_label=where_label, NULL_TOKEN=NULL_TOKEN,
                       evidence_link=evidence.evidence_link)
    env.filters["pct"] = lambda r: "–" if r is None else f"{r * 100:.0f}%"
    env.filters["num"] = lambda v: "" if v is None else (f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}")
    env.filters["shown"] = lambda v: NULL_TOKEN if v is None else v
    return env


def create_app(db: Path | str, *, raw_dir: Path | str | None = None, warm: bool = True):
    """The workbench over warehouse `db` (read-only). `raw_dir`: the raw store of crawled files
    (default: raw/ in the data directory). `warm` opens the warehouse at startup so the first
    page does not pay for building the in-memory tables."""
    from contextlib import asynccontextmanager

    from gknb.paths import default_raw_dir

    warehouse = Warehouse(db)
    raw_root = Path(raw_dir) if raw_dir is not None else default_raw_dir()
    env = _env()

    @asynccontextmanager
    async def lifespan(_app):
        if warm:
            try:
                warehouse.snapshot()
            except QualityError:
                pass  # each page says so until the warehouse appears
        yield

    app = FastAPI(title="gknb workbench", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.warehouse = warehouse
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        html = env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": HTML_CSP,
                                                                "X-Content-Type-Options": "nosniff"})

    def common(snap, request: Request, **extra) -> dict:
        return {"run": snap.run, "source": snap.findings_source, "path": request.url.path, **extra}

    @app.exception_handler(QualityError)
    async def _unavailable(request: Request, exc: QualityError):
        return page("error.html.j2", 503, title="warehouse unavailable", message=str(exc), run=None, path="")

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest):
        return page("error.html.j2", 400, title="bad request", message=str(exc), run=None, path="")

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request):
        snap = warehouse.snapshot()
        filters = Filters.from_query(request.query_params, query.REPORT_FACETS)
        cur = snap.cursor()
        try:
            drill = query.drill(cur, filters)
            totals = query.totals(cur, filters)
            sample = query.findings_page(cur, filters, None, 1, 20)
            by_check = query.by_check(cur, filters)
        finally:
            cur.close()
        crumbs = [("全国 all", url("/", filters.without(*query.LEVELS, "year").pairs()))]
        for i, lv in enumerate(query.LEVELS):
            vals = filters.get(lv)
            if vals:
                keep = filters.without(*query.LEVELS[i + 1:], "year")
                crumbs.append((", ".join(vals), url("/", keep.pairs())))
        if filters.get("year"):
            crumbs.append((", ".join(filters.get("year")), url("/", filters.pairs())))
        trend = charts.rate_line([(t["finished"][:10] if t["finished"] else "?", t["pass_rate"],
                                   f"run {t['run_id']} {t['finished']}: {t['reports']} reports, "
                                   f"{t['errors']} errors, {t['warnings']} warnings") for t in snap.trend],
                                 title="pass rate per check run") if snap.trend else None
        most = max([b["errors"] + b["warnings"] for b in by_check] or [1])
        return page("overview.html.j2", **common(snap, request, filters=filters, drill=drill, totals=totals,
                                                  sample=sample, by_check=by_check, most=most, crumbs=crumbs,
                                                  trend=trend, trend_rows=snap.trend[-10:]))

    def _findings_context(request: Request):
        filters = Filters.from_query(request.query_params)
        sort = request.query_params.get("sort")
        try:
            pg = int(request.query_params.get("page") or 1)
            per = int(request.query_params.get("per") or PER_PAGE)
        except ValueError:
            raise BadRequest("page and per must be numbers") from None
        return filters, sort, pg, max(1, min(MAX_PER_PAGE, per))

    @app.get("/findings", response_class=HTMLResponse)
    def findings(request: Request):
        snap = warehouse.snapshot()
        filters, sort, pg, per = _findings_context(request)
        cur = snap.cursor()
        try:
            result = query.findings_page(cur, filters, sort, pg, per)
            facets = query.facet_counts(cur, filters)
        finally:
            cur.close()
        sort_pair = [("sort", result["sort"])] if result["sort"] != query.DEFAULT_SORT else []
        per_pair = [("per", str(per))] if per != PER_PAGE else []
        # The whole selection (downloads), and what the page's own links keep (sort, page size).
        selection = filters.pairs() + sort_pair
        state = selection + per_pair

        def with_page(n: int) -> str:
            return url("/findings", state + ([("page", str(n))] if n > 1 else []))

        def sort_link(key: str) -> str:
            new = "-" + key if result["sort"] == key else key
            return url("/findings", filters.pairs() + ([("sort", new)] if new != query.DEFAULT_SORT else []) + per_pair)

        def facet_link(param: str, token: str) -> str:
            return url("/findings", filters.toggled(param, token).pairs() + sort_pair + per_pair)

        downloads = {ext: url(f"/findings.{ext}", selection) for ext in _download_formats()}
        return page("findings.html.j2", **common(snap, request, filters=filters, result=result, facets=facets,
                                                  with_page=with_page, sort_link=sort_link, facet_link=facet_link,
                                                  downloads=downloads, clear=url("/findings"),
                                                  hidden=[(p, v) for p, v in state if p != "q"]))

    def _export(request: Request):
        snap = warehouse.snapshot()
        filters, sort, _, _ = _findings_context(request)
        sql, params = query.export_query(filters, sort)
        return snap, sql, params

    @app.get("/findings.csv")
    def findings_csv(request: Request):
        snap, sql, params = _export(request)

        def body():
            cur = snap.cursor()
            try:
                cur.execute(sql, params)
                buf = io.StringIO()
                w = csv.writer(buf, lineterminator="\r\n")
                buf.write("\ufeff")  # Excel reads UTF-8 only with the BOM
                w.writerow(CSV_COLUMNS)
                while True:
                    chunk = cur.fetchmany(5000)
                    if not chunk:
                        break
                    for row in chunk:
                        w.writerow([safe_cell(v) for v in row])
                    yield buf.getvalue().encode("utf-8")
                    buf.seek(0)
                    buf.truncate()
                if buf.tell():
                    yield buf.getvalue().encode("utf-8")
            finally:
                cur.close()

        return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="findings.csv"'})

    @app.get("/findings.parquet")
    def findings_parquet(request: Request):
        import pyarrow.parquet as pq

        snap, sql, params = _export(request)
        cur = snap.cursor()
        try:
            table = cur.execute(sql, params).to_arrow_table()
        finally:
            cur.close()
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return Response(buf.getvalue(), media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": 'attachment; filename="findings.parquet"'})

    if "xlsx" in _download_formats():
        @app.get("/findings.xlsx")
        def findings_xlsx(request: Request):
            from openpyxl import Workbook

            snap, sql, params = _export(request)
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("findings")
            ws.append(CSV_COLUMNS)
            cur = snap.cursor()
            try:
                cur.execute(sql, params)
                while chunk := cur.fetchmany(5000):
                    for row in chunk:
                        ws.append([safe_cell(v) for v in row])
            finally:
                cur.close()
            buf = io.BytesIO()
            wb.save(buf)
            return Response(buf.getvalue(),
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": 'attachment; filename="findings.xlsx"'})

    @app.get("/report/{report_id}", response_class=HTMLResponse)
    def report(request: Request, report_id: str):
        snap = warehouse.snapshot()
        cur = snap.cursor()
        try:
            rep = query.report(cur, report_id)
            docs = query.document_by_sha(cur, rep["document"].get("sha256")) if rep and rep["document"] else []
        finally:
            cur.close()
        if rep is None:
            return page("error.html.j2", 404, title="no such report", message=f"no report {report_id} in the warehouse",
                        run=snap.run, path="")
        doc = rep["document"]
        sha = doc.get("sha256")
        archived = evidence.locate(sha, docs, raw_root) if sha else None
        cells = {(c["row_key"], c["col_key"]): c for c in rep["cells"]}
        for f in rep["findings"]:
            f["cell"] = cells.get((f["row_key"], f["col_key"]))
            f["link"] = evidence.evidence_link(sha, rep["format"], f["page"], archived is not None)
        sections: dict[int, list] = {}
        for c in rep["cells"]:
            sections.setdefault(c["section"], []).append(c)
        return page("report.html.j2", **common(
            snap, request, rep=rep, doc=doc, sha=sha, archived=archived is not None,
            archived_link=evidence.evidence_link(sha, rep["format"], None, archived is not None),
            web=evidence.web_url(doc.get("url")), sections=sections,
            checks=explanations()))

    @app.get("/agency", response_class=HTMLResponse)
    def agency(request: Request, key: str = ""):
        snap = warehouse.snapshot()
        cur = snap.cursor()
        try:
            got = query.agency(cur, key, AGENCY_MEASURES) if key else None
        finally:
            cur.close()
        if got is None:
            return page("error.html.j2", 404, title="no such agency", message=f"no current report of agency {key!r}",
                        run=snap.run, path="")
        reps = got["reports"]
        years = sorted({r["year"] for r in reps if r["year"] is not None})
        year_of = {r["report_id"]: r["year"] for r in reps}
        values = {}
        for v in got["values"]:
            number = v["value"] if v["status"] == "value" else 0.0 if v["status"] in ("blank", "nil") else None
            values[(year_of.get(v["report_id"]), v["section"], v["row_key"], v["col_key"])] = number
        svgs = []
        for m in AGENCY_MEASURES:
            lab = got["labels"].get(m)
            if lab is None:
                continue
            title = lab["row_label"] + " · " + lab["col_label"]
            svgs.append(charts.bar_chart([(str(y), values.get((y, *m))) for y in years], title=title))
        first = reps[-1]
        return page("agency.html.j2", **common(snap, request, reps=reps, first=first, charts=svgs, key=key))

    @app.get("/checks", response_class=HTMLResponse)
    def checks(request: Request):
        snap = warehouse.snapshot()
        return page("checks.html.j2", **common(snap, request, checks=explanations(), seen=set(snap.checks_seen)))

    def _document(sha256: str):
        if not evidence.SHA256.match(sha256):
            return None, None, None
        snap = warehouse.snapshot()
        cur = snap.cursor()
        try:
            docs = query.document_by_sha(cur, sha256)
        finally:
            cur.close()
        if not docs:  # only what the warehouse records is ever served
            return None, None, None
        return docs, evidence.locate(sha256, docs, raw_root), docs[0].get("format")

    @app.get("/raw/{sha256}")
    def raw(sha256: str):
        docs, path, fmt = _document(sha256)
        if docs is None:
            return PlainTextResponse("not a document recorded in this warehouse", status_code=404)
        if path is None:
            return PlainTextResponse("the archived copy is not available on this machine (raw store or recorded path)",
                                     status_code=410)
        media = evidence.media_type(path, fmt)
        headers = {"X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"}
        if not media.startswith("application/pdf"):
            # A crawled page's own scripts must not run with the workbench's origin.
            headers["Content-Security-Policy"] = "sandbox"
        return FileResponse(path, media_type=media, headers=headers)

    @app.get("/text/{sha256}", response_class=HTMLResponse)
    def text(request: Request, sha256: str):
        docs, path, fmt = _document(sha256)
        if docs is None:
            return page("error.html.j2", 404, title="no such document", message="not a document recorded in this warehouse",
                        run=None, path="")
        if path is None:
            return page("error.html.j2", 410, title="archived copy unavailable",
                        message="the archived copy is not available on this machine", run=None, path="")
        lines = evidence.decode_text(path.read_bytes()).splitlines()
        snap = warehouse.snapshot()
        return page("text.html.j2", **common(snap, request, lines=lines, doc=docs[0], sha=sha256))

    return app


def _download_formats() -> list[str]:
    out = ["csv", "parquet"]
    try:
        import openpyxl  # noqa: F401

        out.append("xlsx")
    except ImportError:
        pass
    return out


def serve(db: Path | str, *, host: str = "127.0.0.1", port: int = 8000, raw_dir: Path | str | None = None) -> None:
    """Runs the workbench with uvicorn until interrupted."""
    import uvicorn

    app = create_app(db, raw_dir=raw_dir, warm=False)
    app.state.warehouse.snapshot()  # a missing or unreadable warehouse is one line before the server starts
    uvicorn.run(app, host=host, port=port, log_level="info")


__all__ = ["create_app", "serve", "url", "safe_cell", "FACETS"]
