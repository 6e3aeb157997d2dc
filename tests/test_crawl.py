"""The crawler against a fixture government site served on 127.0.0.1 (tests/fixtures/site/).

Asserted from the server's own request log: what was requested, with which status, and that
nothing forbidden or foreign ever was.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "site"))
from fixture_site import FixtureSite, city_report_gbk  # noqa: E402

from gknb.crawl import SiteConfigError, crawl, load_site_file, sites_for_urls  # noqa: E402
from gknb.crawl.errors import TooLarge  # noqa: E402
from gknb.crawl.fetcher import Fetcher  # noqa: E402
from gknb.crawl.links import read_links  # noqa: E402
from gknb.crawl.state import read_prior, record_fetches  # noqa: E402

# Fast but complete: a 1 s timeout makes the slow page time out once; backoff kept short.
FAST = dict(requests_per_second=200, timeout_seconds=1.0, backoff_seconds=0.05)
REPORTS = {"/gknb/files/hongze_2023.pdf", "/gknb/files/huaian_2024.pdf", "/gknb/t20260115_city.html"}


@pytest.fixture()
def site():
    server = FixtureSite().start()
    yield server
    server.stop()


def _record(db: Path, result) -> None:
    from gknb.warehouse.publish import building

    with building(db) as con:
        record_fetches(con, result.fetches)


def _doc_paths(result) -> set[str]:
    return {httpx.URL(d.url).path for d in result.documents}


def test_first_crawl_fetches_every_report_and_nothing_forbidden(site, tmp_path):
    result = crawl([site.start_url], None, tmp_path / "raw", **FAST)

    assert _doc_paths(result) == REPORTS
    # Stored content-addressed, bytes exactly as served.
    for doc in result.documents:
        assert doc.path.name.startswith(doc.sha256) and doc.path.parent.name == doc.sha256[:2]
    hongze = next(d for d in result.documents if d.url.endswith("hongze_2023.pdf"))
    assert hongze.path.read_bytes() == site.files["/gknb/files/hongze_2023.pdf"][0]
    assert hongze.http_status == 200 and hongze.etag and hongze.last_modified

    log = site.requests
    assert not [r for r in log if r.path.startswith("/private/")], "robots.txt forbids /private/"
    assert site.foreign_requests() == [], "a host outside the allow-list was requested"
    assert site.paths().count("/robots.txt") == 1
    # Pagination: page 2 of the list (reached by 下一页) was read.
    assert "/gknb/index_1.html" in site.paths(200)
    # The 500 was retried and then succeeded; the slow page timed out once and was asked again.
    assert [r.status for r in log if r.path == "/gknb/files/huaian_2024.pdf"] == [500, 200]
    assert site.paths().count("/gknb/t20240301_hongze.html") == 2
    # Redirect inside the allow-list followed; redirect to another host refused.
    assert "/gknb/2026/t20260115_city.html" in site.paths(200)
    assert not [r for r in log if r.path.startswith("/elsewhere/")]
    failures = {httpx.URL(f.url).path: f.error_kind for f in result.failures}
    assert failures["/gknb/t20230301_missing.html"] == "fetch_failed"
    assert failures["/private/t20240201_internal.html"] == "robots"
    assert failures["/gknb/t20230303_outbound.html"] == "outside_allow_list"
    assert failures["/gknb/files/foreign_2023.pdf"] == "outside_allow_list"
    assert next(f for f in result.fetches if f.url.endswith("missing.html")).http_status == 404


def test_second_crawl_downloads_nothing_and_a_changed_file_is_fetched_again(site, tmp_path):
    db, raw = tmp_path / "w.duckdb", tmp_path / "raw"
    first = crawl([site.start_url], db, raw, **FAST)
    _record(db, first)
    prior, _ = read_prior(db)
    assert prior[site.start_url].etag == first.fetches[0].etag

    site.requests.clear()
    second = crawl([site.start_url], db, raw, **FAST)
    # The documents were never loaded into `documents` here, so they are offered again, unchanged.
    assert _doc_paths(second) == REPORTS and not any(d.changed for d in second.documents)
    bodies = [r for r in site.requests if r.status == 200 and r.path != "/robots.txt"]
    assert bodies == [], f"unchanged files downloaded again: {[r.path for r in bodies]}"
    served_at = {"/gknb/files/hongze_2023.pdf", "/gknb/files/huaian_2024.pdf", "/gknb/2026/t20260115_city.html"}
    assert {r.path for r in site.requests if r.status == 304} >= served_at | {"/gknb/index.html", "/gknb/index_1.html"}
    assert all("If-None-Match" in r.headers for r in site.requests if r.status == 304)
    _record(db, second)

    corrected = city_report_gbk().replace("<td>规章</td><td>3</td>".encode("gbk"), "<td>规章</td><td>4</td>".encode("gbk"))
    assert corrected != city_report_gbk()
    site.replace("/gknb/2026/t20260115_city.html", corrected)
    site.requests.clear()
    third = crawl([site.start_url], db, raw, **FAST)
    assert [r.path for r in site.requests if r.status == 200 and r.path != "/robots.txt"] == ["/gknb/2026/t20260115_city.html"]
    changed = [d for d in third.documents if d.changed]
    assert [httpx.URL(d.url).path for d in changed] == ["/gknb/t20260115_city.html"]
    assert changed[0].path.read_bytes() == corrected


def test_state_table_keeps_validators_after_a_failure(site, tmp_path):
    db = tmp_path / "w.duckdb"
    _record(db, crawl([site.start_url], db, tmp_path / "raw", **FAST))
    del site.files["/gknb/files/hongze_2023.pdf"]  # the site loses the file for a night
    failed = crawl([site.start_url], db, tmp_path / "raw", **FAST)
    _record(db, failed)
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT http_status, error_kind, etag, sha256 FROM crawl_fetches WHERE url LIKE '%hongze_2023.pdf'").fetchone()
    con.close()
    assert row[0] == 404 and row[1] == "fetch_failed" and row[2] and row[3]


def test_size_limit_abandons_a_large_body(site):
    (target,) = sites_for_urls([site.start_url], max_bytes=100_000, **FAST)
    with Fetcher(user_agent="test") as fetcher:
        with pytest.raises(TooLarge):
            fetcher.get(f"{site.base}/gknb/files/hongze_2023.pdf", target)
        assert fetcher.get(f"{site.base}/gknb/index.html", target).status == 200


def test_unreachable_robots_txt_means_nothing_is_fetched(site, tmp_path):
    site.once_500 |= {"/robots.txt"}
    result = crawl([site.start_url], None, tmp_path / "raw", retries=0, **FAST)
    assert result.documents == []
    assert {f.error_kind for f in result.fetches} == {"robots"}
    # The operator is told the host failed, not that its robots.txt forbids the column.
    assert all("robots.txt unreachable (HTTP 500)" in f.error for f in result.fetches)
    assert site.paths() == ["/robots.txt"]


def test_trs_pager_and_report_links_on_an_unseen_list_page():
    (target,) = sites_for_urls(["http://127.0.0.1/col/gknb/index.html"], defaults=load_site_file()[0])
    html = """<html><body><ul>
      <li><a href="./202403/t20240311_1.html">某县2023年政府信息公开工作年度报告</a></li>
      <li><a href="./202403/t20240312_2.html">关于开展某项工作的通知</a></li>
      <li><a href="/uploads/2023年报.pdf">某镇2023年年报</a></li></ul>
      <script>createPageHTML(3, 0, "index", "html");</script></body></html>"""
    links = read_links(html, "http://127.0.0.1/col/gknb/index.html", target.patterns, list_page=True)
    assert links.report_pages == ["http://127.0.0.1/col/gknb/202403/t20240311_1.html"]
    assert links.attachments == ["http://127.0.0.1/uploads/2023年报.pdf"]
    assert links.next_pages == ["http://127.0.0.1/col/gknb/index_1.html", "http://127.0.0.1/col/gknb/index_2.html"]


def test_site_list_loads_and_a_bad_entry_is_one_clear_error(tmp_path):
    defaults, _sites = load_site_file()
    assert defaults["requests_per_second"] > 0
    bad = tmp_path / "sites.yaml"
    bad.write_text("defaults: {}\nsites:\n  - name: x\n    start_urls: ['ftp://a/']\n", encoding="utf-8")
    with pytest.raises(SiteConfigError, match="sites\\[0\\].*not an http"):
        load_site_file(bad)
    bad.write_text("sites:\n  - start_urls: ['http://a/']\n    rate: 3\n", encoding="utf-8")
    with pytest.raises(SiteConfigError, match="unknown key.*rate"):
        load_site_file(bad)


def test_gknb_crawl_loads_the_reports_and_a_second_run_loads_nothing(site, tmp_path):
    from typer.testing import CliRunner

    from gknb.cli import app

    db, raw = tmp_path / "w.duckdb", tmp_path / "raw"
    args = ["crawl", site.start_url, "--db", str(db), "--raw", str(raw), "--no-progress", "--rate", "100"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "3 new or changed documents" in first.output and "3 loaded" in first.output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 3
    urls = {r[0].rsplit("/", 1)[-1] for r in con.execute("SELECT url FROM documents").fetchall()}
    con.close()
    assert urls == {"hongze_2023.pdf", "huaian_2024.pdf", "t20260115_city.html"}
    site.requests.clear()
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "0 new or changed documents, 3 unchanged" in second.output
    assert [r.path for r in site.requests if r.status == 200] == ["/robots.txt"]


def test_report_page_download_links_and_layout_tables():
    (target,) = sites_for_urls(["http://127.0.0.1/gknb/index.html"], defaults=load_site_file()[0])
    layout = """<html><body><table><tr><td>首页</td><td>政务公开</td></tr></table>
      <p>附件：<a href="/download.jsp?fileId=8812">某区2024年政府信息公开工作年度报告.pdf</a></p></body></html>"""
    links = read_links(layout, "http://127.0.0.1/gknb/t1.html", target.patterns, list_page=False)
    assert links.attachments == ["http://127.0.0.1/download.jsp?fileId=8812"]
    assert not links.has_report_table  # a layout table: the attachment is the report
    report = (Path(__file__).resolve().parents[1] / "data/samples/html/city_2025_rowspan.html").read_text(encoding="utf-8")
    links = read_links(report, "http://127.0.0.1/gknb/t2.html", target.patterns, list_page=False)
    assert links.has_report_table


def test_a_crawled_file_that_kills_its_worker_is_rejected_and_the_rest_load(tmp_path):
    from gknb.crawl.load import extract_all
    from warehouse_helpers import extract_or_crash

    samples = Path(__file__).resolve().parents[1] / "data" / "samples"
    crash = tmp_path / "crash.pdf"
    crash.write_bytes(b"%PDF-1.4 whatever")
    files = [samples / "html" / "city_2025_rowspan.html", crash, samples / "seeds" / "004_f91fd63a8d753a03.txt"]
    got = extract_all([str(f) for f in files], 2, extract=extract_or_crash)
    assert [Path(e.path).name for e in got] == [f.name for f in files]
    assert got[1].error == "extraction crashed its worker process" and got[1].error_kind == "internal"
    assert got[0].ok and got[2].ok
