"""The auditors' static dashboard (issues 5, 10.3): built from a warehouse with known findings, opened from disk
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


def _pages(index: Path) -> list[Path]:
    return sorted(index.parent.rglob("*.html"))


def _findings_pages(index: Path) -> list[Path]:
    return sorted(index.parent.glob("p/*/findings-*.html"))


# --- tests --------------------------------------------------------------------------------------

def test_report_text_is_escaped_in_every_page(hostile):
    _, index = hostile
    pages = {p: p.read_text(encoding="utf-8") for p in _pages(index)}
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=" in html for html in pages.values())
    for path, html in pages.items():
        assert "<script>alert(1)" not in html and "<img" not in html, path
        assert not re.search(r'href="\s*javascript:', html, re.I), path  # never made a link
        # Publishable anywhere: no external resource, and no absolute link of any kind.
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert not re.search(r'(src|href)="(file:|/)', html), path
        assert not re.search(r"<link\b", html), path


def test_dashboard_renders_in_chromium_without_errors_or_injected_script(hostile):
    run, index = hostile
    findings = _findings_pages(index)
    assert len(findings) == 1  # one failing report, in 江苏省
    with chromium() as page:
        page.open(index.as_uri())
        assert page.evaluate("document.documentElement.getAttribute('data-rendered')") == "ok"
        assert page.evaluate("Array.from(document.querySelectorAll('#pass-rates tr.place')).map(r => r.dataset.name)") == ["江苏省"]
        # The province link leads to its page, and that page to its findings.
        province = page.evaluate("document.querySelector('a.province-link').href")
        page.open(province)
        assert page.evaluate("document.querySelector('a.findings-page').href") == findings[0].as_uri()
        # History and gaps: 淮安市 2022 and 2024 loaded, 2023 missing.
        gaps = page.evaluate("Array.from(document.querySelectorAll('#gaps tr.gap')).map(r => r.textContent)")
        assert any("淮安市人民政府" in g and "2023" in g for g in gaps)
        page.open(findings[0].as_uri())
        assert page.problems() == []
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert page.evaluate("Array.from(document.links).filter(a => a.protocol === 'javascript:').length") == 0
        assert page.evaluate("document.scripts.length") == 1  # our own script
        # The hostile name is shown as text, exactly.
        heading = page.evaluate("document.querySelector('#failing .report h3').textContent")
        assert heading.startswith(EVIL)
        # The finding: check, cause, both values, and the page.
        cells = page.evaluate("""Array.from(document.querySelectorAll('#failing tr.finding td'))
                                  .map(td => td.textContent.trim())""")
        assert cells[:7] == ["error", "S4.row_total", "source", "行政复议 / 总计", "11", "0", "p. 4"]
        # The check's explanation is one click away.
        why = page.evaluate("document.querySelector('#failing tr.finding td:nth-child(2) a').href")
        assert why == (index.parent / "checks.html").as_uri() + "#check-S4.row_total"
        # The filter works: an agency that has no finding hides every report.
        page.evaluate("""(() => { const f = document.getElementById('filter');
                                  f.value = '淮安市人民政府'; f.dispatchEvent(new Event('input')); })()""")
        assert page.evaluate("document.getElementById('shown').textContent") == "0 of 1 reports shown"
        # The Data Docs link leads to the run's Data Docs, relatively.
        href = page.evaluate("document.getElementById('data-docs-link').href")
        assert href == (index.parent.parent / "data_docs" / "index.html").as_uri()
        page.open((index.parent / "checks.html").as_uri() + "#check-S4.row_total")
        assert "总计" in page.evaluate("document.getElementById('check-S4.row_total').nextElementSibling.textContent")
        assert page.problems() == []


def _gknb(*args):
    return subprocess.run([str(Path(sys.executable).parent / "gknb"), *args], capture_output=True,
                          text=True, cwd=REPO, timeout=600)


def test_dashboard_of_the_samples_shows_their_findings_in_chromium(tmp_path):
    from urllib.parse import unquote, urljoin, urlsplit

    db = tmp_path / "warehouse.duckdb"
    for args in (["ingest", str(SAMPLES), "--db", str(db), "--workers", "1", "--no-progress"],
                 ["check", "--db", str(db)],
                 ["dashboard", "--db", str(db), "--out", str(tmp_path / "dashboard")]):
        done = _gknb(*args)
        assert done.returncode == 0, (args, done.stderr)
    index = tmp_path / "dashboard" / "index.html"
    by_agency, links, gaps = {}, {}, []
    with chromium() as page:
        page.open(index.as_uri())
        assert page.problems() == []
        assert page.evaluate("document.querySelectorAll('#pass-rates .heat-cell').length") >= 8
        for province in page.evaluate("Array.from(document.querySelectorAll('a.province-link')).map(a => a.href)"):
            page.open(province)
            gaps += page.evaluate("Array.from(document.querySelectorAll('#gaps tr.gap')).map(r => Array.from(r.cells).map(c => c.textContent))")
            for listing in page.evaluate("Array.from(document.querySelectorAll('a.findings-page')).map(a => a.href)"):
                page.open(listing)
                groups = page.evaluate("""Array.from(document.querySelectorAll('#failing .report')).map(g => [
                    g.querySelector('h3').textContent,
                    Array.from(g.querySelectorAll('tr.finding')).map(r => [r.getAttribute('data-check')]
                        .concat(Array.from(r.cells).map(c => c.textContent.trim()),
                                [r.cells[6].querySelector('a') ? r.cells[6].querySelector('a').getAttribute('href') : null]))])""")
                for heading, rows in groups:
                    agency = heading.split(" · ")[0]
                    for row in rows:
                        by_agency.setdefault(agency, set()).add(row[0])
                        links.setdefault(agency, []).append((listing, row))
        assert page.problems() == []
    assert "S4.row_total" in by_agency["洪泽区人民政府"]
    assert "completeness" in by_agency["兴庆区民政局"]
    assert "淮安市人民政府" not in by_agency
    # 行政复议 printed 10 1 0 0 with 总计 0: the values and the page, linked relatively to the PDF.
    review = [(listing, row[1:]) for listing, row in links["洪泽区人民政府"] if row[0] == "S4.row_total" and "行政复议 /" in row[4]]
    assert len(review) == 1
    listing, (severity, check, cause, cell, expected, printed, where, message, href) = review[0]
    assert (severity, check, cause, expected, printed, where) == ("error", "S4.row_total", "source", "11", "0", "p. 4")
    assert href.endswith("hongze_2023.pdf#page=4") and not href.startswith(("file:", "/"))
    target = Path(unquote(urlsplit(urljoin(listing, href)).path))
    assert target.read_bytes() == (SAMPLES / "pdf" / "hongze_2023.pdf").read_bytes()
    # A text source's finding opens its text view at the line.
    text_links = [row[-1] for listing, row in links["兴庆区民政局"] if row[-1]]
    assert text_links and all(re.fullmatch(r"\.\./\.\./text/[0-9a-f]{64}\.html(#L\d+)?", h) for h in text_links)
    assert any("#L" in h for h in text_links)
    # Agencies with no report for a year: the same list as the warehouse's coverage view, e.g.
    # 兴庆区民政局 (one report, 2019) has none for 2020 through the latest year loaded (2025).
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
    # --copy-evidence: the folder alone holds what it links (hard links or copies, by sha256).
    done = _gknb("dashboard", "--db", str(db), "--out", str(tmp_path / "published"), "--copy-evidence")
    assert done.returncode == 0, done.stderr
    sha = hashlib.sha256((SAMPLES / "pdf" / "hongze_2023.pdf").read_bytes()).hexdigest()
    copied = tmp_path / "published" / "evidence" / f"{sha}.pdf"
    assert copied.read_bytes() == (SAMPLES / "pdf" / "hongze_2023.pdf").read_bytes()
    listing = Path(unquote(urlsplit(listing).path)).relative_to(tmp_path / "dashboard")
    html = (tmp_path / "published" / listing).read_text(encoding="utf-8")
    assert f'href="../../evidence/{sha}.pdf#page=4"' in html
    assert all(not h.startswith(("file:", "/")) and not h.startswith("../../../")
               for h in re.findall(r'href="([^"]*)"', html) if "data_docs" not in h)


def test_gknb_dashboard_without_a_warehouse_is_a_one_line_error(tmp_path):
    done = _gknb("dashboard", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "d"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no warehouse" in done.stderr
    assert not (tmp_path / "d").exists()


def test_findings_are_paged_per_province_errors_first_and_stale_pages_go(tmp_path, monkeypatch):
    import gknb.quality.dashboard as dashboard
    from test_checks import warehouse

    broken = {(4, "admin_review", "upheld"): 10, (4, "admin_review", "corrected"): 1}
    reports = [report(f"第{i}区人民政府", 2023, "2021", broken, page=4, district=None) for i in range(5)]
    reports.append(report("浙江某区人民政府", 2023, "2021", broken, province="浙江省", city="杭州市"))
    db = warehouse(tmp_path, *reports)
    run_checks(db, build_docs=False)
    monkeypatch.setattr(dashboard, "REPORTS_PER_PAGE", 2)
    out = tmp_path / "dashboard"
    index = dashboard.build_dashboard(db, out)
    jiangsu = out / "p" / dashboard.province_slug("江苏省")
    pages = sorted(jiangsu.glob("findings-*.html"))
    assert [p.name for p in pages] == ["findings-1.html", "findings-2.html", "findings-3.html"]
    counts = [p.read_text(encoding="utf-8").count('class="report"') for p in pages]
    assert counts == [2, 2, 1]
    listed = "".join(p.read_text(encoding="utf-8") for p in pages)
    assert all(f"第{i}区人民政府" in listed for i in range(5)) and "浙江某区人民政府" not in listed
    assert 'href="findings-2.html"' in pages[0].read_text(encoding="utf-8")
    assert len(list(out.glob("p/*/index.html"))) == 2 and index.exists()
    # A rebuild with larger pages removes the pages it no longer has.
    monkeypatch.setattr(dashboard, "REPORTS_PER_PAGE", 100)
    dashboard.build_dashboard(db, out)
    assert [p.name for p in sorted(jiangsu.glob("findings-*.html"))] == ["findings-1.html"]
