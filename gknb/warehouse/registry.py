"""The table registry: one YAML file per table in schemas/tables/ (PUDL style).

Each file names the table, its layer, a description, its columns (name, DuckDB type, nullability,
description) and the checks on it, each with a sentence on why it exists. The DDL in sql/ddl must
agree with it (`ddl_mismatches`), and `run_checks` evaluates the structural checks on a warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from gknb.paths import SCHEMAS_DIR
from gknb.warehouse.errors import SchemaError

TABLES_DIR = SCHEMAS_DIR / "tables"
LAYERS = ("raw", "core", "out", "quality")
CHECK_KINDS = ("unique", "accepted_values", "expression", "foreign_key", "not_null")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class Check:
    id: str
    kind: str
    why: str
    spec: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Table:
    name: str
    layer: str
    description: str
    columns: tuple[Column, ...]
    checks: tuple[Check, ...]
    primary_key: tuple[str, ...] = ()
    path: Path | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Violation:
    check_id: str
    table: str
    failing_rows: int
    why: str

    def __str__(self) -> str:
        return f"{self.check_id}: {self.failing_rows} failing row(s) - {self.why}"


def read_table(path: Path) -> Table:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(spec, dict) or not spec.get("name"):
        raise SchemaError(f"{path.name}: needs a mapping with a `name`")
    name = spec["name"]
    if path.stem != name:
        raise SchemaError(f"{path.name}: declares table {name!r}; the file must be named {name}.yaml")
    description = (spec.get("description") or "").strip()
    if not description:
        raise SchemaError(f"{name}: the table has no description")
    layer = spec.get("layer", "core")
    if layer not in LAYERS:
        raise SchemaError(f"{name}: unknown layer {layer!r} (one of {', '.join(LAYERS)})")
    columns = []
    for col in spec.get("columns") or []:
        cname = col.get("name")
        if not cname or not col.get("type"):
            raise SchemaError(f"{name}: a column needs a name and a type: {col!r}")
        cdesc = (col.get("description") or "").strip()
        if not cdesc:
            raise SchemaError(f"{name}.{cname}: the column has no description")
        columns.append(Column(cname, str(col["type"]).upper(), cdesc, bool(col.get("nullable", True))))
    if not columns:
        raise SchemaError(f"{name}: the table has no columns")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise SchemaError(f"{name}: a column is declared twice")
    checks = []
    for chk in spec.get("checks") or []:
        cid, kind, why = chk.get("id"), chk.get("kind"), (chk.get("why") or "").strip()
        if not cid or kind not in CHECK_KINDS:
            raise SchemaError(f"{name}: check {cid!r} needs an id and a kind in {CHECK_KINDS}")
        if not why:
            raise SchemaError(f"{name}: check {cid} does not say why it exists")
        checks.append(Check(cid, kind, why, {k: v for k, v in chk.items() if k not in ("id", "kind", "why")}))
    pk = tuple(spec.get("primary_key") or ())
    for col in pk:
        if col not in names:
            raise SchemaError(f"{name}: primary key column {col} is not a column")
    return Table(name, layer, description, tuple(columns), tuple(checks), pk, path)


@lru_cache(maxsize=4)
def load_registry(tables_dir: Path = TABLES_DIR) -> dict[str, Table]:
    """Every table of schemas/tables, by name, validated."""
    tables = {}
    for path in sorted(tables_dir.glob("*.yaml")):
        table = read_table(path)
        tables[table.name] = table
    if not tables:
        raise SchemaError(f"no table definitions in {tables_dir}")
    return tables


def ddl_mismatches(con, tables: dict[str, Table] | None = None) -> list[str]:
    """Where the tables DuckDB created from sql/ddl differ from the registry (empty when they agree).

    Only tables that exist in the database or the registry are compared: a registry table with no
    DDL, a DDL table with no registry entry, a column missing on either side, a type or
    nullability that differs.
    """
    tables = tables if tables is not None else load_registry()
    rows = con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name IN "
        "(SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE') "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    actual: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, dtype, nullable in rows:
        actual.setdefault(table, {})[column] = (dtype.upper(), nullable == "YES")
    problems = []
    for name, table in tables.items():
        cols = actual.get(name)
        if cols is None:
            problems.append(f"{name}: in schemas/tables but no DDL created it")
            continue
        for col in table.columns:
            if col.name not in cols:
                problems.append(f"{name}.{col.name}: in the registry but not in the DDL")
                continue
            dtype, nullable = cols[col.name]
            if dtype != col.type:
                problems.append(f"{name}.{col.name}: registry type {col.type}, DDL type {dtype}")
            if nullable != col.nullable:
                problems.append(f"{name}.{col.name}: registry nullable={col.nullable}, DDL nullable={nullable}")
        for cname in cols:
            if table.column(cname) is None:
                problems.append(f"{name}.{cname}: in the DDL but not in the registry")
    for name in actual:
        if name not in tables and not name.startswith("out_"):
            problems.append(f"{name}: created by the DDL but has no schemas/tables/{name}.yaml")
    return problems


def check_sql(table: Table, check: Check) -> str:
    """A query counting the rows of `table` that fail `check`."""
    s, t = check.spec, table.name
    where = f" WHERE {s['where']}" if s.get("where") else ""
    if check.kind == "unique":
        cols = ", ".join(s["columns"])
        return (f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {t}{where} "
                f"GROUP BY {cols} HAVING count(*) > 1)")
    if check.kind == "accepted_values":
        values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in s["values"])
        return f"SELECT count(*) FROM {t} WHERE {s['column']} IS NOT NULL AND {s['column']} NOT IN ({values})"
    if check.kind == "not_null":
        return f"SELECT count(*) FROM {t} WHERE {s['column']} IS NULL"
    if check.kind == "expression":
        cond = f"({s['where']}) AND " if s.get("where") else ""
        return f"SELECT count(*) FROM {t} WHERE {cond}NOT coalesce(({s['expression']}), false)"
    if check.kind == "foreign_key":
        ref = s["references"]
        on = " AND ".join(f"p.{rc} = c.{cc}" for cc, rc in zip(s["columns"], ref["columns"]))
        notnull = " AND ".join(f"c.{cc} IS NOT NULL" for cc in s["columns"])
        return (f"SELECT count(*) FROM {t} c WHERE {notnull} AND NOT EXISTS "
                f"(SELECT 1 FROM {ref['table']} p WHERE {on})")
    raise SchemaError(f"{check.id}: unknown check kind {check.kind}")


def run_checks(con, tables: dict[str, Table] | None = None) -> list[Violation]:
    """Evaluate every registry check on the warehouse behind `con`; the failing ones."""
    tables = tables if tables is not None else load_registry()
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    out = []
    for table in tables.values():
        if table.name not in existing:
            continue
        for check in table.checks:
            n = con.execute(check_sql(table, check)).fetchone()[0]
            if n:
                out.append(Violation(check.id, table.name, int(n), check.why))
    return out
