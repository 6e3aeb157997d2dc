"""The analysts' views on real samples: rollups by district and year, coverage, year over year."""

from __future__ import annotations

import duckdb
import pytest

from gknb.warehouse.load import load_document
from gknb.warehouse.publish import building
from gknb.warehouse.rollups import MATERIALISED_VIEWS, refresh_rollups
from warehouse_helpers import extracted_from_truth, samples_warehouse


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect(str(samples_warehouse()), read_only=True)
    yield c
    c.close()


def _rollup(con, where: str, params: list) -> dict:
    cur = con.execute(f"SELECT * FROM rollup_requests_district_year WHERE {where}", params)
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip([d[0] for d in cur.description], rows[0]))


def test_done_when_numbers(con):
    hongze = _rollup(con, "district = ? AND year = ?", ["洪泽区", 2023])
    huaian = _rollup(con, "city = ? AND district IS NULL AND year = ?", ["淮安市", 2024])
    xingqing = _rollup(con, "district = ? AND year = ?", ["兴庆区", 2020])
    assert hongze["new_requests"] == 21 and hongze["total_processed"] == 21
    assert huaian["total_processed"] == 3050 and huaian["reports"] == 1
    assert xingqing["new_requests"] == 0 and xingqing["reports"] == 2


def test_rollup_columns_follow_the_identities(con):
    rows = con.execute(
        "SELECT new_requests + carried_over, total_processed + carried_forward, "
        "granted + partially_granted + denied + unavailable + rejected + other, total_processed, "
        "disclosure_ratio, (granted + partially_granted) / total_processed "
        "FROM rollup_requests_district_year WHERE city = '淮安市' AND district IS NULL AND year = 2024").fetchone()
    assert rows[0] == rows[1] == 3050 + 103
    assert rows[2] == rows[3]
    assert rows[4] == pytest.approx(rows[5], abs=1e-4)


def test_truncated_report_gives_null_not_a_partial_sum(con):
    # 兴庆区民政局 2019: the request table stops after 5.属于三类内部事务信息; the rest is missing.
    row = _rollup(con, "district = ? AND year = ?", ["兴庆区", 2019])
    assert row["reports_incomplete"] == 1
    assert row["total_processed"] is None and row["carried_forward"] is None


def test_v_cells_has_labels_and_dimensions(con):
    row = con.execute(
        "SELECT row_label, col_label, value, page, agency, district FROM v_cells "
        "WHERE district = '洪泽区' AND section = 3 AND row_key = 'new_requests' AND col_key = 'total'").fetchone()
    assert row[0] == "一、本年新收政府信息公开申请数量" and row[1] == "总计"
    assert int(row[2]) == 21 and row[3] == 3 and "洪泽区" in row[4]  # the request table is on p. 3 and row[5] == "洪泽区"


def test_review_litigation_rollup(con):
    rows = dict((k, (u, c, o, p, t)) for k, u, c, o, p, t in con.execute(
        "SELECT case_kind, upheld, corrected, other, pending, total FROM rollup_review_litigation_district_year "
        "WHERE district = '洪泽区' AND year = 2023").fetchall())
    assert rows["admin_review"] == (10, 1, 0, 0, 0)  # printed as is: its total does not add up


def test_disclosure_rollup_lines_up_2019_and_2021(con):
    # 平潭 prints the 2019 template for 2019-2020 and the 2021 template from 2021: 本年新制作数量 and
    # 本年制发件数 are one measure, new_this_year; 2019-only measures are not comparable.
    measures = con.execute(
        "SELECT DISTINCT year, measure, comparable FROM rollup_disclosure_district_year "
        "WHERE district = '平潭县' AND row_key = 'normative_docs' ORDER BY year, measure").fetchall()
    by_year = {}
    for year, measure, comparable in measures:
        by_year.setdefault(year, {})[measure] = comparable
    assert by_year[2020]["new_this_year"] is True and by_year[2021]["new_this_year"] is True
    assert by_year[2020]["total_public"] is False and "total_public" not in by_year[2021]
    assert "in_force" in by_year[2022]
    # One measure across the templates, with its values: 2019 处理决定数量 and 2021 本年处理决定数量
    # are both `decisions`; the 2019-2020 web texts lose section 2's cell boundaries (NULL, not 0).
    decisions = dict(con.execute(
        "SELECT year, value FROM rollup_disclosure_district_year "
        "WHERE district = '平潭县' AND row_key = 'admin_licensing' AND measure = 'decisions'").fetchall())
    assert decisions == {2019: None, 2020: None, 2021: 2293, 2022: 10690}


def test_coverage_and_year_over_year(con):
    years = con.execute(
        "SELECT year, has_report FROM coverage_agency_year WHERE district = '平潭县' ORDER BY year").fetchall()
    assert years[:4] == [(2019, True), (2020, True), (2021, True), (2022, True)]
    # Up to the warehouse's last year (2025): no 平潭 report for 2023-2025 in the samples.
    assert years[4:] == [(2023, False), (2024, False), (2025, False)]
    yoy = con.execute(
        "SELECT year, new_requests, new_requests_prev, new_requests_change FROM yoy_requests_district_year "
        "WHERE district = '平潭县' ORDER BY year").fetchall()
    assert yoy[0][2] is None
    for (y0, n0, _, _), (y1, n1, prev, change) in zip(yoy, yoy[1:]):
        assert y1 == y0 + 1 and prev == n0 and change == n1 - n0


def test_2021_other_is_derived_from_its_subrows(tmp_path):
    def subrows(extraction):
        # The report prints the three 其他处理 rows instead of the single one.
        extraction.cells = [c for c in extraction.cells if c.row_key != "other"]
        for c in extraction.cells:
            if c.section == 3 and c.row_key in ("other_no_correction", "other_unpaid_fee", "other_other"):
                c.status, c.value, c.raw = "value", 2 if c.col_key == "total" else 0, "2"
    def lost_subrow(extraction):
        subrows(extraction)
        c = extraction.cell(3, "other_unpaid_fee", "total")
        c.status, c.value, c.raw = "missing", None, None
    db = tmp_path / "w.duckdb"
    with building(db) as w:
        printed = load_document(w, extracted_from_truth("hongze_2023"))
        derived = load_document(w, extracted_from_truth("huaian_2024", edit=subrows))
        gap = load_document(w, extracted_from_truth("huaian_2024", path="/x/v3.pdf", edit=lost_subrow))
        w.execute("UPDATE reports SET is_current = true, superseded_by = NULL")  # look at all three
        other = dict(w.execute("SELECT report_id, other FROM v_report_requests").fetchall())
    assert other[printed.report_id] == 0
    assert other[derived.report_id] == 6
    assert other[gap.report_id] is None


def test_refresh_rollups_materialises_out_tables(tmp_path):
    db = tmp_path / "w.duckdb"
    with building(db) as w:
        load_document(w, extracted_from_truth("huaian_2024"))
        rows = refresh_rollups(w)
        same = w.execute("SELECT count(*) FROM (SELECT * FROM out_rollup_requests_district_year "
                         "EXCEPT SELECT * FROM rollup_requests_district_year)").fetchone()[0]
    assert set(rows) == {f"out_{v}" for v in MATERIALISED_VIEWS}
    assert rows["out_rollup_requests_district_year"] == 1 and same == 0


def _coverage_warehouse(db, column_crawled_at):
    """洪泽区 2023 (found on its column by the crawler, published late), 淮安市 2024 (not crawled), and
    one crawl of 洪泽区's column at `column_crawled_at` (None: never crawled)."""
    from datetime import datetime

    from gknb.warehouse.types import SourceInfo

    def late(extraction):
        extraction.meta.published = "2024-03-05"  # after the deadline of 31 January 2024

    column = "http://127.0.0.1:8000/hongze/ndbg/"
    with building(db) as w:
        load_document(w, extracted_from_truth("hongze_2023", edit=late),
                      SourceInfo(url="http://127.0.0.1:8000/hongze/ndbg/2023.pdf"))
        load_document(w, extracted_from_truth("huaian_2024"))
        # what the crawler records (owner C): the column the file was found on, and the column's crawl
        w.execute("UPDATE documents SET agency_column_url = ? WHERE url LIKE 'http://127.0.0.1:8000/hongze/%'", [column])
        if column_crawled_at is not None:
            w.execute("INSERT INTO crawl_fetches (url, kind, site, fetched_at, http_status, agency_column_url) "
                      "VALUES (?, 'list', 'hongze', ?, 200, ?)", [column, datetime.fromisoformat(column_crawled_at), column])
        return {(a, y): (s, h) for a, y, s, h in w.execute(
            "SELECT agency, year, status, has_report FROM coverage_agency_year").fetchall()}


def test_coverage_tells_not_published_from_not_collected_and_late(tmp_path):
    crawled = _coverage_warehouse(tmp_path / "a.duckdb", "2025-02-10 03:00:00")
    assert crawled[("洪泽区人民政府", 2023)] == ("published_late", True)
    # its column was read after the 2024 report was due and holds none: not published
    assert crawled[("洪泽区人民政府", 2024)] == ("not_published", False)
    assert crawled[("淮安市人民政府", 2024)] == ("published", True)
    before_deadline = _coverage_warehouse(tmp_path / "b.duckdb", "2025-01-20 03:00:00")
    assert before_deadline[("洪泽区人民政府", 2024)] == ("not_collected", False)  # crawled before it was due
    never = _coverage_warehouse(tmp_path / "c.duckdb", None)
    assert never[("洪泽区人民政府", 2024)] == ("not_collected", False)


def test_rollups_say_how_many_reports_have_each_measure(con):
    row = _rollup(con, "district = ? AND year = ?", ["兴庆区", 2019])
    assert row["reports"] == 1 and row["new_requests_reports"] == 0 and row["new_requests"] is None
    both = _rollup(con, "district = ? AND year = ?", ["兴庆区", 2020])
    assert both["reports"] == 2 and both["total_processed_reports"] == 2 and both["total_processed"] == 0
    # a partial total is never shown: where any report of a group lacks a measure it is NULL with the count
    partial = con.execute(
        "SELECT count(*) FROM rollup_requests_district_year WHERE granted_reports < reports AND granted IS NOT NULL "
        "UNION ALL SELECT count(*) FROM rollup_review_litigation_district_year WHERE total_reports < reports AND total IS NOT NULL "
        "UNION ALL SELECT count(*) FROM rollup_disclosure_district_year WHERE value_reports < reports AND value IS NOT NULL"
    ).fetchall()
    assert partial == [(0,), (0,), (0,)]
    review = con.execute("SELECT reports, total, total_reports FROM rollup_review_litigation_district_year "
                         "WHERE district = '洪泽区' AND year = 2023 AND case_kind = 'admin_review'").fetchone()
    assert review == (1, 0, 1)


def test_year_over_year_for_all_three_sections(con):
    # 平潭 2021 → 2022: section 3 per district, section 4 per agency, section 2 per district
    req = con.execute("SELECT new_requests_prev, new_requests, new_requests_change_ratio FROM yoy_requests_district_year "
                      "WHERE district = '平潭县' AND year = 2021").fetchone()
    assert req == (21, 70, round((70 - 21) / 21, 4))  # a ratio: 2.3333 is +233 %
    lawsuits = con.execute("SELECT total_prev, total, total_change, total_change_ratio FROM yoy_review_litigation_agency_year "
                           "WHERE agency LIKE '%平潭%' AND year = 2022 AND case_kind = 'lawsuit_direct'").fetchone()
    assert lawsuits == (12, 1, -11, round(-11 / 12, 4))
    decisions = con.execute("SELECT value_prev, value FROM yoy_disclosure_district_year WHERE district = '平潭县' "
                            "AND year = 2022 AND row_key = 'admin_licensing' AND measure = 'decisions'").fetchone()
    assert decisions == (2293.0, 10690.0)
    names = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                       "WHERE table_name LIKE 'yoy_%' OR table_name LIKE 'rollup_%'").fetchall()}
    assert not any(n.endswith("_pct") for n in names)  # ratios are *_ratio (no percentages are stored)


@pytest.mark.parametrize("doc", ["README.md", "docs/warehouse.md"])
def test_the_cookbook_queries_run_and_print_the_columns_shown(con, doc):
    import re

    from conftest import REPO

    text = (REPO / doc).read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```\n\n(\|[^\n]*\|)?", text, re.S)
    assert len(blocks) >= 5
    for query, header in blocks:
        cur = con.execute(query)
        if header:  # the printed table's header is the query's columns
            shown = [h.strip() for h in header.strip("|").split("|")]
            assert [d[0] for d in cur.description] == shown, query


def test_coverage_on_the_crawl_fixture_tells_not_published_from_not_collected(tmp_path):
    """The README's "which agencies failed to publish" question, on the fixture site crawled now
    (December 2026): its one column lists 洪泽区 2023 and 淮安市 2024 - so their later years, due
    by 31 January, are not published - while an agency loaded from a file never crawled has
    nothing but not_collected."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "site"))
    from fixture_site import FixtureSite

    from gknb.crawl import crawl
    from gknb.crawl.load import ingest_crawl

    db = tmp_path / "w.duckdb"
    site = FixtureSite().start()
    try:
        fast = dict(requests_per_second=200, timeout_seconds=1.0, backoff_seconds=0.05)
        ingest_crawl(crawl([site.start_url], db, tmp_path / "raw", **fast), db, workers=1)
    finally:
        site.stop()
    with building(db) as w:  # a report read from a local file, not from any crawled column
        load_document(w, extracted_from_truth("hongze_2023", edit=_as_agency("兴庆区民政局", "宁夏回族自治区", "银川市", "兴庆区")))
    con = duckdb.connect(str(db), read_only=True)
    status = {(a, y): s for a, y, s in con.execute("SELECT agency, year, status FROM coverage_agency_year").fetchall()}
    column = con.execute("SELECT DISTINCT column_url FROM coverage_agency_year WHERE agency = '洪泽区人民政府'").fetchall()
    con.close()
    assert status[("洪泽区人民政府", 2023)] in ("published", "published_late")
    assert status[("洪泽区人民政府", 2024)] == "not_published"
    assert status[("淮安市人民政府", 2024)] in ("published", "published_late")
    assert status[("兴庆区民政局", 2024)] == "not_collected"
    assert column[0][0].endswith("/gknb/index.html")


def _as_agency(agency, province, city, district):
    def edit(extraction):
        m = extraction.meta
        m.agency, m.province, m.city, m.district = agency, province, city, district
    return edit
