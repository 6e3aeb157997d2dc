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
from gknb.crawl.adapters import read_list_page  # noqa: E402
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


def test_state_table_takes_a_crawls_fetches_in_bulk_last_fetch_of_a_url_winning(tmp_path):
    from datetime import datetime

    from gknb.crawl.types import Fetch
    from gknb.warehouse.publish import building

    db = tmp_path / "w.duckdb"
    night1, night2 = datetime(2027, 1, 5, 2), datetime(2027, 1, 6, 2)
    first = [Fetch(url=f"http://127.0.0.1/r{i}.pdf", kind="document", site="s", fetched_at=night1, http_status=200,
                   etag=f'"e{i}"', sha256=f"{i:064x}", raw_path=f"raw/r{i}.pdf", size=100 + i, attempts=1)
             for i in range(3000)]
    with building(db, fresh=True) as con:
        assert record_fetches(con, first) == 3000
    second = [
        # a URL fetched twice in one crawl: its last fetch is the one recorded
        Fetch(url="http://127.0.0.1/r1.pdf", kind="document", site="s", fetched_at=night2, http_status=200,
              etag='"old"', sha256="a" * 64, raw_path="raw/old.pdf", size=1, attempts=1),
        Fetch(url="http://127.0.0.1/r1.pdf", kind="document", site="s", fetched_at=night2, http_status=200,
              etag='"new"', sha256="b" * 64, raw_path="raw/new.pdf", size=2, attempts=1),
        # a failure records the error and keeps the last good validators and file
        Fetch(url="http://127.0.0.1/r2.pdf", kind="document", site="s", fetched_at=night2, http_status=503,
              error_kind="fetch_failed", error="HTTP 503 after 3 attempts", attempts=3),
        # a URL never fetched well before
        Fetch(url="http://127.0.0.1/new.pdf", kind="document", site="s", fetched_at=night2, http_status=404,
              error_kind="fetch_failed", error="HTTP 404", attempts=1),
    ]
    with building(db) as con:
        record_fetches(con, second)
    con = duckdb.connect(str(db), read_only=True)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT url, etag, sha256, raw_path, http_status, error_kind, fetched_at FROM crawl_fetches").fetchall()}
    con.close()
    assert len(rows) == 3001
    assert rows["http://127.0.0.1/r1.pdf"] == ('"new"', "b" * 64, "raw/new.pdf", 200, None, night2)
    assert rows["http://127.0.0.1/r2.pdf"] == ('"e2"', f"{2:064x}", "raw/r2.pdf", 503, "fetch_failed", night2)
    assert rows["http://127.0.0.1/new.pdf"] == (None, None, None, 404, "fetch_failed", night2)
    assert rows["http://127.0.0.1/r2999.pdf"] == ('"e2999"', f"{2999:064x}", "raw/r2999.pdf", 200, None, night1)


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
    # A failed site: the nightly run (and gknb crawl) ends in failure after loading the rest.
    assert result.site_failures == {"127.0.0.1": "robots.txt unreachable (HTTP 500); nothing on the host is fetched (RFC 9309)"}


def test_gknb_crawl_exits_1_naming_a_site_that_cannot_be_reached(tmp_path):
    import socket

    from typer.testing import CliRunner

    from gknb.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    done = CliRunner().invoke(app, ["crawl", f"http://127.0.0.1:{dead}/gknb/", "--db", str(tmp_path / "w.duckdb"),
                                    "--raw", str(tmp_path / "raw"), "--no-progress", "--rate", "100"])
    assert done.exit_code == 1, done.output
    assert "site failed: 127.0.0.1: robots.txt unreachable (no answer)" in done.output


def test_a_site_with_too_many_failed_fetches_is_a_failed_site():
    from datetime import datetime

    from gknb.crawl.crawler import site_failure
    from gknb.crawl.types import Fetch

    (target,) = sites_for_urls(["http://127.0.0.1/gknb/"], max_failure_share=0.5)
    now = datetime(2026, 1, 1)

    def fetch(n, kind=None):
        return Fetch(url=f"http://127.0.0.1/gknb/{n}.html", kind="report_page", site=target.name, fetched_at=now,
                     error_kind=kind, error=f"http://127.0.0.1/gknb/{n}.html: HTTP 503" if kind else None, http_status=200)

    ok = [fetch(n) for n in range(3)]
    assert site_failure(target, ok + [fetch(9, "fetch_failed")] * 3) is None  # 3 of 6: not more than half
    assert "4 of 7 fetches failed" in site_failure(target, ok + [fetch(9, "fetch_failed")] * 4)
    # Refusals are our own decisions: never a failure of the site.
    assert site_failure(target, ok + [fetch(9, "outside_allow_list")] * 10) is None


def test_trs_pager_and_report_links_on_an_unseen_list_page():
    (target,) = sites_for_urls(["http://127.0.0.1/col/gknb/index.html"], defaults=load_site_file()[0])
    html = """<html><body><ul>
      <li><a href="./202403/t20240311_1.html">某县2023年政府信息公开工作年度报告</a></li>
      <li><a href="./202403/t20240312_2.html">关于开展某项工作的通知</a></li>
      <li><a href="/uploads/2023年报.pdf">某镇2023年年报</a></li></ul>
      <script>createPageHTML(3, 0, "index", "html");</script></body></html>"""
    read = read_list_page(html, "http://127.0.0.1/col/gknb/index.html", target)
    assert read.adapter == "trs"
    assert read.links.report_pages == ["http://127.0.0.1/col/gknb/202403/t20240311_1.html"]
    assert read.links.attachments == ["http://127.0.0.1/uploads/2023年报.pdf"]
    assert [u for u, _ in read.more] == ["http://127.0.0.1/col/gknb/index_1.html", "http://127.0.0.1/col/gknb/index_2.html"]
    # A page of the pager does not queue the pager's pages again.
    assert read_list_page(html, "http://127.0.0.1/col/gknb/index_1.html", target).more == []


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


# ---------------------------------------------------------------- the portal (issue 12)

from portal import FLATTENED, PRE_2019, REPORT_PATHS, TRS_API  # noqa: E402

ALL_REPORTS = REPORTS | REPORT_PATHS


def _path(url: str) -> str:
    return httpx.URL(url).path


def test_front_page_crawl_reads_every_cms_column_and_the_agencies_columns(site, tmp_path):
    result = crawl([site.front_url], None, tmp_path / "raw", **FAST)

    assert _doc_paths(result) == ALL_REPORTS
    assert result.warnings == [] and result.site_failures == {}
    # TRS 动静结合: page 2 came from the JSON list API only; index_1.htm (announced by the
    # createPageHTML pager but not static) was never asked for.
    assert f"{TRS_API}?chnlid=1201&page=2&prepage=2" in site.paths(200)
    assert "/trs/gknb/index_1.htm" not in site.paths()
    # Hanweb jpage: the third record only through dataproxy.jsp, with the record range asked.
    proxy = [p for p in site.paths(200) if p.startswith("/module/web/jpage/dataproxy.jsp")]
    assert len(proxy) == 1 and "startrecord=3" in proxy[0] and "endrecord=3" in proxy[0] and "perpage=1" in proxy[0]
    # Each report keeps the agency column it was listed in.
    column = {_path(d.url): _path(d.column_url) for d in result.documents}
    assert column["/bm/gaj/gknb/t20250115_1.html"] == "/bm/gaj/gknb/index.html"
    assert column["/bm/jfj/gknb/t20250117_1.html"] == "/bm/jfj/gknb/index.html"
    assert column[FLATTENED] == "/trs/gknb/index.htm"
    assert column["/art/2025/1/22/art_1234_3.html"] == "/col/col1234/index.html"
    assert column["/gknb/files/hongze_2023.pdf"] == "/gknb/index.html"
    assert {_path(c) for c in result.columns["127.0.0.1"]} == {
        "/gknb/index.html", "/trs/gknb/index.htm", "/col/col1234/index.html",
        "/bm/gaj/gknb/index.html", "/bm/czj/gknb/index.html", "/bm/jfj/gknb/index.html"}
    # The sidebar's 政府信息公开年报 (nlist.htm) is a column link, never a report.
    assert "/trs/nlist.htm" not in _doc_paths(result)
    # Another port of the same host (linked from the 部门 page) is outside the allow-list: refused, never asked.
    refused = [f for f in result.failures if "127.0.0.1:1/" in f.url]
    assert [f.error_kind for f in refused] == ["outside_allow_list"]
    assert site.foreign_requests() == []


def test_a_list_advertising_more_records_than_found_is_a_warning(site, tmp_path, caplog):
    key = next(k for k in site.files if k.startswith(TRS_API))
    del site.files[key]  # the list API answers 404: page 2 of the TRS column is lost
    (target,) = sites_for_urls([f"{site.base}/trs/gknb/index.htm"], **FAST)
    with caplog.at_level("WARNING", logger="gknb.crawl"):
        result = crawl([target], None, tmp_path / "raw")
    assert result.warnings == [f"127.0.0.1: {site.base}/trs/gknb/index.htm advertises 4 records, 2 found"]
    assert any("advertises 4 records, 2 found" in r.message for r in caplog.records if r.levelname == "WARNING")
    # Forced to the plain adapter, the page's API is not read at all (and the count not known).
    site.files[key] = site.files.get(key) or (b"{}", "application/json", 0)
    (plain,) = sites_for_urls([f"{site.base}/trs/gknb/index.htm"], adapter="plain", **FAST)
    site.requests.clear()
    crawl([plain], None, tmp_path / "raw2")
    assert not [p for p in site.paths() if p.startswith(TRS_API)]


@pytest.mark.parametrize("title, report", [
    ("淮安市洪泽区人民政府2023年政府信息公开工作年度报告", True),
    ("2018年政府信息公开工作报告", True),
    ("关于报送《平潭综合实验区2017年政府信息公开工作情况》的函", True),
    ("某镇2023年年报", True),
    ("某局2022年度政府信息公开年度工作报告", True),
    ("政府信息公开工作年度报告（2024年）", True),
    ("政府信息公开年报", False),          # the column itself (nlist.htm)
    ("首页", False),
    ("2023年政府工作报告", False),        # the government's work report, not information disclosure
    ("关于开展2023年某项工作的通知", False),
])
def test_report_title_patterns(title, report):
    (target,) = sites_for_urls(["http://127.0.0.1/gknb/index.html"], defaults=load_site_file()[0])
    html = f'<ul><li><a href="/gknb/t1.htm">{title}</a></li></ul>'
    links = read_links(html, "http://127.0.0.1/gknb/index.html", target.patterns, list_page=True)
    assert (links.report_pages == ["http://127.0.0.1/gknb/t1.htm"]) is report


@pytest.mark.parametrize("title, kind", [
    ("政府信息公开年报", "column"), ("政府信息公开工作年度报告", "column"), ("街道政府信息公开年报", "column"),
    ("部门及地方部门平台链接", "hub"), ("部门", "hub"), ("新闻动态", None), ("2023年年报", "report"),
])
def test_column_and_hub_patterns(title, kind):
    (target,) = sites_for_urls(["http://127.0.0.1/"], defaults=load_site_file()[0])
    links = read_links(f'<a href="/x/index.html">{title}</a>', "http://127.0.0.1/", target.patterns, list_page=True)
    found = {"column": links.column_links, "hub": links.hub_links, "report": links.report_pages}
    assert [k for k, v in found.items() if v] == ([kind] if kind else [])


def test_attachments_of_every_kind_on_a_report_page():
    (target,) = sites_for_urls(["http://127.0.0.1/"], defaults=load_site_file()[0])
    page = "".join(f'<a href="/f/r.{ext}">附件</a>' for ext in ("pdf", "doc", "docx", "wps", "jpg", "png", "tif"))
    links = read_links(page, "http://127.0.0.1/t.html", target.patterns, list_page=False)
    assert len(links.attachments) == 7


def test_gknb_crawl_from_the_front_page_loads_every_report_and_the_next_run_fetches_nothing_new(site, tmp_path):
    from typer.testing import CliRunner

    from gknb.cli import app

    db, raw = tmp_path / "w.duckdb", tmp_path / "raw"
    sites = tmp_path / "sites.yaml"
    sites.write_text("defaults:\n  requests_per_second: 200\n  timeout_seconds: 1.0\n  backoff_seconds: 0.05\n"
                     f"sites:\n  - name: fixture\n    start_urls: ['{site.front_url}']\n    allowed_hosts: ['127.0.0.1']\n",
                     encoding="utf-8")
    args = ["crawl", "--sites", str(sites), "--db", str(db), "--raw", str(raw), "--no-progress", "--workers", "1"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    con = duckdb.connect(str(db), read_only=True)
    docs = {_path(u): (status, kind, _path(col) if col else None) for u, status, kind, col in con.execute(
        "SELECT url, status, reason_kind, agency_column_url FROM documents").fetchall()}
    runs = con.execute("SELECT documents, loaded, rejected, unchanged, duplicates, urls, requests, fetch_failures, "
                       "bytes_downloaded FROM ingest_runs").fetchall()
    fetch_columns = dict(con.execute("SELECT url, agency_column_url FROM crawl_fetches").fetchall())
    con.close()
    # Every report was found and recorded, with the agency column it came from.
    assert set(docs) == ALL_REPORTS
    assert docs["/bm/czj/gknb/t20250116_1.html"][2] == "/bm/czj/gknb/index.html"
    assert _path(fetch_columns[f"{site.base}/bm/czj/gknb/t20250116_1.html"]) == "/bm/czj/gknb/index.html"
    # Loaded, the flattened page too (web text); the reports before 2019 recorded as such.
    assert {p for p, (status, _, _) in docs.items() if status == "loaded"} == ALL_REPORTS - PRE_2019
    assert {docs[p][:2] for p in PRE_2019} == {("rejected", "pre_2019_format")}
    # The counters agree: the printed line is the ingest_runs row.
    (documents, loaded, rejected, unchanged, duplicates, urls, requests, failures, size) = runs[0]
    assert documents == len(ALL_REPORTS) and loaded + rejected + unchanged + duplicates == documents
    assert (f"crawled {urls} URLs in {requests} requests ({size} bytes downloaded, {failures} failed): "
            f"{documents} documents, {loaded} loaded, {rejected} rejected, {unchanged} unchanged") in first.output
    # Every failed URL is printed with its reason.
    assert "fetch_failed: " + f"{site.base}/gknb/t20230301_missing.html: HTTP 404" in first.output
    assert "outside_allow_list: http://127.0.0.1:1/bm/jyj/index.html" in first.output

    site.requests.clear()
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    # Nothing new: every body answered 304 (the request log holds no 200 but robots.txt).
    assert [r.path for r in site.requests if r.status == 200] == ["/robots.txt"]
    assert all("If-None-Match" in r.headers for r in site.requests if r.status == 304)
    con = duckdb.connect(str(db), read_only=True)
    last = con.execute("SELECT documents, loaded, unchanged, bytes_downloaded FROM ingest_runs ORDER BY started DESC LIMIT 1").fetchone()
    con.close()
    assert last == (len(ALL_REPORTS), 0, len(ALL_REPORTS), 0)
    assert f"{len(ALL_REPORTS)} documents, 0 loaded, 0 rejected, {len(ALL_REPORTS)} unchanged" in second.output


def test_pre_2019_and_flattened_reports_are_recorded_for_what_they_are(site, tmp_path):
    """The extractor's side is issue 12.4/12.5 (owner S2): pre_2019_format with the year, and the
    web-text solver on a page whose tables were flattened into paragraphs."""
    from gknb.crawl.load import ingest_crawl

    db = tmp_path / "w.duckdb"
    (target,) = sites_for_urls([f"{site.base}/trs/gknb/index.htm"], **FAST)
    ingest_crawl(crawl([target], db, tmp_path / "raw"), db, workers=1)
    con = duckdb.connect(str(db), read_only=True)
    rows = {_path(u): (s, k, r) for u, s, k, r in con.execute("SELECT url, status, reason_kind, reason FROM documents").fetchall()}
    years = dict(con.execute("SELECT d.url, r.year FROM documents d JOIN reports r USING (report_id)").fetchall())
    con.close()
    assert {p: rows[p][:2] for p in PRE_2019} == {p: ("rejected", "pre_2019_format") for p in PRE_2019}
    assert "2017" in rows["/trs/gknb/202603/t20260310_105500.htm"][2] and "2018" in rows["/trs/gknb/201901/t20190115_90001.htm"][2]
    assert rows[FLATTENED][:2] == ("loaded", None)
    assert years[f"{site.base}{FLATTENED}"] == 2022


# ---------------------------------------------------------------- limits (issue 15.4, 15.11)

def test_a_trickling_server_is_cut_at_the_whole_request_deadline(site, tmp_path):
    site.trickle["/gknb/index_1.html"] = 0.2  # 5 bytes a second: each read arrives well within the timeout
    (target,) = sites_for_urls([site.start_url], request_deadline_seconds=1.5, **FAST)
    result = crawl([target], None, tmp_path / "raw")
    cut = next(f for f in result.fetches if f.url.endswith("/gknb/index_1.html"))
    assert cut.error_kind == "deadline" and "1.5s" in cut.error
    assert next(r for r in site.requests if r.path == "/gknb/index_1.html").body_bytes < 20  # of 176
    assert _doc_paths(result) == {"/gknb/files/hongze_2023.pdf", "/gknb/t20260115_city.html"}  # the rest went on


def test_one_deadline_thread_cuts_trickled_headers_even_behind_a_later_deadline(site):
    """Every request's deadline is kept by one thread of the fetcher, which wakes for a deadline
    earlier than the one it sleeps towards: headers trickled a byte at a time (each read well
    within the timeout) are cut at the deadline, not after the server gives up."""
    import socket
    import threading
    import time

    from gknb.crawl.errors import DeadlineExceeded

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def trickle_headers() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40:  # ~12 s, then the server gives up
                    conn.sendall(bytes([byte]))
                    time.sleep(0.3)
            except OSError:
                pass  # the fetcher shut the connection: what the test wants

    server = threading.Thread(target=trickle_headers, daemon=True)
    server.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow.html"
    (target,) = sites_for_urls([url], request_deadline_seconds=1.0, retries=0, obey_robots=False, **FAST)
    with Fetcher(user_agent="test") as fetcher:
        fetcher._deadlines.watch(60)  # a request with a later deadline is already waiting
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            fetcher.get(url, target)
        assert time.monotonic() - started < 5
        (fixture,) = sites_for_urls([site.start_url], **FAST)
        for _ in range(5):
            assert fetcher.get(site.start_url, fixture).status == 200
        assert [t.name for t in threading.enumerate()].count("gknb-fetch-deadlines") == 1
    assert "gknb-fetch-deadlines" not in [t.name for t in threading.enumerate()]
    listener.close()


def test_a_trickling_robots_txt_is_cut_and_reads_as_unreachable(site, tmp_path):
    site.trickle["/robots.txt"] = 0.2
    (target,) = sites_for_urls([site.start_url], robots_timeout_seconds=1.0, retries=0, **{**FAST, "timeout_seconds": 5})
    result = crawl([target], None, tmp_path / "raw")
    assert result.documents == [] and site.paths() == ["/robots.txt"]
    assert "robots.txt unreachable (no answer)" in result.site_failures["127.0.0.1"]


def test_crawl_delay_is_capped_and_robots_txt_read_only_up_to_its_size_limit(site):
    from gknb.crawl.ratelimit import HostRateLimiter

    site.files["/robots.txt"] = (b"User-agent: *\nCrawl-delay: 100000\n" + b"#" * 400 + b"\nDisallow: /gknb/files/\n",
                                 "text/plain", 0)
    waits: list[float] = []
    (target,) = sites_for_urls([site.start_url], max_crawl_delay_seconds=0.25, robots_max_bytes=200, **FAST)
    with Fetcher(user_agent="test", limiter=HostRateLimiter(sleep=waits.append)) as fetcher:
        fetcher.get(site.start_url, target)
        fetcher.get(f"{site.base}/gknb/index_1.html", target)
        # The Disallow line lies beyond the first 200 bytes: it was never read.
        assert fetcher.get(f"{site.base}/gknb/files/hongze_2023.pdf", target).status == 200
    # Slots spaced by the cap (the fake sleep does not advance the clock, so they add up), not by 100000 s.
    assert waits and max(waits) <= 0.25 * 3


def test_a_site_over_its_time_budget_stops_and_says_so(site, tmp_path):
    site.trickle["/gknb/index_1.html"] = 0.2
    (target,) = sites_for_urls([site.start_url], request_deadline_seconds=2, site_time_budget_seconds=1, **FAST)
    result = crawl([target], None, tmp_path / "raw")
    assert any("time budget of 1s used up" in w for w in result.warnings)
    assert not [p for p in site.paths() if p.endswith(".pdf")]  # nothing after the budget


def test_a_killed_crawl_keeps_what_it_fetched_through_the_journal(site, tmp_path):
    raw = tmp_path / "raw"
    first = crawl([site.start_url], None, raw, **FAST)  # then killed: nothing loaded, nothing recorded
    journals = list((raw / "journal").glob("*.jsonl"))
    assert len(journals) == 1 and "hongze_2023.pdf" in journals[0].read_text(encoding="utf-8")
    site.requests.clear()
    second = crawl([site.start_url], None, raw, **FAST)
    # The journal's validators were sent: nothing downloaded again, every document handed on.
    assert [r.path for r in site.requests if r.status == 200] == ["/robots.txt"]
    assert _doc_paths(second) == _doc_paths(first) == REPORTS
    second.journal.done()  # loaded: both journals go
    assert list((raw / "journal").glob("*.jsonl")) == []


def test_a_corrupt_warehouse_stops_the_crawl_with_a_terminal_error(site, tmp_path):
    """Permanent: the nightly's crawl task does not retry it (flows.crawl.transient_only)."""
    from gknb.errors import TerminalError

    db = tmp_path / "w.duckdb"
    db.write_bytes(b"not a duckdb file" * 100)
    with pytest.raises(TerminalError, match="w.duckdb"):
        crawl([site.start_url], db, tmp_path / "raw", **FAST)
    assert site.requests == []  # nothing fetched for a run that cannot record it


def test_a_crawl_killed_with_sigkill_keeps_what_it_fetched(site, tmp_path):
    """kill -9 in the middle of a download: the next crawl sends the journal's validators for what
    the killed one fetched (304, nothing downloaded again) and hands those documents on."""
    import os
    import signal
    import subprocess
    import time

    raw = tmp_path / "raw"
    site.trickle["/gknb/files/huaian_2024.pdf"] = 0.2  # the last download hangs: the kill lands there
    site.once_500.clear()
    process = subprocess.Popen([str(Path(sys.executable).parent / "gknb"), "crawl", site.start_url, "--db",
                                str(tmp_path / "w.duckdb"), "--raw", str(raw), "--no-progress", "--rate", "100"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = "".join(p.read_text(encoding="utf-8") for p in raw.glob("journal/*.jsonl"))
            if "hongze_2023.pdf" in text and any(r.path.endswith("huaian_2024.pdf") for r in site.requests):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the crawl never reached the trickled download")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert not (tmp_path / "w.duckdb").exists()  # nothing was loaded or recorded
    del site.trickle["/gknb/files/huaian_2024.pdf"]
    site.requests.clear()
    again = crawl([site.start_url], None, raw, **FAST)
    assert [r.status for r in site.requests if r.path == "/gknb/files/hongze_2023.pdf"] == [304]
    assert "/gknb/files/hongze_2023.pdf" in _doc_paths(again) and "/gknb/files/huaian_2024.pdf" in _doc_paths(again)
