"""Data-quality checks (issue 5): each check on warehouses built through the warehouse's own API
from reports with known cells, the `gknb check` command, and the done-when on the real corpus."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from gknb.catalog import load_catalog
from gknb.contract import Cell, Extraction, ReportMeta
from gknb.quality import WarehouseNotFound, run_checks
from gknb.quality.suites import all_checks
from gknb.warehouse.load import load_document
from gknb.warehouse.publish import building
from gknb.warehouse.types import ExtractedDocument

from conftest import REPO, SAMPLES

IDENTITIES = ("S3.balance", "S3.outcomes", "S3.row_total", "S4.row_total")


# --- building warehouses with known cells --------------------------------------------------------

def report(agency: str, year: int, template: str, cells: dict | None = None, *, page: int = 3,
           province="江苏省", city="淮安市", district=None, published=None, narrative=None,
           variant_other: bool = False) -> Extraction:
    """A report whose every template cell is 0 except `cells`: {(section,row,col): number or a
    status word}. `variant_other` prints the 2021 single 其他处理 row instead of its sub-rows."""
    cells = cells or {}
    out = []
    for c in load_catalog().template_cells(template, variants=variant_other):
        if c.role == "variant":
            status, value = "value", cells.get(c.key, 0)
        elif variant_other and c.row_key.startswith("other_"):
            status, value = "missing", None
        else:
            spec = cells.get(c.key, 0)
            status, value = (spec, None) if isinstance(spec, str) else ("value", spec)
        out.append(Cell(c.section, c.row_key, c.col_key, status, value,
                        raw=None if value is None else str(value), page=page if status != "missing" else None))
    meta = ReportMeta(agency=agency, year=year, template=template, province=province, city=city,
                      district=district, published=published, narrative_requests=narrative, format="pdf")
    return Extraction(meta, out)


def warehouse(tmp_path: Path, *extractions: Extraction) -> Path:
    db = tmp_path / "warehouse.duckdb"
    with building(db) as con:
        for i, ex in enumerate(extractions):
            body = "\n".join(ex.jsonl()) + f"\n{i}"
            sha = hashlib.sha256(body.encode()).hexdigest()
            doc = ExtractedDocument(path=str(tmp_path / f"report{i}.pdf"), sha256=sha, size=len(body),
                                    format="pdf", extraction=ex)
            assert load_document(con, doc).status == "loaded"
    return db


def findings_of(db: Path, run_id: str | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        run = run_id or con.execute("SELECT run_id FROM dq_runs ORDER BY finished DESC LIMIT 1").fetchone()[0]
        return con.execute(
            "SELECT r.agency, r.year, f.* FROM dq_findings f JOIN reports r USING (report_id) "
            "WHERE f.run_id = ? ORDER BY r.agency, r.year, f.check_id, f.row_key, f.col_key", [run]).df()
    finally:
        con.close()


def _req(n):
    """A consistent request table with n requests from natural persons, all granted."""
    return {(3, "new_requests", "total"): n, (3, "new_requests", "natural_person"): n,
            (3, "granted", "total"): n, (3, "granted", "natural_person"): n,
            (3, "total_processed", "total"): n, (3, "total_processed", "natural_person"): n}


# Every scenario's reports go into one warehouse checked once (GX runs cost seconds); agencies
# and districts are distinct per scenario so that no check sees two scenarios together.
SCENARIOS: dict[str, list[Extraction]] = {
    "all_zero": [report("零值局", 2020, "2019", published="2021-01-20"),
                 report("零值委", 2023, "2021", published="2024-01-31")],
    "review": [report("洪泽区人民政府", 2023, "2021", {   # prints 行政复议 10 1 0 0 0
        (4, "admin_review", "upheld"): 10, (4, "admin_review", "corrected"): 1}, page=4, district="洪泽区")],
    "section3": [report("三表局", 2020, "2019", {
        # new 5 + carried 0 but processed 4 + forward 0: S3.balance in 总计 and 自然人;
        (3, "new_requests", "natural_person"): 5, (3, "new_requests", "total"): 5,
        (3, "granted", "natural_person"): 4, (3, "granted", "total"): 4,
        (3, "total_processed", "natural_person"): 4, (3, "total_processed", "total"): 4,
        # an outcome row whose total is not its columns' sum (S3.row_total), which also makes
        # （七）总计 differ from the outcome rows in the total column (S3.outcomes).
        (3, "denied_state_secret", "total"): 2})],
    "blank_nil": [report("空白局", 2020, "2019", {
        (3, "granted", "total"): "blank", (3, "granted", "natural_person"): "nil",
        (4, "admin_review", "other"): "nil"})],
    "lost": [report("缺失局", 2020, "2019", {
        # the 总计 of new_requests is lost: the identities through it are unknowable, not broken
        (3, "new_requests", "total"): "missing", (3, "new_requests", "natural_person"): 3})],
    "variant_good": [report("其他好局", 2023, "2021", {
        (3, "new_requests", "natural_person"): 2, (3, "new_requests", "total"): 2,
        (3, "other", "natural_person"): 2, (3, "other", "total"): 2,
        (3, "total_processed", "natural_person"): 2, (3, "total_processed", "total"): 2,
    }, variant_other=True)],
    "variant_bad": [report("其他坏局", 2023, "2021", {
        (3, "new_requests", "total"): 2, (3, "new_requests", "natural_person"): 2,
        (3, "other", "total"): 1, (3, "other", "natural_person"): 1,
        (3, "total_processed", "total"): 2, (3, "total_processed", "natural_person"): 2,
    }, variant_other=True)],
    "domain": [report("值域局", 2020, "2019", {
        (2, "admin_licensing", "change"): -18,  # 本年增/减 may be negative
        (2, "admin_penalty", "change"): 2.5,  # but is a whole count
        (2, "admin_licensing", "decisions"): -1,  # a count cannot be negative
        (2, "gov_procurement", "amount"): 7730.28,  # 万元 amounts may be fractional
        (2, "gov_procurement", "items"): 1.5})],  # a count is whole
    "truncated": [report("截断局", 2019, "2019", {
        c.key: "missing" for c in load_catalog().template_cells("2019")
        if c.section == 4 or (c.section == 3 and c.row_key in ("total_processed", "carried_forward"))}, page=7)],
    "report_level": [
        report("旧表局", 2022, "2019", published="2023-01-31"),  # old table in a 2022 report; on time
        report("新表局", 2020, "2021", published="2021-02-01"),  # 2021 table before it existed; late
        report("叙述局", 2023, "2021", {(3, "new_requests", "total"): 0}, narrative=7, published="bad date")],
    "carry": [
        report("结转局", 2022, "2021", {
            (3, "new_requests", "total"): 3, (3, "new_requests", "natural_person"): 3,
            (3, "carried_forward", "total"): 3, (3, "carried_forward", "natural_person"): 3}),
        report("结转局", 2023, "2021", {
            (3, "carried_over", "total"): 2, (3, "carried_over", "natural_person"): 2,
            (3, "total_processed", "total"): 2, (3, "total_processed", "natural_person"): 2,
            (3, "granted", "total"): 2, (3, "granted", "natural_person"): 2}),
        report("另一局", 2023, "2021")],  # another agency: never compared with 结转局
    "unread": [report("无年局", None, "2021"),
               report("无省局", 2021, "2021", province=None, city=None)],
    "hierarchy": [
        report("清河区人民政府", 2023, "2021", _req(10), district="清河区"),
        report("清河区民政局", 2023, "2021", _req(4), district="清河区"),
        report("清河区信访局", 2023, "2021", _req(5), district="清河区"),
        # 2022: the 信访局 has no report, so the district is not compared that year
        report("清河区人民政府", 2022, "2021", _req(1), district="清河区"),
        report("清河区民政局", 2022, "2021", _req(4), district="清河区")],
}


@pytest.fixture(scope="module")
def scenario_findings(tmp_path_factory) -> dict[str, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("scenarios")
    everything = [ex for reports in SCENARIOS.values() for ex in reports]
    db = warehouse(tmp, *everything)
    run_checks(db, build_docs=False)
    found = findings_of(db)
    owner = {ex.meta.agency: name for name, reports in SCENARIOS.items() for ex in reports}
    assert set(found.agency) <= set(owner)
    return {name: found[found.agency.map(owner) == name].reset_index(drop=True) for name in SCENARIOS}


# --- the identities ----------------------------------------------------------------------------

def test_an_all_zero_report_of_either_template_has_no_finding(scenario_findings):
    found = scenario_findings["all_zero"]
    assert found.empty, found[["agency", "check_id", "message"]].to_string()


def test_review_total_that_does_not_add_up_is_an_s4_row_total_error(scenario_findings):
    found = scenario_findings["review"]
    assert found[["check_id", "severity", "row_key", "col_key", "expected", "observed", "page"]].values.tolist() == [
        ["S4.row_total", "error", "admin_review", "total", "11", "0", 4]]
    assert "行政复议" in found.message[0] and "11" in found.message[0]


def test_each_section_3_identity_names_the_broken_cell(scenario_findings):
    found = scenario_findings["section3"]
    got = {(r.check_id, r.row_key, r.col_key, r.expected, r.observed) for r in found.itertuples()}
    assert got == {
        ("S3.balance", "total_processed+carried_forward", "natural_person", "5", "4"),
        ("S3.balance", "total_processed+carried_forward", "total", "5", "4"),
        ("S3.row_total", "denied_state_secret", "total", "0", "2"),
        ("S3.outcomes", "total_processed", "total", "6", "4"),
    }
    assert set(found.severity) == {"error"}


def test_blank_and_nil_count_as_zero_and_a_missing_cell_skips_its_identities(scenario_findings):
    assert scenario_findings["blank_nil"].empty, scenario_findings["blank_nil"].to_string()
    lost = scenario_findings["lost"]
    assert "completeness" in set(lost.check_id)
    # new_requests row: its total is missing, so S3.row_total for that row is skipped; the
    # natural_person column has all four balance cells and breaks S3.balance.
    assert ("S3.row_total", "new_requests") not in set(zip(lost.check_id, lost.row_key))
    assert lost[lost.check_id == "S3.balance"].col_key.tolist() == ["natural_person"]


def test_the_2021_single_other_row_stands_for_its_sub_rows(scenario_findings):
    # A 2021 report printing one （六）其他处理 row: the sub-rows are missing by contract, which is
    # neither incomplete nor a broken S3.outcomes when `other` carries the count.
    assert scenario_findings["variant_good"].empty, scenario_findings["variant_good"].to_string()
    bad = scenario_findings["variant_bad"]
    assert set(bad.check_id) == {"S3.outcomes"}
    assert sorted(bad.col_key) == ["natural_person", "total"]
    assert set(bad.expected) == {"1"} and set(bad.observed) == {"2"}


# --- domains and completeness ------------------------------------------------------------------

def test_value_domains(scenario_findings):
    found = scenario_findings["domain"]
    got = sorted((r.check_id, r.row_key, r.col_key, r.expected, r.observed) for r in found.itertuples())
    assert got == [
        ("domain", "admin_licensing", "decisions", ">= 0", "-1"),
        ("domain", "admin_penalty", "change", "a whole number", "2.5"),
        ("domain", "gov_procurement", "items", "a whole number", "1.5"),
    ]


def test_a_truncated_table_is_one_completeness_finding_per_section(scenario_findings):
    found = scenario_findings["truncated"]
    assert found.check_id.tolist() == ["completeness", "completeness"]
    by_section = {r.message.split(":")[0]: r for r in found.itertuples()}
    assert by_section["section 3"].expected == "161" and by_section["section 3"].observed == "147"
    assert by_section["section 3"].page == 7  # the last page the section was seen on
    assert by_section["section 4"].observed == "0" and "whole section" in by_section["section 4"].message


# --- report-level and cross-report checks -----------------------------------------------------

def test_template_timeliness_and_narrative(scenario_findings):
    found = scenario_findings["report_level"]
    got = sorted((r.agency, r.check_id, r.severity, r.expected, r.observed) for r in found.itertuples())
    assert got == sorted([
        ("叙述局", "narrative", "warning", "7", "0"),
        ("新表局", "template", "error", "2019", "2021"),
        ("新表局", "timeliness", "warning", "2021-01-31", "2021-02-01"),
        ("旧表局", "template", "error", "2021", "2019"),
    ])


def test_an_unread_year_is_an_error_and_an_unplaced_agency_a_warning(scenario_findings):
    found = scenario_findings["unread"]
    assert sorted(zip(found.agency, found.check_id, found.severity, found.expected)) == [
        ("无年局", "metadata", "error", "the reporting year"),
        ("无省局", "place", "warning", "a province")]


def test_carry_over_against_last_years_carried_forward(scenario_findings):
    found = scenario_findings["carry"]
    assert set(found.check_id) == {"S3.carry"} and set(found.severity) == {"warning"}
    assert sorted(zip(found.agency, found.year, found.col_key, found.expected, found.observed)) == [
        ("结转局", 2023, "natural_person", "3", "2"), ("结转局", 2023, "total", "3", "2")]


def test_hierarchy_compares_a_district_with_its_agencies_only_when_all_are_loaded(scenario_findings):
    found = scenario_findings["hierarchy"]
    assert set(found.check_id) == {"hierarchy"} and set(found.severity) == {"warning"}
    assert sorted(zip(found.agency, found.year, found.row_key, found.expected, found.observed)) == [
        ("清河区人民政府", 2023, "new_requests", "9", "10"),
        ("清河区人民政府", 2023, "total_processed", "9", "10")]


def test_two_current_reports_for_one_agency_and_year_are_a_duplicate(tmp_path):
    # The warehouse keeps one current version per agency and year, so two current reports can
    # only come from a broken load: the second version of 甲局 2020 is loaded (superseding the
    # first), then the first is made current again, as a broken load would leave it.
    db = warehouse(tmp_path, report("甲局", 2020, "2019", published="2021-01-05"),
                   report("甲局", 2020, "2019", published="2021-01-06"),
                   report("丙局", 2020, "2019"), report(None, 2020, "2019"))
    with building(db) as con:
        con.execute("UPDATE reports SET is_current = TRUE, superseded_by = NULL")
    run_checks(db, build_docs=False)
    found = findings_of(db)
    assert sorted(zip(found.agency.fillna("-"), found.check_id, found.severity, found.observed.fillna("-"))) == [
        ("-", "metadata", "error", "-"),  # and a report whose agency was not read
        ("甲局", "duplicate", "error", "2"), ("甲局", "duplicate", "error", "2")]


def test_every_check_says_why_and_is_documented():
    from gknb.quality.catalog import checks_markdown, load_checks

    docs = (REPO / "docs" / "quality.md").read_text(encoding="utf-8")
    assert checks_markdown() in docs  # the table is generated from schemas/checks.yaml
    declared = {c.check_id: c for c in load_checks().checks}
    for check in all_checks():
        assert len(check.why.split()) >= 8, check.check_id
        assert (REPO / "sql" / "checks" / check.sql).exists(), check.sql
        assert f"| `{check.check_id}` | {check.severity} | {check.cause} |" in docs, check.check_id
        assert declared[check.check_id].cause in ("source", "extraction")
    assert declared["unsettled"].cause == "extraction" and declared["completeness"].cause == "source"


def test_a_broken_checks_file_is_one_config_error_naming_it(tmp_path):
    from gknb.errors import ConfigError
    from gknb.quality.catalog import read_checks

    good = (REPO / "schemas" / "checks.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "checks.yaml"
    bad.write_text(good.replace("cause: extraction", "cause: nobody"), encoding="utf-8")
    with pytest.raises(ConfigError, match=str(bad)):
        read_checks(bad)


# --- the run: tables, Data Docs, command ------------------------------------------------------

def test_run_checks_records_the_run_and_builds_data_docs(tmp_path):
    db = warehouse(tmp_path, report("洪泽区人民政府", 2023, "2021", {(4, "admin_review", "upheld"): 10}),
                   report("甲局", 2020, "2019"))
    docs = tmp_path / "docs"
    first = run_checks(db, docs_dir=docs)
    second = run_checks(db, docs_dir=docs)  # nothing changed: incremental, nothing re-checked
    assert (first.errors, first.warnings, first.reports, first.checks, first.scope) == (1, 0, 2, len(all_checks()), "full")
    assert (second.errors, second.scope, second.checked) == (1, "incremental", 0)
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("SELECT run_id, checks, reports, errors, warnings, data_docs FROM dq_runs ORDER BY finished").fetchall()
    per_run = con.execute("SELECT run_id, count(*) FROM dq_findings GROUP BY run_id ORDER BY run_id").fetchall()
    trend = con.execute("SELECT run_id, scope, reports, checked, errors, errors_source, reports_with_errors, pass_ratio "
                        "FROM v_quality_trend").fetchall()
    current = con.execute("SELECT run_id, agency, check_id, row_label, col_label, expected, observed, page "
                          "FROM v_findings_current").fetchall()
    con.close()
    assert [r[0] for r in runs] == [first.run_id, second.run_id]
    assert runs[1][1:] == (len(all_checks()), 2, 1, 0, str(docs / "index.html"))
    # every run holds the complete findings: the second carried the unchanged report's forward
    assert sorted(per_run) == sorted([(first.run_id, 1), (second.run_id, 1)])
    assert trend == [(first.run_id, "full", 2, 2, 1, 1, 1, 0.5), (second.run_id, "incremental", 2, 0, 1, 1, 1, 0.5)]
    assert current == [(second.run_id, "洪泽区人民政府", "S4.row_total", "行政复议", "总计", "10", "0", 3)]
    # One site for the warehouse: the index lists the latest run's checks (with the findings the
    # warehouse holds) and both runs; each run has its own GX pages, one validation per check of
    # the rows it re-checked: in the full run the failing one is S4.row_total.
    index = (docs / "index.html").read_text(encoding="utf-8")
    for check in all_checks():
        assert check.check_id in index
    assert first.run_id in index and second.run_id in index and "1 finding(s)" in index
    assert len(list((docs / "runs" / second.run_id / "validations").rglob("*.html"))) == len(all_checks())
    pages = list((docs / "runs" / first.run_id / "validations").rglob("*.html"))
    assert len(pages) == len(all_checks())
    failed = [p.name for p in pages if "fa-times text-danger" in p.read_text(encoding="utf-8")]
    assert failed == ["gknb_warehouse-S4.row_total.html"]
    # The last N runs are kept (N = checks.yaml data_docs_keep_runs, or keep_runs)
    third = run_checks(db, docs_dir=docs, keep_runs=2)
    assert sorted(p.name for p in (docs / "runs").iterdir()) == [second.run_id, third.run_id]
    assert not list(docs.glob(".staging-*"))


def _gknb(*args, env=None):
    return subprocess.run([str(Path(sys.executable).parent / "gknb"), *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=300)


def test_gknb_check_exits_0_with_findings_and_2_without_a_warehouse(tmp_path):
    db = warehouse(tmp_path, report("洪泽区人民政府", 2023, "2021", {(4, "admin_review", "upheld"): 10}))
    done = _gknb("check", "--db", str(db), "--docs", str(tmp_path / "dd"))
    assert done.returncode == 0, done.stderr
    assert "1 errors" in done.stdout and (tmp_path / "dd" / "index.html").exists()
    absent = _gknb("check", "--db", str(tmp_path / "nowhere.duckdb"))
    assert absent.returncode == 2
    assert absent.stderr.strip().count("\n") == 0 and "no warehouse" in absent.stderr
    with pytest.raises(WarehouseNotFound):
        run_checks(tmp_path / "nowhere.duckdb")


# --- done-when: the real corpus ---------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory) -> Path:
    from gknb.warehouse.ingest import ingest_paths

    db = tmp_path_factory.mktemp("corpus") / "warehouse.duckdb"
    ingest_paths([SAMPLES], db, workers=1, progress=False, trigger="test")
    run_checks(db, build_docs=False)
    return db


@pytest.fixture(scope="module")
def corpus_findings(corpus_db):
    con = duckdb.connect(str(corpus_db), read_only=True)
    sources = dict(con.execute(
        "SELECT r.report_id, d.source_path FROM reports r JOIN documents d USING (document_id)").fetchall())
    con.close()
    found = findings_of(corpus_db)
    found["source"] = found.report_id.map(lambda rid: Path(sources[rid]).name)
    return sources, found


def test_corpus_hongze_2023_review_is_an_s4_row_total_error(corpus_findings):
    _, found = corpus_findings
    hongze = found[(found.source == "hongze_2023.pdf") & (found.check_id == "S4.row_total")]
    row = hongze[hongze.row_key == "admin_review"]
    assert row[["severity", "expected", "observed"]].values.tolist() == [["error", "11", "0"]]
    assert int(row.page.iloc[0]) == 4  # the PDF page that prints the 行政复议 row


@pytest.mark.parametrize("source", [
    "huaian_2024.pdf", "city_2025_rowspan.html", "000_1a488c694ce6abfd.txt",
    "001_b39e880f26e76352.txt", "002_33e9445466d7bd01.txt", "004_f91fd63a8d753a03.txt"])
def test_corpus_consistent_reports_raise_no_identity_error(corpus_findings, source):
    sources, found = corpus_findings
    assert source in {Path(p).name for p in sources.values()}, f"{source} was not loaded"
    broken = found[(found.source == source) & found.check_id.isin(IDENTITIES)]
    assert broken.empty, broken[["check_id", "message"]].to_string()


def test_corpus_truncated_seed_003_is_flagged_incomplete(corpus_findings):
    _, found = corpus_findings
    seed = found[(found.source == "003_8faff2b7f5fbbbed.txt") & (found.check_id == "completeness")]
    sections = {m.split(":")[0] for m in seed.message}
    assert {"section 3", "section 4"} <= sections
    assert set(seed.severity) == {"error"}


def test_corpus_python_and_sql_identities_give_the_same_verdicts(corpus_db, corpus_findings):
    # The extractor's identities (gknb.extractors.identities, from the structure file) and the SQL
    # checks (one query over template_identity_terms) judge every current report alike: the same
    # equations broken, with the same two sums; blank and nil count as 0 on both sides.
    from gknb.extractors.identities import violations

    _, found = corpus_findings
    con = duckdb.connect(str(corpus_db), read_only=True)
    reports = con.execute("SELECT report_id, template FROM reports WHERE is_current").fetchall()
    cells = con.execute("SELECT report_id, section, row_key, col_key, status, CAST(value AS DOUBLE), raw, page "
                        "FROM cells").fetchall()
    con.close()
    by_report: dict[str, list[Cell]] = {}
    for rid, section, row, col, status, value, raw, page in cells:
        by_report.setdefault(rid, []).append(Cell(section, row, col, status, value, raw=raw, page=page))
    blank_or_nil = 0
    for rid, template in reports:
        report_cells = by_report.get(rid, [])
        blank_or_nil += any(c.status in ("blank", "nil") and c.section in (3, 4) for c in report_cells)
        python = {(v.identity, v.row_key or v.col_key, frozenset((v.expected, v.observed)))
                  for v in violations(report_cells, template)}
        sql_rows = found[(found.report_id == rid) & found.check_id.isin(IDENTITIES)]
        sql = {(r.check_id, r.row_key if r.check_id.endswith("row_total") else r.col_key,
                frozenset((float(r.expected), float(r.observed)))) for r in sql_rows.itertuples()}
        assert python == sql, (rid, python ^ sql)
    assert blank_or_nil >= 1  # the corpus has reports whose identities hold blank or nil terms
    assert (found.check_id == "S4.row_total").any()  # and at least one broken identity


def _current_findings(db: Path) -> set[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT report_id, check_id, severity, cause, section, row_key, col_key, expected, "
                           "observed, page, message FROM v_findings_current").fetchall()
    finally:
        con.close()
    return set(rows)


def test_incremental_after_a_change_finds_what_a_full_run_finds(tmp_path):
    # A generated warehouse (1,500 reports with injected defects), checked in full; then 2% of
    # the reports are superseded by corrected versions (values and defects redrawn) and the
    # incremental run re-checks only those and their neighbours: its current findings are those
    # of a full run over the same warehouse.
    from gknb.testing.synth_warehouse import build_synthetic_warehouse, change_synthetic_warehouse

    db = build_synthetic_warehouse(tmp_path / "wh.duckdb", 1500, seed=3)
    first = run_checks(db, build_docs=False, full=True)
    before = _current_findings(db)
    assert first.scope == "full" and first.checked == 1500
    assert {f[1] for f in before} >= {"S4.row_total", "S3.balance", "S3.carry", "completeness", "unsettled",
                                      "domain", "unit", "timeliness", "hierarchy", "place", "template"}
    changed = change_synthetic_warehouse(db, 0.02, seed=5)
    assert changed >= 10
    incremental = run_checks(db, build_docs=False)
    after_incremental = _current_findings(db)
    assert incremental.scope == "incremental"
    assert changed <= incremental.checked < 1500 // 3  # the changed reports and their neighbours only
    full = run_checks(db, build_docs=False, full=True)
    assert full.scope == "full"
    assert after_incremental == _current_findings(db)
    assert after_incremental != before  # the change did change the findings
    assert (incremental.errors, incremental.warnings) == (full.errors, full.warnings)


def test_corpus_webtext_run_together_digits_are_unsettled_not_incomplete(corpus_findings):
    # 平潭's web-text reports print section-2 rows as digits run together (行政许可 396442278): the
    # cells are printed but not settled — an `extraction` finding per row, with the digits —
    # and section 2 is not called incomplete for them.
    _, found = corpus_findings
    pingtan = found[(found.agency == "平潭综合实验区") & (found.year == 2020)]
    unsettled = pingtan[pingtan.check_id == "unsettled"]
    assert set(unsettled.cause) == {"extraction"} and set(unsettled.severity) == {"warning"}
    licensing = unsettled[unsettled.row_key == "admin_licensing"]
    assert len(licensing) == 1 and "396442278" in licensing.observed.iloc[0]
    assert not ((pingtan.check_id == "completeness") & pingtan.message.str.startswith("section 2")).any()
    assert set(found[found.check_id != "unsettled"].cause) == {"source"}
