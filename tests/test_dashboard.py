"""The auditors' dashboard (issue 5): built from a warehouse with known findings, opened from disk
in real headless Chromium (Debian's chromium) through the DevTools protocol: it renders, logs no
console error, runs no injected script, and shows the findings with both values and the page."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gknb.quality import run_checks
from gknb.quality.dashboard import build_dashboard
from gknb.warehouse.load import load_document
from gknb.warehouse.publish import building, connect_readonly
from gknb.warehouse.types import ExtractedDocument, SourceInfo

from conftest import REPO, SAMPLES
from test_checks import report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EVIL = '<script>alert(1)</script><img src=x onerror="window.__pwned=1">洪泽区人民政府'
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --- a minimal DevTools-protocol client ----------------------------------------------------------

class Page:
    """One Chromium tab over CDP: navigate, evaluate, and everything the page logged or raised."""

    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def send(self, method: str, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)

    def _event(self, msg: dict) -> None:
        self.events.append(msg)
        if msg.get("method") == "Page.javascriptDialogOpening":  # an alert() would block the page
            self.ws.send(json.dumps({"id": 10**6 + len(self.events), "method": "Page.handleJavaScriptDialog",
                                     "params": {"accept": True}}))

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        end = time.monotonic() + timeout
        for msg in self.events:
            if msg.get("method") == method:
                return msg
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv(timeout=max(0.1, end - time.monotonic())))
            self._event(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def open(self, url: str) -> None:
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.drain(0.5)

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._event(json.loads(self.ws.recv(timeout=max(0.05, end - time.monotonic()))))
            except TimeoutError:
                break

    def problems(self) -> list[str]:
        """Uncaught exceptions, console errors, browser log errors and dialogs, as text."""
        out = []
        for msg in self.events:
            method, params = msg.get("method"), msg.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(f"log: {params['entry'].get('text')}")
            elif method == "Page.javascriptDialogOpening":
                out.append(f"dialog: {params.get('message')}")
        return out


@contextmanager
def chromium():
    """Headless Chromium on 127.0.0.1 with a throwaway profile; yields a connected Page."""
    from websockets.sync.client import connect

    profile = Path(tempfile.mkdtemp(prefix="gknb-chromium-"))
    proc = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", "--window-size=1400,2000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(ws_url, max_size=None, open_timeout=30) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


# --- fixtures -----------------------------------------------------------------------------------

def _load(con, ex, path: Path, source: SourceInfo | None = None):
    body = "\n".join(ex.jsonl()) + str(path)
    doc = ExtractedDocument(path=str(path), sha256=hashlib.sha256(body.encode()).hexdigest(),
                            size=len(body), format="pdf", extraction=ex)
    assert load_document(con, doc, source).status == "loaded"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A warehouse whose failing report has script and markup in its agency name and a
    javascript: URL as its source, checked and turned into a dashboard."""
    tmp = tmp_path_factory.mktemp("hostile")
    db = tmp / "warehouse.duckdb"
    with building(db) as con:
        _load(con, report(EVIL, 2023, "2021", {(4, "admin_review", "upheld"): 10,
                                               (4, "admin_review", "corrected"): 1},
                          page=4, district="洪泽区"),
              tmp / "evil.pdf", SourceInfo(url="javascript:window.__pwned=2"))
        _load(con, report("淮安市人民政府", 2022, "2021"), tmp / "huaian_2022.pdf")
        _load(con, report("淮安市人民政府", 2024, "2021"), tmp / "huaian_2024.pdf")
    run = run_checks(db, docs_dir=tmp / "data_docs")
    index = build_dashboard(db, tmp / "dashboard")
    return run, index


# --- tests --------------------------------------------------------------------------------------

def test_report_text_is_escaped_in_the_html(hostile):
    _, index = hostile
    html = index.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=" in html
    assert "<script>alert(1)" not in html and "<img" not in html
    assert "javascript:window.__pwned=2" in html  # shown as text ...
    assert not re.search(r'href="\s*javascript:', html, re.I)  # ... never made a link
    # The embedded JSON cannot close its <script> element.
    data = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in data and EVIL in json.loads(data)["agencies"]
    # Opens from disk: no external resource of any kind.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert not re.search(r"<link\b", html)


def test_dashboard_renders_in_chromium_without_errors_or_injected_script(hostile):
    run, index = hostile
    with chromium() as page:
        page.open(index.as_uri())
        assert page.evaluate("document.documentElement.getAttribute('data-rendered')") == "ok"
        assert page.problems() == []
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert page.evaluate("Array.from(document.links).filter(a => a.protocol === 'javascript:').length") == 0
        assert page.evaluate("document.scripts.length") == 2  # the JSON block and our own script
        # The hostile name is shown as text, exactly.
        heading = page.evaluate("document.querySelector('#failing .report h3').textContent")
        assert heading.startswith(EVIL)
        # The finding: check, both values, and the page.
        cells = page.evaluate("""Array.from(document.querySelectorAll('#failing tr.finding td'))
                                  .map(td => td.textContent.trim())""")
        assert cells[:6] == ["error", "S4.row_total", "行政复议 / 总计", "11", "0", "p. 4"]
        # The filter works: an agency that has no finding hides every report.
        page.evaluate("""(() => { const f = document.getElementById('filter');
                                  f.value = '淮安市人民政府'; f.dispatchEvent(new Event('input')); })()""")
        assert page.evaluate("document.getElementById('shown').textContent") == "0 of 1 reports shown"
        # History and gaps: 淮安市 2022 and 2024 loaded, 2023 missing.
        gaps = page.evaluate("Array.from(document.querySelectorAll('#gaps tr.gap')).map(r => r.textContent)")
        assert any("淮安市人民政府" in g and "2023" in g for g in gaps)
        assert page.evaluate("document.querySelectorAll('#histories svg').length") == 2
        # The Data Docs link leads to the run's Data Docs.
        href = page.evaluate("document.getElementById('data-docs-link').href")
        assert href == (index.parent.parent / "data_docs" / "index.html").as_uri()
        assert page.problems() == []


def _gknb(*args):
    return subprocess.run([str(Path(sys.executable).parent / "gknb"), *args], capture_output=True,
                          text=True, cwd=REPO, timeout=600)


def test_dashboard_of_the_samples_shows_their_findings_in_chromium(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    for args in (["ingest", str(SAMPLES), "--db", str(db), "--workers", "1", "--no-progress"],
                 ["check", "--db", str(db)],
                 ["dashboard", "--db", str(db), "--out", str(tmp_path / "dashboard")]):
        done = _gknb(*args)
        assert done.returncode == 0, (args, done.stderr)
    index = tmp_path / "dashboard" / "index.html"
    assert (tmp_path / "out" / "data_docs" / "index.html").exists()  # default: beside the warehouse
    with chromium() as page:
        page.open(index.as_uri())
        assert page.problems() == []
        groups = page.evaluate("""Array.from(document.querySelectorAll('#failing .report')).map(g => [
            g.querySelector('h3').textContent,
            Array.from(g.querySelectorAll('tr.finding')).map(r => r.getAttribute('data-check'))])""")
        by_agency = {}
        for heading, checks in groups:
            by_agency.setdefault(heading.split(" · ")[0], set()).update(checks)
        assert "S4.row_total" in by_agency["洪泽区人民政府"]
        assert "completeness" in by_agency["兴庆区民政局"]
        assert "淮安市人民政府" not in by_agency
        # The identity broken, the values on both sides and the page of the source, linked there:
        # 行政复议 printed 10 1 0 0 with 总计 0.
        rows = page.evaluate("""Array.from(document.querySelectorAll('#failing tr.finding[data-check="S4.row_total"]'))
            .map(r => [r.closest('.report').querySelector('h3').textContent]
                .concat(Array.from(r.cells).map(c => c.textContent.trim()),
                        [r.cells[5].querySelector('a') ? r.cells[5].querySelector('a').getAttribute('href') : null]))""")
        review = [r[1:] for r in rows if r[0].startswith("洪泽区人民政府") and "行政复议" in r[3]]
        assert len(review) == 1, rows
        severity, check, cell, expected, printed, where, message, href = review[0]
        assert (severity, check, expected, printed, where) == ("error", "S4.row_total", "11", "0", "p. 4")
        assert href.endswith("hongze_2023.pdf#page=4") and "11" in message and "0" in message
        assert page.evaluate("document.querySelectorAll('#pass-rates .heat-cell').length") >= 8
        # Agencies with no report for a year: the same list as the warehouse's coverage view, e.g.
        # 兴庆区民政局 (one report, 2019) has none for 2020 through the latest year loaded (2025).
        gaps = page.evaluate("Array.from(document.querySelectorAll('#gaps tr.gap')).map(r => Array.from(r.cells).map(c => c.textContent))")
    shown = {agency: missing for agency, _place, missing, _have in gaps}
    con = connect_readonly(db)
    try:
        view = dict(con.execute(
            "SELECT agency, string_agg(CAST(year AS VARCHAR), ', ' ORDER BY year) FROM coverage_agency_year "
            "WHERE NOT has_report GROUP BY agency").fetchall())
    finally:
        con.close()
    assert shown == view
    assert shown["兴庆区民政局"] == "2020, 2021, 2022, 2023, 2024, 2025"


def test_gknb_dashboard_without_a_warehouse_is_a_one_line_error(tmp_path):
    done = _gknb("dashboard", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "d"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no warehouse" in done.stderr
    assert not (tmp_path / "d").exists()


def test_a_national_size_page_lists_the_worst_and_says_how_many_more(hostile, tmp_path, monkeypatch):
    import gknb.quality.dashboard as dashboard

    _, index = hostile
    db = index.parent.parent / "warehouse.duckdb"
    monkeypatch.setattr(dashboard, "MAX_FAILING_REPORTS", 0)
    monkeypatch.setattr(dashboard, "MAX_HISTORIES", 1)
    html = dashboard.build_dashboard(db, tmp_path / "capped").read_text(encoding="utf-8")
    assert "1 more reports with findings are not listed here" in html
    assert "1 more agencies not drawn" in html
    histories = html.split('id="histories"')[1].split("</section>")[0]
    assert histories.count('class="who"') == 1
    # The agency with findings is the one drawn, not the clean 淮安市人民政府.
    assert "洪泽区人民政府" in histories and "淮安市人民政府" not in histories
