"""The table registry (schemas/tables) is complete, agrees with the DDL, and its checks catch bad rows."""

from __future__ import annotations

import duckdb
import pytest

from gknb.warehouse.agency import agency_key, agency_kind
from gknb.warehouse.errors import SchemaError
from gknb.warehouse.registry import TABLES_DIR, ddl_mismatches, load_registry, read_table, run_checks
from gknb.warehouse.schema import create_all
from warehouse_helpers import samples_warehouse

CORE = {"documents", "reports", "cells", "template_cells", "cell_crosswalk", "ingest_runs"}


@pytest.fixture()
def empty():
    con = duckdb.connect()
    create_all(con)
    yield con
    con.close()


def test_every_table_and_column_is_described():
    tables = load_registry()
    assert CORE <= set(tables)
    for table in tables.values():
        assert len(table.description) > 40, table.name
        for col in table.columns:
            assert col.description, f"{table.name}.{col.name}"
        for check in table.checks:
            assert check.why.endswith("."), check.id


def test_a_table_without_description_is_refused(tmp_path):
    (tmp_path / "t.yaml").write_text("name: t\ncolumns:\n  - {name: a, type: INTEGER, description: x}\n")
    with pytest.raises(SchemaError, match="no description"):
        read_table(tmp_path / "t.yaml")
    (tmp_path / "u.yaml").write_text("name: u\ndescription: a table\ncolumns:\n  - {name: a, type: INTEGER}\n")
    with pytest.raises(SchemaError, match="u.a: the column has no description"):
        read_table(tmp_path / "u.yaml")
    (tmp_path / "v.yaml").write_text(
        "name: v\ndescription: a table\ncolumns:\n  - {name: a, type: INTEGER, description: x}\n"
        "checks:\n  - {id: v.a, kind: unique, columns: [a]}\n")
    with pytest.raises(SchemaError, match="does not say why"):
        read_table(tmp_path / "v.yaml")


def test_the_ddl_agrees_with_the_registry(empty):
    assert ddl_mismatches(empty) == []


def test_a_disagreement_is_reported(empty):
    empty.execute("ALTER TABLE reports ADD COLUMN secret VARCHAR")
    empty.execute("ALTER TABLE cells ALTER COLUMN page TYPE BIGINT")
    empty.execute("CREATE TABLE stray (x INTEGER)")
    problems = ddl_mismatches(empty)
    assert "reports.secret: in the DDL but not in the registry" in problems
    assert "cells.page: registry type INTEGER, DDL type BIGINT" in problems
    assert "stray: created by the DDL but has no schemas/tables/stray.yaml" in problems


def test_catalog_tables_are_loaded(empty):
    sizes = dict(empty.execute("SELECT template, count(*) FROM template_cells WHERE role = 'cell' GROUP BY ALL").fetchall())
    label = empty.execute("SELECT row_label, col_label FROM template_cells WHERE template = '2021' AND section = 3 "
                          "AND row_key = 'new_requests' AND col_key = 'total'").fetchone()
    same = empty.execute("SELECT list(DISTINCT template ORDER BY template) FROM cell_crosswalk "
                         "WHERE measure = 'new_this_year' AND comparable").fetchone()[0]
    assert sizes == {"2019": 198, "2021": 200}
    assert label == ("一、本年新收政府信息公开申请数量", "总计")
    assert same == ["2019", "2021"]


def test_registry_checks_pass_on_the_samples_and_catch_bad_rows(tmp_path):
    con = duckdb.connect(str(samples_warehouse()), read_only=True)
    assert run_checks(con) == []
    con.close()
    bad = duckdb.connect()
    create_all(bad)
    bad.execute("INSERT INTO cells VALUES ('r1', 3, 'requests', 'granted', 'total', 'maybe', 5, '5', 1, NULL)")
    failed = {v.check_id for v in run_checks(bad)}
    assert {"cells.status_domain", "cells.value_iff_status_value", "cells.report_exists", "cells.in_catalog"} <= failed


@pytest.mark.parametrize("name, region, kind", [
    ("银川市兴庆区解放西街街道办事处", ("宁夏回族自治区", "银川市", "兴庆区"), "街道办事处"),
    ("某某镇人民政府", (None, None, None), "乡镇"),
    ("淮安市洪泽区人民政府", ("江苏省", "淮安市", "洪泽区"), "区县政府"),
    ("淮安市人民政府", ("江苏省", "淮安市", None), "市政府"),
    ("宁夏回族自治区人民政府", ("宁夏回族自治区", None, None), "省政府"),
    ("兴庆区民政局", ("宁夏回族自治区", "银川市", "兴庆区"), "局"),
    ("某市卫生健康委员会", (None, None, None), "委"),
    ("上海市人民政府办公厅", ("上海市", "上海市", None), "办"),
    ("昆山市人民政府", ("江苏省", "苏州市", "昆山市"), "区县政府"),
])
def test_agency_kind_from_the_name(name, region, kind):
    assert agency_kind(name, *region) == kind


def test_agency_key_ignores_the_leading_region_names():
    a = agency_key("淮安市洪泽区人民政府", "江苏省", "淮安市", "洪泽区")
    b = agency_key("洪泽区 人民政府", "江苏省", "淮安市", "洪泽区")
    c = agency_key("淮安市人民政府", "江苏省", "淮安市", None)
    assert a == b == "江苏省|淮安市|洪泽区|人民政府" and c != a


def test_views_agree_with_the_registry(empty):
    from gknb.warehouse.registry import load_views, view_mismatches

    assert view_mismatches(empty) == []
    views = load_views()
    assert {"v_cells", "rollup_requests_district_year", "coverage_agency_year",
            "yoy_review_litigation_district_year", "yoy_disclosure_agency_year"} <= set(views)
    for view in views.values():
        assert len(view.description) > 40, view.name
    empty.execute("CREATE VIEW stray_view AS SELECT 1 AS x")
    assert "stray_view: created by sql/views but has no schemas/views/stray_view.yaml" in view_mismatches(empty)


def test_materialised_rollups_are_the_registry_s():
    from gknb.warehouse.registry import load_views
    from gknb.warehouse.rollups import MATERIALISED_VIEWS

    assert set(MATERIALISED_VIEWS) == {v.name for v in load_views().values() if v.materialised}


def test_every_table_view_and_column_has_a_comment():
    """issue 9.5 / 11.2: the dictionary is in the database - tables, views and the out_ copies."""
    con = duckdb.connect(str(samples_warehouse()), read_only=True)
    try:
        tables = con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
        views = con.execute("SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' "
                            "AND NOT internal").fetchall()
        columns = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                              "WHERE schema_name = 'main' AND NOT internal").fetchall()
        comment = dict(((t, c), m) for t, c, m in columns)
    finally:
        con.close()
    assert {"cells", "documents", "out_rollup_requests_district_year"} <= {t for t, _ in tables}
    assert {"v_cells", "coverage_agency_year"} <= {v for v, _ in views}
    assert [t for t, m in tables + views if not m] == []
    assert len(columns) > 300 and [(t, c) for t, c, m in columns if not m] == []
    assert comment[("cells", "value")].startswith("The number when status is value")
    assert "[unit: ratio]" in comment[("rollup_requests_district_year", "disclosure_ratio")]


def test_the_duckdb_cli_opens_the_commented_warehouse():
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "duckdb"
    out = subprocess.run([str(cli), "-readonly", "-csv", str(samples_warehouse()), "-c",
                          "SELECT count(*) FILTER (WHERE comment IS NULL), count(*) FROM duckdb_columns() "
                          "WHERE schema_name = 'main' AND NOT internal"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    nulls, total = map(int, out.stdout.splitlines()[1].split(","))
    assert nulls == 0 and total > 300


def test_the_loader_s_columns_and_arrow_types_come_from_the_registry():
    import pyarrow as pa

    from gknb.warehouse.load import CELL_COLUMNS, REPORT_COLUMNS
    from gknb.warehouse.registry import arrow_schema, insert_columns

    assert REPORT_COLUMNS == insert_columns("reports") and CELL_COLUMNS == insert_columns("cells")
    schema = arrow_schema("reports")
    assert schema.field("warnings").type == pa.list_(pa.string())
    assert schema.field("published").type == pa.date32() and not schema.field("is_current").nullable
    assert arrow_schema("cells").field("value").type == pa.decimal128(18, 6)
    assert arrow_schema("cells", ["value"], overrides={"value": pa.string()}).names == ["value"]


def test_an_older_warehouse_gains_the_registry_s_new_columns(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    create_all(con)
    con.execute("ALTER TABLE documents DROP COLUMN agency_column_url")  # as made before the column existed
    con.execute("INSERT INTO documents (document_id, sha256, size, status, first_seen) "
                "VALUES ('d1', 'x', 1, 'rejected', now())")
    create_all(con)
    assert con.execute("SELECT document_id, agency_column_url FROM documents").fetchall() == [("d1", None)]
    assert ddl_mismatches(con) == []
    con.close()
