"""The template's structure as data (schemas/template_structure.yaml, gknb/structure.py): the
groups and identities it yields, the warehouse table built from it, the blank/nil rule on real
reports, validation of a broken file, and the contract's own numbers against the catalog."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import REPO, read_jsonl
from gknb.catalog import load_catalog
from gknb.errors import ConfigError
from gknb.structure import (
    TERM_COLUMNS, evaluate, load_structure, read_structure, structure_path, structure_rows,
)


def test_groups_follow_the_printed_table():
    s = load_structure()
    out19 = s.outcome_rows("2019")
    assert out19[0] == "granted" and out19[-1] == "other" and len(out19) == 19
    out21 = s.outcome_rows("2021")
    assert out21[-3:] == ["other_no_correction", "other_unpaid_fee", "other_other"] and len(out21) == 21
    # the variant row stands in for its three sub-rows, in their place
    assert s.outcome_rows("2021", variant_printed=True) == out19
    assert s.columns("2021", 3, group="applicants") == [
        "natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org"]
    assert s.columns("2019", 4) == ["upheld", "corrected", "other", "pending", "total"]
    assert s.columns("2021", 2, "art20_8") == ["amount"]
    assert s.rows("2019", 2, "art20_5") == ["admin_licensing", "other_admin_services"]
    # every section-3 row of the catalog is a request row, variant handled
    cat_rows = load_catalog().rows("2021", 3)
    assert s.rows("2021", 3) == [r for r in cat_rows if r != "other"]
    assert s.rows("2021", 3, group="request_rows", variant_printed=True) == [
        r for r in cat_rows if not r.startswith("other_")]


def test_equations_of_both_forms():
    s = load_structure()
    eqs = list(s.identity_equations("2021"))
    by = {(e.identity, e.row_key, e.col_key): e for e in eqs}
    # 7 columns × 2 column identities + 25 rows + 3 proceedings
    assert len(eqs) == 7 * 2 + 25 + 3
    bal = by[("S3.balance", None, "total")]
    assert bal.lhs == [(3, "new_requests", "total"), (3, "carried_over", "total")]
    assert bal.rhs == [(3, "total_processed", "total"), (3, "carried_forward", "total")]
    assert len(by[("S3.outcomes", None, "commercial")].rhs) == 21
    assert by[("S4.row_total", "lawsuit_direct", None)].rhs == [
        (4, "lawsuit_direct", c) for c in ("upheld", "corrected", "other", "pending")]
    # a report printing the single 其他处理 row: that row, not the sub-rows
    var = {(e.identity, e.row_key, e.col_key): e for e in s.identity_equations("2021", {(3, "other", "total")})}
    assert (3, "other", "total") in var[("S3.outcomes", None, "total")].rhs
    assert ("S3.row_total", "other", None) in var and ("S3.row_total", "other_other", None) not in var


def test_warehouse_rows_rebuild_the_equations():
    rows = structure_rows()
    assert all(tuple(r) == TERM_COLUMNS for r in rows)
    s = load_structure()
    for template, printed in (("2019", False), ("2021", False), ("2021", True)):
        wanted = {"any", "variant" if printed else "split"}
        eqs: dict = {}
        for r in rows:
            if r["template"] != template or r["form"] not in wanted:
                continue
            e = eqs.setdefault((r["identity"], r["row_key"], r["col_key"]), {"lhs": [], "rhs": []})
            e[r["side"]].append((r["section"], r["term_row_key"], r["term_col_key"]))
        direct = {(e.identity, e.row_key, e.col_key): {"lhs": e.lhs, "rhs": e.rhs}
                  for e in s.identity_equations(template, variant_printed=printed)}
        assert eqs == direct, (template, printed)
    assert {r["scope"] for r in rows if r["identity"] == "S3.balance"} == {"column"}
    assert all(r["row_key"] is None for r in rows if r["scope"] == "column")
    assert all(r["col_key"] is None for r in rows if r["scope"] == "row")


def _cells(path: Path) -> dict:
    _, cells = read_jsonl(path)
    return {k: SimpleNamespace(status=c["status"], value=c["value"]) for k, c in cells.items()}


def test_real_reports_judged_with_blank_and_nil_as_zero(truth):
    s = load_structure()
    # 洪泽区 2023 prints 行政复议 `10 1 0 0 0` and 复议后起诉 `5 0 0 0 0`: totals of 0 over parts of 11 and 5
    cells = _cells(truth / "hongze_2023.jsonl")
    broken = [v for e in s.identity_equations("2021", cells) if (v := evaluate(e, cells)) and not v.holds]
    assert [(v.equation.identity, v.equation.row_key, v.left, v.right) for v in broken] == [
        ("S4.row_total", "admin_review", 0, 11), ("S4.row_total", "lawsuit_after_review", 0, 5)]
    # seed 001 prints its first result rows empty: blank counts as 0, so those rows are judged
    meta, raw = read_jsonl(REPO / "tests" / "fixtures" / "expected" / "001_b39e880f26e76352.jsonl")
    cells = _cells(REPO / "tests" / "fixtures" / "expected" / "001_b39e880f26e76352.jsonl")
    blank_rows = {k[1] for k, c in cells.items() if k[0] == 3 and c.status == "blank"}
    assert blank_rows
    judged = [evaluate(e, cells) for e in s.identity_equations(meta["template"], cells)
              if e.identity == "S3.row_total" and e.row_key in blank_rows]
    assert judged and all(v is not None for v in judged)
    # a missing term: not evaluated
    eq = next(e for e in s.identity_equations("2019") if e.identity == "S4.row_total")
    cells = {k: SimpleNamespace(status="value", value=1) for k in eq.lhs + eq.rhs}
    cells[eq.rhs[0]] = SimpleNamespace(status="missing", value=None)
    assert evaluate(eq, cells) is None
    cells[eq.rhs[0]] = SimpleNamespace(status="nil", value=None)
    assert evaluate(eq, cells).holds is False  # 1 vs 0+1+1+1
    cells[eq.lhs[0]] = SimpleNamespace(status="value", value=3)
    assert evaluate(eq, cells).holds is True


def _broken(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(structure_path().read_text(encoding="utf-8"))
    edit(data)
    p = tmp_path / "template_structure.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


@pytest.mark.parametrize("edit, says", [
    (lambda d: d["groups"]["applicants"]["keys"].append("robots"), "'robots' is not in section 3"),
    (lambda d: d["groups"]["outcomes"]["keys"].append("$nowhere"), "unknown group '$nowhere'"),
    (lambda d: d["groups"]["intake"]["keys"].append("$request_rows"), "includes itself"),
    (lambda d: d["groups"].pop("applicants"), "unknown group '$applicants'"),
    (lambda d: d["identities"][0].update(scope="diagonal"), "scope must be column or row"),
    (lambda d: d["identities"][0].update(lhs=[]), "lhs must be a non-empty list"),
    (lambda d: d["identities"][2].update(rhs=["$intake"]), "must be a column group of section 3"),
    (lambda d: d["variants"]["2021"].update(row="granted"), "is not a `variant` row"),
    (lambda d: d.pop("variants"), "which `variants` does not declare"),
    (lambda d: d.update(extra=1), "unknown top-level key"),
])
def test_a_broken_structure_file_is_a_config_error_naming_it(tmp_path, edit, says):
    p = _broken(tmp_path, edit)
    with pytest.raises(ConfigError) as err:
        read_structure(p)
    assert str(err.value).startswith(str(p)) and says in str(err.value)


def test_unreadable_yaml_names_the_file(tmp_path):
    p = tmp_path / "template_structure.yaml"
    p.write_text("groups: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(p)) + ": not valid YAML"):
        read_structure(p)
    shutil.copy(structure_path(), p)
    assert read_structure(p).outcome_rows("2019") == load_structure().outcome_rows("2019")


def test_the_contract_in_docs_matches_the_catalog():
    text = (REPO / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
    cat = load_catalog()
    m = re.search(r"The 2019 format has (\d+) cells, the 2021 format (\d+)", text)
    assert m, "docs/CONTRACT.md must state the cell counts"
    assert int(m.group(1)) == len(cat.template_cells("2019"))
    assert int(m.group(2)) == len(cat.template_cells("2021"))
    variants = {(c.template, c.row_key) for c in cat.cells if c.role == "variant"}
    assert variants == {("2021", "other")}
    m = re.search(r"that row is `(\w+)`, and its\s+value equals the sum of ([^.]+)\.", text)
    assert m and m.group(1) == "other"
    subs = re.findall(r"`(\w+)`", m.group(2))
    assert subs == list(load_structure().variant("2021").replaces)
    assert all(load_catalog().get("2021", 3, r, "total") for r in subs)
    # the identities the contract names are those of the structure file
    named = set(re.findall(r"\*\*(S\d\.\w+)\*\*", text)) - {"S3.carry"}
    assert named == {i.name for i in load_structure().identities}
    # the catalog's value types and statuses are the contract's
    for vt in {c.value_type for c in cat.cells}:
        assert f"`{vt}`" in text
    assert "A `blank` or `nil` term counts as 0" in text


# The identity check written once in SQL over `template_identity_terms` (what the warehouse's
# checks join): blank and nil count 0, an equation with a missing or absent term is not judged,
# and a report's equations are those of form `any` plus `variant` where it prints the variant row,
# else `split`.
IDENTITY_SQL = """
WITH report_form AS (
    SELECT r.report_id, r.template,
           CASE WHEN EXISTS (SELECT 1 FROM cells c WHERE c.report_id = r.report_id AND c.section = 3
                             AND c.row_key = 'other') AND r.template = '2021'
                THEN 'variant' ELSE 'split' END AS form
    FROM reports r
),
terms AS (
    SELECT f.report_id, t.identity, t.row_key, t.col_key, t.side,
           CASE c.status WHEN 'value' THEN c.value WHEN 'blank' THEN 0 WHEN 'nil' THEN 0 END AS v
    FROM report_form f
    JOIN template_identity_terms t ON t.template = f.template AND t.form IN ('any', f.form)
    LEFT JOIN cells c ON c.report_id = f.report_id AND c.section = t.section
                     AND c.row_key = t.term_row_key AND c.col_key = t.term_col_key
)
SELECT report_id, identity, row_key, col_key,
       sum(v) FILTER (WHERE side = 'lhs') AS observed, sum(v) FILTER (WHERE side = 'rhs') AS expected
FROM terms
GROUP BY ALL
HAVING bool_and(v IS NOT NULL) AND abs(observed - expected) > 1e-9
"""


def _documents():
    """Expected cells of every report the project holds, and the cells gknb extracts from the
    pattern reports (a 2021 variant row, blanks, nils, missing cells among them)."""
    from gknb.extractors import extract_file

    fixtures = REPO / "tests" / "fixtures"
    for path in sorted([*(fixtures / "truth").glob("*.jsonl"), *(fixtures / "expected").glob("*.jsonl"),
                        *(fixtures / "real").glob("*.expected.jsonl"), *(fixtures / "webtext").glob("*.jsonl")]):
        meta, cells = read_jsonl(path)
        yield path.name, meta["template"], [SimpleNamespace(key=k, section=k[0], row_key=k[1], col_key=k[2],
                                                            status=c["status"], value=c["value"])
                                            for k, c in cells.items()]
    for path in sorted((fixtures / "patterns").glob("*.txt")):
        ex = extract_file(path)
        yield path.name, ex.meta.template, ex.cells


def test_python_and_sql_give_the_same_verdict():
    import duckdb

    from gknb.extractors.identities import violations

    import pyarrow as pa

    con = duckdb.connect()
    terms = pa.Table.from_pylist(structure_rows())
    con.execute("CREATE TABLE template_identity_terms AS SELECT * FROM terms")
    python: set = set()
    statuses: set = set()
    reports, cells_rows = [], []
    for name, template, cells in _documents():
        reports.append({"report_id": name, "template": template})
        cells_rows += [{"report_id": name, "section": c.section, "row_key": c.row_key, "col_key": c.col_key,
                        "status": c.status, "value": None if c.value is None else float(c.value)} for c in cells]
        statuses |= {c.status for c in cells}
        python |= {(name, v.identity, v.row_key, v.col_key, float(v.observed), float(v.expected))
                   for v in violations(cells, template)}
    report_table, cell_table = pa.Table.from_pylist(reports), pa.Table.from_pylist(cells_rows)
    con.execute("CREATE TABLE reports AS SELECT * FROM report_table")
    con.execute("CREATE TABLE cells AS SELECT * FROM cell_table")
    sql = {(r[0], r[1], r[2], r[3], float(r[4]), float(r[5])) for r in con.execute(IDENTITY_SQL).fetchall()}
    assert statuses == {"value", "blank", "nil", "missing"}  # every kind of term is exercised
    assert python == sql
    # and the real reports' own breaks are among them (洪泽区 2023's review rows)
    assert ("hongze_2023.jsonl", "S4.row_total", "admin_review", None, 0.0, 11.0) in sql
