"""Checks where the data is: each check's SQL runs in DuckDB and its failing rows become findings
with one INSERT … SELECT; nothing but the failing rows ever leaves the database.

For each check (gknb.quality.suites), every GX expectation of its suite is compiled to the SQL
predicate of a row the expectation rejects (`fail_predicate`), and its finding message to a SQL
expression (`message_sql`). The check's query, restricted to the reports in scope (`q_scope`) and
to rows some expectation rejects, is materialised once as `q_fail`; the findings are inserted from
it, and GX then validates exactly those rows in bounded batches (gknb.quality.validate), which both
renders them in the Data Docs and cross-checks that GX rejects every row the SQL did.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from gknb.paths import SQL_DIR
from gknb.quality.errors import SuiteError, WarehouseIncomplete
from gknb.quality.suites import OBSERVATION_COLUMNS, Check, Spec

CHECKS_SQL = SQL_DIR / "checks"
REQUIRED_TABLES = ("reports", "cells")
FAIL_TABLE = "q_fail"
# Columns GX lists for each failing row in the Data Docs (unexpected_index_column_names).
INDEX_COLUMNS = ("agency", "year", "section", "row_key", "col_key", "page")

_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|"
                      r"UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*|NUMERIC.*|INT\d*)$", re.I)
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP.*|DATETIME)$", re.I)

# Formatting in SQL as gknb.quality.findings.format_value does in Python: whole numbers without
# '.0', other numbers with at most 6 decimals, dates as ISO.
_MACROS = """
CREATE OR REPLACE TEMP MACRO q_fmt_num(x) AS
    CASE WHEN x IS NULL OR isnan(CAST(x AS DOUBLE)) THEN NULL
         WHEN CAST(x AS DOUBLE) = trunc(CAST(x AS DOUBLE)) AND abs(CAST(x AS DOUBLE)) < 1e15
              THEN CAST(CAST(x AS BIGINT) AS VARCHAR)
         ELSE rtrim(rtrim(printf('%.6f', CAST(x AS DOUBLE)), '0'), '.') END;
"""


# ---------------------------------------------------------------- preparing a connection


def catalog_rows() -> list[tuple]:
    from gknb.catalog import load_catalog

    return [(c.template, c.section, c.item, c.row_key, c.col_key, c.row_label, c.col_label,
             c.value_type, c.role, i) for i, c in enumerate(load_catalog().cells, start=1)]


def _register(con, name: str, columns: list[str], rows: list[tuple], types: list[str]) -> None:
    """A small temporary table from Python rows (catalog, structure): one bulk insert."""
    import pyarrow as pa

    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ("
                + ", ".join(f"{c} {t}" for c, t in zip(columns, types)) + ")")
    if rows:
        arrow = pa.table({c: pa.array(list(col)) for c, col in zip(columns, zip(*rows))})
        con.register(f"_{name}_in", arrow)
        try:
            con.execute(f"INSERT INTO {name} SELECT * FROM _{name}_in")
        finally:
            con.unregister(f"_{name}_in")


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "OR table_type = 'LOCAL TEMPORARY'").fetchall()}


def register_structure(con) -> None:
    """q_catalog, q_variants and q_identity_terms: the template as data, for every check.

    The identities are read from the warehouse table `template_identity_terms` where the warehouse
    has it (loaded at schema setup from schemas/template_structure.yaml), else from the same file
    through gknb.structure — one definition either way."""
    from gknb.structure import TERM_COLUMNS, load_structure, structure_rows

    _register(con, "q_catalog",
              ["template", "section", "item", "row_key", "col_key", "row_label", "col_label",
               "value_type", "role", "position"],
              catalog_rows(),
              ["VARCHAR", "INTEGER", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR",
               "VARCHAR", "INTEGER"])
    structure = load_structure()
    _register(con, "q_variants", ["template", "section", "row_key", "replaces"],
              [(v.template, v.section, v.row, r) for v in structure.variants.values() for r in v.replaces],
              ["VARCHAR", "INTEGER", "VARCHAR", "VARCHAR"])
    has_table = "template_identity_terms" in _tables(con) and con.execute(
        "SELECT count(*) FROM template_identity_terms").fetchone()[0] > 0
    if has_table:
        con.execute("CREATE OR REPLACE TEMP VIEW q_identity_terms AS SELECT "
                    + ", ".join(TERM_COLUMNS) + " FROM template_identity_terms")
    else:
        rows = [tuple(r[c] for c in TERM_COLUMNS) for r in structure_rows(structure)]
        _register(con, "q_identity_terms", list(TERM_COLUMNS), rows,
                  ["VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR",
                   "VARCHAR", "VARCHAR", "VARCHAR"])


def prepare(con, memory_limit: str | None = None) -> None:
    """Registers the template as data and creates the temporary tables every check reads.
    `memory_limit` bounds DuckDB's buffer pool (checks.yaml duckdb_memory_limit): past it, DuckDB
    spills to its temporary directory instead of growing."""
    if memory_limit:
        con.execute(f"SET memory_limit = {_literal(memory_limit)}")
    con.execute("SET preserve_insertion_order = false")
    present = _tables(con)
    lacking = [t for t in REQUIRED_TABLES if t not in present]
    if lacking:
        raise WarehouseIncomplete(f"the warehouse has no {', '.join(lacking)} table: run `gknb ingest` first")
    register_structure(con)
    con.execute(_MACROS)
    _run_file(con, "_prelude.sql")


def _run_file(con, name: str, params: dict | None = None) -> None:
    """Runs a file of statements (ending in `;` at the end of a line), each with its parameters."""
    path = CHECKS_SQL / name
    text = path.read_text(encoding="utf-8")
    for statement in re.split(r";[ \t]*(?:\n|$)", text):
        if not re.sub(r"--[^\n]*", "", statement).strip():
            continue
        try:
            con.execute(statement, _used(statement, params or {}) or None)
        except Exception as exc:  # duckdb raises its own hierarchy; name the file that broke
            raise SuiteError(f"{path}: {exc}".splitlines()[0]) from exc


def scope_all(con) -> int:
    """Every current report is in scope (a full run)."""
    con.execute("CREATE OR REPLACE TEMP TABLE q_scope AS SELECT report_id FROM q_reports")
    return con.execute("SELECT count(*) FROM q_scope").fetchone()[0]


def create_cells(con, government_kind: str) -> None:
    """q_grid_reports and q_cells, once q_scope is filled."""
    _run_file(con, "_cells.sql", {"government_kind": government_kind})


def connect_frames(reports, cells):
    """An in-memory connection whose `reports` and `cells` are the given frames (tests, notebooks)."""
    import duckdb

    con = duckdb.connect()
    con.register("_reports_frame", reports)
    con.register("_cells_frame", cells)
    con.execute("CREATE TABLE reports AS SELECT * FROM _reports_frame")
    con.execute("CREATE TABLE cells AS SELECT * FROM _cells_frame")
    return con


# ---------------------------------------------------------------- compiling a check


def _used(sql: str, params: dict) -> dict:
    """The parameters the SQL names ($name); dict parameters become lists of {key, value}."""
    out = {}
    for name in set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql)):
        if name not in params:
            raise SuiteError(f"the query needs ${name}, which no check parameter gives")
        value = params[name]
        if isinstance(value, dict):
            value = [{"key": str(k), "value": v} for k, v in value.items()]
        out[name] = value
    return out


def _literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def fail_predicate(spec: Spec) -> str:
    """The SQL condition of a row the spec's GX expectation rejects (GX's own semantics: column
    map expectations ignore nulls; pair expectations ignore rows where both are null)."""
    kw = spec.kwargs
    e = spec.expectation
    if e == "ExpectColumnPairValuesToBeEqual":
        a, b = _ident(kw["column_A"]), _ident(kw["column_B"])
        fail = f"NOT ({a} IS NULL AND {b} IS NULL) AND ({a} IS NULL OR {b} IS NULL OR {a} <> {b})"
    elif e == "ExpectColumnPairValuesAToBeGreaterThanB":
        a, b = _ident(kw["column_A"]), _ident(kw["column_B"])
        op = ">=" if kw.get("or_equal") else ">"
        fail = f"NOT ({a} IS NULL AND {b} IS NULL) AND NOT coalesce({a} {op} {b}, FALSE)"
    elif e == "ExpectColumnValuesToBeBetween":
        c = _ident(kw["column"])
        parts = []
        if kw.get("min_value") is not None:
            parts.append(f"{c} < {_literal(kw['min_value'])}")
        if kw.get("max_value") is not None:
            parts.append(f"{c} > {_literal(kw['max_value'])}")
        fail = f"{c} IS NOT NULL AND ({' OR '.join(parts) or 'FALSE'})"
    elif e == "ExpectColumnValuesToBeInSet":
        c = _ident(kw["column"])
        fail = f"{c} IS NOT NULL AND {c} NOT IN ({', '.join(_literal(v) for v in kw['value_set'])})"
    elif e == "ExpectColumnValuesToNotBeNull":
        fail = f"{_ident(kw['column'])} IS NULL"
    elif e == "ExpectColumnValuesToBeNull":
        fail = f"{_ident(kw['column'])} IS NOT NULL"
    else:
        raise SuiteError(f"no SQL form for the expectation {e}")
    if spec.where is not None:
        column, op, value = spec.where
        if op not in _OPS:
            raise SuiteError(f"unknown operator {op!r} in a row condition on {column}")
        fail = f"coalesce({_ident(column)} {_OPS[op]} {_literal(value)}, FALSE) AND ({fail})"
    return f"coalesce(({fail}), FALSE)"


def format_sql(column: str, type_name: str) -> str:
    """The column as finding text, by its DuckDB type."""
    c = _ident(column)
    if _NUMERIC.match(type_name):
        return f"q_fmt_num({c})"
    if _TEMPORAL.match(type_name):
        return f"strftime(CAST({c} AS DATE), '%Y-%m-%d')"
    if type_name.upper() == "BOOLEAN":
        return f"CASE WHEN {c} THEN 'True' WHEN NOT {c} THEN 'False' END"
    if type_name.upper() == "VARCHAR":
        return c
    return f"CAST({c} AS VARCHAR)"


def message_sql(template: str, types: dict[str, str]) -> str:
    """A message template (`str.format` fields over the row's columns) as a SQL expression; an
    unknown or null field reads '?', as gknb.quality.findings.format_message does."""
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        if literal:
            parts.append(_literal(literal))
        if field is not None:
            parts.append(f"coalesce({format_sql(field, types[field])}, '?')" if field in types else "'?'")
    return "concat(" + ", ".join(parts or ["''"]) + ")"


@dataclass
class CheckResult:
    check_id: str
    findings: int
    per_spec: list[int]
    columns: list[str]
    seconds: float = 0.0


def _query(check: Check) -> str:
    path = CHECKS_SQL / check.sql
    try:
        sql = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"{check.check_id}: cannot read {path}: {exc}") from exc
    return sql.strip().rstrip(";")


def _columns(con, sql: str, params: dict, check: Check) -> dict[str, str]:
    try:
        rel = con.execute(f"SELECT * FROM ({sql}) LIMIT 0", params or None)
    except Exception as exc:
        raise SuiteError(f"{check.check_id}: {CHECKS_SQL / check.sql}: {exc}".splitlines()[0]) from exc
    return {d[0]: str(d[1]) for d in rel.description}


def run_check(con, check: Check, run_id: str, params: dict) -> CheckResult:
    """Materialises the check's failing rows in scope as q_fail and inserts their findings."""
    import time

    started = time.perf_counter()
    sql = _query(check)
    params = _used(sql, params)
    types = _columns(con, sql, params, check)
    lacking = [c for c in OBSERVATION_COLUMNS if c not in types]
    if lacking:
        raise SuiteError(f"{check.check_id}: {check.sql} lacks columns {lacking}")
    preds = [fail_predicate(s) for s in check.specs]
    flags = ", ".join(f"{p} AS _f{i}" for i, p in enumerate(preds))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {FAIL_TABLE} AS "
            f"SELECT o.*, {flags} FROM ({sql}) o "
            f"WHERE o.report_id IN (SELECT report_id FROM q_scope) AND ({' OR '.join(preds)})",
            params or None)
    except Exception as exc:
        raise SuiteError(f"{check.check_id}: {CHECKS_SQL / check.sql}: {exc}".splitlines()[0]) from exc
    info = check.info
    per_spec = []
    for i, spec in enumerate(check.specs):
        expected = _literal(spec.expected_text) if spec.expected_text is not None else \
            format_sql("expected", types["expected"])
        con.execute(
            "INSERT INTO dq_findings (run_id, report_id, check_id, severity, cause, section, row_key, "
            "col_key, expected, observed, page, message) "
            f"SELECT ?, report_id, ?, ?, ?, CAST(section AS INTEGER), CAST(row_key AS VARCHAR), "
            f"CAST(col_key AS VARCHAR), {expected}, {format_sql('observed', types['observed'])}, "
            f"CAST(page AS INTEGER), {message_sql(spec.message, types)} "
            f"FROM {FAIL_TABLE} WHERE _f{i}",
            [run_id, check.check_id, info.severity, info.cause])
        per_spec.append(con.execute(f"SELECT count(*) FROM {FAIL_TABLE} WHERE _f{i}").fetchone()[0])
    total = sum(per_spec)
    return CheckResult(check.check_id, total, per_spec, list(types), time.perf_counter() - started)


def failing_rows_sql(columns: list[str], n_specs: int) -> str:
    """The failing rows with the report's agency and year, for GX (ordered for stable docs)."""
    extra = [f"r.{c}" for c in ("agency", "year") if c not in columns]
    select = ", ".join([f"f.{_ident(c)}" for c in columns] + extra + [f"f._f{i}" for i in range(n_specs)])
    return (f"SELECT {select} FROM {FAIL_TABLE} f LEFT JOIN q_reports r ON r.report_id = f.report_id "
            "ORDER BY r.agency NULLS LAST, r.year NULLS LAST, f.report_id, f.section, f.row_key, f.col_key")


def sql_path(check: Check) -> Path:
    return CHECKS_SQL / check.sql
