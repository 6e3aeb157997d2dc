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
