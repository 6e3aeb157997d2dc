"""The auditors' workbench (issue 10.2/10.5): `gknb dashboard --serve` over a warehouse ingested
from data/samples and checked, served by uvicorn on 127.0.0.1 and driven in real headless
Chromium over the DevTools protocol: the drill-down to 洪泽区 2023's S4.row_total finding and its
archived PDF at page 4, facets, paging, sorting, the CSV download, injected markup staying text,
and no console error on any page."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gknb.quality import run_checks
from gknb.warehouse.publish import building, connect_readonly

from conftest import SAMPLES
from test_checks import report
from test_dashboard import EVIL, _load, chromium

HONGZE_PDF = SAMPLES / "pdf" / "hongze_2023.pdf"
FORMULA = '=HYPERLINK("http://example.invalid","点此")区人民政府'

pytestmark = pytest.mark.slow


def _ingest(paths, db):
    try:
        from gknb.pipeline import ingest
    except ImportError:  # before the one pipeline landed
        from gknb.warehouse.ingest import ingest_paths

        return ingest_paths(paths, db, workers=1, progress=False)
    return ingest(paths, db, workers=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn in a thread on 127.0.0.1 and a free port; stopped at the end of the module."""

    def __init__(self, app):
        import uvicorn

        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        end = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """data/samples ingested, plus two hostile reports (markup and a spreadsheet formula as the
    agency name, each breaking S4.row_total), checked once."""
    tmp = tmp_path_factory.mktemp("workbench")
    db = tmp / "warehouse.duckdb"
    _ingest([SAMPLES], db)
    broken = {(4, "admin_review", "upheld"): 10, (4, "admin_review", "corrected"): 1}
    with building(db) as con:
        _load(con, report(EVIL, 2023, "2021", broken, page=4, province="浙江省", city="杭州市", district="西湖区"),
              tmp / "evil.pdf")
        _load(con, report(FORMULA, 2022, "2021", broken, page=4, province="浙江省", city="杭州市", district="西湖区"),
              tmp / "formula.pdf")
    run = run_checks(db, build_docs=False)
    return db, run


@pytest.fixture(scope="module")
def server(warehouse):
    from gknb.workbench import create_app

    db, _ = warehouse
    with Server(create_app(db, raw_dir=db.parent / "raw")) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with chromium() as page:
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        yield page


def _sql(db: Path, query: str, params=()):
    con = connect_readonly(db)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def _current_findings(db: Path, run_id: str, where: str = "TRUE", params=()):
    return _sql(db, f"SELECT f.*, r.agency, r.year FROM dq_findings f JOIN reports r USING (report_id) "
                    f"WHERE f.run_id = ? AND {where}", [run_id, *params])


def go(page, url: str) -> None:
    """Navigate and wait until the page's script has run."""
    page.events = [e for e in page.events if e.get("method") != "Page.loadEventFired"]
    page.send("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired")
    assert page.evaluate("document.documentElement.getAttribute('data-rendered')") == "ok", url


def click(page, js_element: str) -> str:
    """Click the element the expression returns (it must exist) and wait for the next page."""
    page.events = [e for e in page.events if e.get("method") != "Page.loadEventFired"]
    assert page.evaluate(f"(() => {{ const el = {js_element}; if (!el) return false; el.click(); return true; }})()"), js_element
    page.wait_for("Page.loadEventFired")
    assert page.evaluate("document.documentElement.getAttribute('data-rendered')") == "ok"
    return page.evaluate("location.href")


def link_named(text: str, selector: str = "a") -> str:
    return f"Array.from(document.querySelectorAll({json.dumps(selector)})).find(a => a.textContent.trim() === {json.dumps(text)})"


def facet(param: str, value: str) -> str:
    return (f"Array.from(document.querySelectorAll('[data-facet={json.dumps(param)}] a.facet-value'))"
            f".find(a => a.dataset.value === {json.dumps(value)})")


# --- the done-when ------------------------------------------------------------------------------

def test_drill_down_reaches_hongze_2023_s4_finding_and_its_archived_pdf_page(server, browser):
    page = browser
    go(page, server.url("/"))
    click(page, link_named("江苏省", "#drill a.drill-link"))
    click(page, link_named("淮安市", "#drill a.drill-link"))
    click(page, link_named("洪泽区", "#drill a.drill-link"))
    href = click(page, link_named("2023", "#drill a.year"))
    assert parse_qs(urlsplit(href).query) == {"province": ["江苏省"], "city": ["淮安市"], "district": ["洪泽区"],
                                              "year": ["2023"]}
    # At 洪泽区 2023 the agencies level lists 洪泽区人民政府, and the selection's findings include
    # its S4.row_total on 行政复议.
    names = page.evaluate("Array.from(document.querySelectorAll('#drill tr.group')).map(r => r.dataset.name)")
    assert names == ["洪泽区人民政府"]
    rows = page.evaluate("""Array.from(document.querySelectorAll('#sample tr.finding[data-check="S4.row_total"]'))
                              .map(r => Array.from(r.cells).map(c => c.textContent.trim()))""")
    assert ["error", "S4.row_total", "洪泽区人民政府 · 2023", "行政复议 / 总计", "11", "0"] in rows
    click(page, """Array.from(document.querySelectorAll('#sample tr.finding[data-check="S4.row_total"]'))
                     .find(r => r.cells[3].textContent.includes('行政复议')).querySelector('a.report-link')""")
    assert page.evaluate("document.getElementById('report-title').textContent") == "洪泽区人民政府 · 2023"
    finding = page.evaluate("""(() => { const r = Array.from(document.querySelectorAll('#report-findings tr.finding'))
                                   .find(r => r.dataset.check === 'S4.row_total' && r.cells[3].textContent.includes('行政复议'));
                                 return {cell: r.cells[3].textContent.trim(), expected: r.cells[4].textContent.trim(),
                                         printed: r.cells[5].textContent.trim(), where: r.cells[7].textContent.trim(),
                                         href: r.cells[7].querySelector('a').href,
                                         why: r.cells[1].querySelector('a').getAttribute('href')}; })()""")
    assert (finding["cell"], finding["expected"], finding["printed"], finding["where"]) == ("行政复议 / 总计", "11", "0", "p. 4")
    sha = _sha256(HONGZE_PDF)
    assert finding["href"] == server.url(f"/raw/{sha}#page=4")
    assert finding["why"] == "/checks#check-S4.row_total"
    # The archived copy is the PDF itself, served by the workbench.
    got = httpx.get(finding["href"].split("#")[0], timeout=30)
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert got.content == HONGZE_PDF.read_bytes()
    # The report's cells as a table: 行政复议 总计 printed 0 on page 4.
    cell = page.evaluate("""Array.from(document.querySelector('#cells tr[data-row="admin_review"][data-col="total"]').cells)
                              .map(c => c.textContent.trim())""")
    assert cell == ["行政复议", "总计", "value", "0", "0", "p. 4"]
    # The check's explanation the finding links to exists and says what the check compares.
    click(page, "document.querySelector('#report-findings tr.finding a[href^=\"/checks\"]')")
    text = page.evaluate("document.getElementById('check-S4.row_total').nextElementSibling.textContent")
    assert "总计" in text
    assert page.problems() == []


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_findings_csv_holds_the_row_and_is_safe_for_spreadsheets(warehouse, server):
    db, run = warehouse
    got = httpx.get(server.url("/findings.csv"), params={"check": "S4.row_total"}, timeout=30)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel needs
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    expected = _current_findings(db, run.run_id, "f.check_id = 'S4.row_total'")
    assert len(rows) == len(expected) >= 3
    assert {r["check_id"] for r in rows} == {"S4.row_total"}
    hongze = [r for r in rows if r["agency"] == "洪泽区人民政府" and r["row_key"] == "admin_review"]
    assert len(hongze) == 1
    h = hongze[0]
    assert (h["province"], h["city"], h["district"], h["year"], h["col_key"], h["expected"], h["observed"], h["page"],
            h["row_label"], h["cause"]) == ("江苏省", "淮安市", "洪泽区", "2023", "total", "11", "0", "4", "行政复议", "source")
    # A name that a spreadsheet would run as a formula is quoted; the markup one is plain text.
    agencies = {r["agency"] for r in rows}
    assert "'" + FORMULA in agencies and FORMULA not in agencies
    assert EVIL in agencies
    # The facets combine: the same row with province, year and cause.
    narrow = httpx.get(server.url("/findings.csv"), params={"check": "S4.row_total", "province": "江苏省",
                                                            "year": "2023", "cause": "source"}, timeout=30)
    narrow_rows = list(csv.DictReader(io.StringIO(narrow.content.decode("utf-8-sig"))))
    assert {(r["agency"], r["row_key"]) for r in narrow_rows} == {("洪泽区人民政府", "admin_review"),
                                                                 ("洪泽区人民政府", "lawsuit_after_review")}
    # Parquet of the same selection.
    import pyarrow.parquet as pq

    pqt = httpx.get(server.url("/findings.parquet"), params={"check": "S4.row_total"}, timeout=30)
    table = pq.read_table(io.BytesIO(pqt.content))
    assert table.num_rows == len(expected) and "expected" in table.column_names


def test_facets_paging_sorting_and_the_download_link_follow_the_url(warehouse, server, browser):
    db, run = warehouse
    page = browser
    total = len(_current_findings(db, run.run_id))
    go(page, server.url("/findings?per=5"))
    assert page.evaluate("document.getElementById('total').textContent") == str(total)
    pages = -(-total // 5)
    assert page.evaluate("document.getElementById('page-of').textContent") == f"page 1 of {pages}"
    first = page.evaluate("Array.from(document.querySelectorAll('#findings-table tr.finding')).map(r => r.dataset.report + r.cells[9].textContent)")
    assert len(first) == 5
    href = click(page, "document.getElementById('next')")
    assert parse_qs(urlsplit(href).query) == {"per": ["5"], "page": ["2"]}
    second = page.evaluate("Array.from(document.querySelectorAll('#findings-table tr.finding')).map(r => r.dataset.report + r.cells[9].textContent)")
    assert len(second) == 5 and not set(first) & set(second)
    # Facet counts are the warehouse's: each check's count of current findings.
    counts = {c: n for c, n in _sql(db, "SELECT check_id, count(*) FROM dq_findings WHERE run_id = ? GROUP BY 1", [run.run_id])}
    shown = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('[data-facet="check"] li'))
                               .map(li => [li.querySelector('a').dataset.value, Number(li.querySelector('.count').textContent.replace(/,/g, ''))]))""")
    assert shown == counts
    # Choosing a check narrows the table and keeps the choice in the URL.
    href = click(page, facet("check", "completeness"))
    assert parse_qs(urlsplit(href).query)["check"] == ["completeness"]
    assert "page" not in parse_qs(urlsplit(href).query)
    assert page.evaluate("document.getElementById('total').textContent") == str(counts["completeness"])
    checks = page.evaluate("Array.from(document.querySelectorAll('#findings-table tr.finding')).map(r => r.dataset.check)")
    assert set(checks) == {"completeness"}
    # Another facet's counts follow the choice: the provinces of completeness findings.
    provinces = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('[data-facet="province"] li'))
                                   .map(li => [li.querySelector('a').dataset.value, Number(li.querySelector('.count').textContent)]))""")
    truth = dict(_sql(db, "SELECT coalesce(r.province, '(none)'), count(*) FROM dq_findings f JOIN reports r USING (report_id) "
                          "WHERE f.run_id = ? AND f.check_id = 'completeness' GROUP BY 1", [run.run_id]))
    assert provinces == truth
    # Sorting by year, then descending.
    click(page, "document.querySelector('a.sort[data-sort=\"year\"]')")
    years = page.evaluate("Array.from(document.querySelectorAll('#findings-table tr.finding')).map(r => Number(r.cells[4].textContent))")
    assert years == sorted(years)
    href = click(page, "document.querySelector('a.sort[data-sort=\"year\"]')")
    assert parse_qs(urlsplit(href).query)["sort"] == ["-year"]
    years = page.evaluate("Array.from(document.querySelectorAll('#findings-table tr.finding')).map(r => Number(r.cells[4].textContent))")
    assert years == sorted(years, reverse=True)
    # The download link carries the same selection.
    csv_href = page.evaluate("document.getElementById('download-csv').href")
    assert parse_qs(urlsplit(csv_href).query) == {"check": ["completeness"], "sort": ["-year"]}
    body = httpx.get(csv_href, timeout=30).content.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(body)))) == counts["completeness"]
    assert page.problems() == []


def test_markup_in_report_text_stays_text_on_every_page(server, browser):
    page = browser
    go(page, server.url("/findings?check=S4.row_total"))
    agencies = page.evaluate("Array.from(document.querySelectorAll('#findings-table a.report-link')).map(a => a.textContent)")
    assert EVIL in agencies and FORMULA in agencies
    go(page, server.url("/?province=浙江省&city=杭州市&district=西湖区"))
    names = page.evaluate("Array.from(document.querySelectorAll('#drill tr.group')).map(r => r.dataset.name)")
    assert EVIL in names
    click(page, link_named(EVIL, "#drill a.drill-link"))  # the agency page, its key in the URL
    assert page.evaluate("document.getElementById('agency-name').textContent") == EVIL
    click(page, "document.querySelector('tr.agency-report a')")
    assert page.evaluate("document.getElementById('report-title').textContent") == EVIL + " · 2023"
    # The facet link with the name in its query string round-trips.
    go(page, server.url("/findings?check=S4.row_total"))
    click(page, facet("agency", EVIL))
    assert page.evaluate("document.getElementById('total').textContent") == "1"
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("Array.from(document.scripts).map(s => s.getAttribute('src'))") == ["/static/app.js"]
    assert page.problems() == []


def test_agency_page_charts_its_measures_with_axes_and_values(warehouse, server, browser):
    db, _ = warehouse
    page = browser
    key = _sql(db, "SELECT agency_key FROM reports WHERE agency = '平潭综合实验区' LIMIT 1")[0][0]
    go(page, server.url("/agency?" + httpx.QueryParams({"key": key}).__str__()))
    years = page.evaluate("Array.from(document.querySelectorAll('tr.agency-report')).map(r => Number(r.cells[0].textContent))")
    truth = _sql(db, "SELECT year, CAST(value AS DOUBLE) FROM v_cells WHERE agency_key = ? AND section = 3 "
                     "AND row_key = 'new_requests' AND col_key = 'total' ORDER BY year", [key])
    assert years == [y for y, _ in truth] and len(years) == 4
    chart = page.evaluate("""(() => { const svg = Array.from(document.querySelectorAll('#measures svg'))
                                 .find(s => s.getAttribute('aria-label').startsWith('一、本年新收'));
                               return {x: Array.from(svg.querySelectorAll('text.xlabel')).map(t => t.textContent),
                                       v: Array.from(svg.querySelectorAll('text.value')).map(t => t.textContent),
                                       ticks: svg.querySelectorAll('text.tick').length}; })()""")
    assert chart["x"] == [str(y) for y, _ in truth]
    assert chart["v"] == [f"{int(v):,}" for _, v in truth]
    assert chart["ticks"] >= 2
    assert page.problems() == []


def test_text_sources_open_at_their_line_and_unrecorded_files_are_refused(warehouse, server, browser):
    db, run = warehouse
    page = browser
    # A web-text report's finding links the served text at the finding's line.
    sha, line = _sql(db, """SELECT d.sha256, f.page FROM dq_findings f JOIN reports r USING (report_id)
                            JOIN documents d ON d.document_id = r.document_id
                            WHERE f.run_id = ? AND r.format = 'webtext' AND f.page IS NOT NULL LIMIT 1""", [run.run_id])[0]
    go(page, server.url(f"/text/{sha}#L{line}"))
    assert page.evaluate("location.hash") == f"#L{line}"
    assert page.evaluate(f"document.getElementById('L{line}') !== null")
    assert page.problems() == []
    # Only documents the warehouse records are served, and only by their hash.
    assert httpx.get(server.url("/raw/" + "0" * 64), timeout=10).status_code == 404
    assert httpx.get(server.url("/raw/..%2F..%2Fetc%2Fpasswd"), timeout=10).status_code == 404
    assert httpx.get(server.url("/raw/" + _sha256(Path(__file__))), timeout=10).status_code == 404
    text_source = httpx.get(server.url(f"/raw/{sha}"), timeout=10)
    assert text_source.status_code == 200 and text_source.headers["content-security-policy"] == "sandbox"


def test_a_swapped_warehouse_is_read_without_restarting(warehouse, server):
    db, first = warehouse
    second = run_checks(db, build_docs=False)  # publishes a new file: the server must see it
    html = httpx.get(server.url("/"), timeout=30).text
    assert second.run_id in html and first.run_id in html  # the latest run in the header, both in the trend
    assert html.count('class="run"') == 2
    # Findings are the current run's only, not doubled by the history.
    total = httpx.get(server.url("/findings.csv"), timeout=30).content.decode("utf-8-sig").count("\r\n") - 1
    assert total == len(_current_findings(db, second.run_id))


def test_bad_parameters_are_a_400_page_not_a_traceback(server):
    got = httpx.get(server.url("/findings"), params={"year": "2023; DROP TABLE reports"}, timeout=10)
    assert got.status_code == 400 and "year must be a number" in got.text
    assert httpx.get(server.url("/report/nope"), timeout=10).status_code == 404


def test_gknb_dashboard_serve_runs_the_workbench_until_stopped(warehouse):
    import subprocess
    import sys

    db, run = warehouse
    gknb = str(Path(sys.executable).parent / "gknb")
    port = _free_port()
    proc = subprocess.Popen([gknb, "dashboard", "--serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        end, page = time.monotonic() + 90, None
        while time.monotonic() < end and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200, proc.stdout.read() if proc.poll() is not None else ""
        latest = _sql(db, "SELECT run_id FROM dq_runs ORDER BY finished DESC LIMIT 1")[0][0]
        assert latest in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # No warehouse: one line, exit 2, before any server starts.
    done = subprocess.run([gknb, "dashboard", "--serve", "--db", str(db.parent / "none.duckdb"), "--port", str(port)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0 and "no warehouse" in done.stderr
