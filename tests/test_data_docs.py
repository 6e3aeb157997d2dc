"""The GX Data Docs of `gknb check` (issue 10.4): one site per warehouse, offline and styled (the
CDN assets vendored and the pages pointed at them), each failing row named by agency, year,
section, row, column and page, the last N runs kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gknb.paths import data_docs_dir
from gknb.quality import run_checks
from gknb.quality.datadocs import ASSETS_DIR, CDN_ASSETS

from test_checks import report, warehouse

_EXTERNAL_ASSET = re.compile(
    r"""<link[^>]*\bhref=["']https?://|<script[^>]*\bsrc=["']https?://|url\(["']?https?://""", re.I)
_LOCAL_ASSET = re.compile(r"""(?:<link[^>]*\bhref|<script[^>]*\bsrc)=["'](?P<url>[^"'#?]+)""", re.I)


def _text(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    db = warehouse(tmp, report("洪泽区人民政府", 2023, "2021", {   # prints 行政复议 10 1 0 0 0 on page 4
        (4, "admin_review", "upheld"): 10, (4, "admin_review", "corrected"): 1}, page=4, district="洪泽区"),
        report("甲局", 2020, "2019"))
    first = run_checks(db)  # the default site: data_docs/<warehouse>/ beside the warehouse
    second = run_checks(db, full=True)
    return data_docs_dir(db), first, second


def test_one_site_per_warehouse_beside_it(site):
    docs, first, second = site
    assert docs.name == "warehouse" and docs.parent.name == "data_docs"
    assert first.data_docs == second.data_docs == docs / "index.html"
    assert sorted(p.name for p in (docs / "runs").iterdir()) == sorted([first.run_id, second.run_id])
    index = (docs / "index.html").read_text(encoding="utf-8")
    for run in (first, second):  # each run's own pages stay reachable from the index
        assert f'href="runs/{run.run_id}/index.html"' in index
        assert (docs / "runs" / run.run_id / "index.html").exists()


def test_pages_load_no_css_or_js_from_the_network_and_every_local_asset_exists(site):
    docs, _, second = site
    pages = [docs / "index.html", *sorted((docs / "runs" / second.run_id).rglob("*.html"))]
    assert len(pages) > 10
    seen = set()
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not _EXTERNAL_ASSET.search(html), (page, _EXTERNAL_ASSET.search(html).group(0))
        for m in _LOCAL_ASSET.finditer(html):
            url = m.group("url")
            if url.endswith((".css", ".js")):
                target = (page.parent / url).resolve()
                assert target.is_file(), (page, url)
                seen.add(target.relative_to(docs.resolve()).as_posix())
    # the pages do use the vendored Bootstrap, jQuery and bootstrap-table, from the site's assets/
    for asset in ("bootstrap/bootstrap.min.css", "jquery/jquery-3.7.1.min.js", "bootstrap-table/bootstrap-table.min.js"):
        assert f"assets/{asset}" in seen
    for local in CDN_ASSETS.values():
        assert (ASSETS_DIR / local).is_file() and (docs / "assets" / local).is_file()
    # Font Awesome's CSS finds its fonts beside it
    css = (docs / "assets" / "fontawesome" / "css" / "all.min.css").read_text(encoding="utf-8")
    for font in set(re.findall(r"url\(\.\./webfonts/([^)]+\.woff2)\)", css)):
        assert (docs / "assets" / "fontawesome" / "webfonts" / font).is_file()


def test_a_failing_row_names_agency_year_section_row_column_and_page(site):
    docs, _, second = site
    [page] = list((docs / "runs" / second.run_id / "validations").rglob("*-S4.row_total.html"))
    text = _text(page)
    # GX's unexpected-index table: the columns, then the failing row of 洪泽区 2023, page 4
    assert "agency year section row_key col_key page" in text
    assert re.search(r"洪泽区人民政府 2023 4 admin_review total 4\b", text), text[:2000]
    passed = list((docs / "runs" / second.run_id / "validations").rglob("*-S3.balance.html"))[0]
    assert "洪泽区" not in _text(passed)


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(site, tmp_path):
    docs, _, _ = site
    db = warehouse(tmp_path, report("甲局", 2020, "2019"))
    stale = data_docs_dir(db) / ".staging-20000101T000000Z-dead00"
    (stale / "validations").mkdir(parents=True)
    run_checks(db)
    assert not stale.exists() and not list(data_docs_dir(db).glob(".staging-*"))
