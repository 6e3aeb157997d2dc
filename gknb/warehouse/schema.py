"""Creating the warehouse: the DDL of sql/ddl, the catalog tables, the views of sql/views, and
the registry's descriptions as comments.

`create_all` is idempotent: tables are created if absent (and gain the nullable columns the
registry added since the warehouse was made), the catalog tables (`template_cells`,
`cell_crosswalk`) are reloaded from their files, every view is replaced, and every table, view
and column gets its description from schemas/tables and schemas/views as a `COMMENT ON`, so
`SELECT comment FROM duckdb_columns()` is the data dictionary. Running it on an existing
warehouse brings its views and comments up to date without touching the data.
"""

from __future__ import annotations

import csv
from pathlib import Path

from gknb.catalog import load_catalog
from gknb.paths import SCHEMAS_DIR, SQL_DIR
from gknb.warehouse.errors import SchemaError

DDL_DIR = SQL_DIR / "ddl"
VIEWS_DIR = SQL_DIR / "views"
CROSSWALK_CSV = SCHEMAS_DIR / "cell_crosswalk.csv"


def sql_files(folder: Path) -> list[Path]:
    """The .sql files of a folder in name order (files are numbered so dependencies come first)."""
    return sorted(folder.glob("*.sql"))


def run_sql_file(con, path: Path) -> None:
    try:
        con.execute(path.read_text(encoding="utf-8"))
    except Exception as exc:  # duckdb raises its own hierarchy; name the file that broke
        raise SchemaError(f"{path.relative_to(SQL_DIR.parent)}: {exc}".splitlines()[0]) from exc


def create_tables(con) -> None:
    for path in sql_files(DDL_DIR):
        run_sql_file(con, path)
    add_new_columns(con)


def add_new_columns(con) -> list[str]:
    """Nullable columns the registry declares that an existing table lacks (a warehouse made by an
    earlier gknb): added, so an old warehouse keeps its data and gains the column as NULL."""
    from gknb.warehouse.registry import load_registry

    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall():
        existing.setdefault(table, set()).add(column)
    added = []
    for table in load_registry().values():
        if table.name not in existing:
            continue
        for col in table.columns:
            if col.name not in existing[table.name] and col.nullable:
                con.execute(f"ALTER TABLE {table.name} ADD COLUMN {col.name} {col.type}")
                added.append(f"{table.name}.{col.name}")
    return added


def load_catalog_tables(con) -> None:
    """Reload template_cells from gknb.catalog and cell_crosswalk from schemas/cell_crosswalk.csv."""
    catalog = load_catalog()
    rows = [
        (c.template, c.section, c.item, c.row_key, c.col_key, c.row_label, c.col_label,
         c.value_type, c.role, i)
        for i, c in enumerate(catalog.cells, start=1)
    ]
    _replace_rows(con, "template_cells", rows)
    _replace_rows(con, "cell_crosswalk", crosswalk_rows())


def _replace_rows(con, table: str, rows: list[tuple]) -> None:
    """Replace a small table's rows in one statement (executemany commits row by row: seconds)."""
    import pyarrow as pa

    from gknb.warehouse.registry import arrow_schema, insert_columns

    names = insert_columns(table)
    incoming = pa.table({f.name: pa.array(list(col), f.type) for f, col in zip(arrow_schema(table), zip(*rows))})
    con.register("_incoming_catalog", incoming)
    try:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM _incoming_catalog")
    finally:
        con.unregister("_incoming_catalog")


def crosswalk_rows() -> list[tuple]:
    """The section-2 crosswalk from its CSV, plus sections 3 and 4, whose keys are the same in both
    templates and map to themselves (the 2021 single 其他处理 row `other` maps to the 2019 `other`)."""
    catalog = load_catalog()
    rows: dict[tuple, tuple] = {}
    with CROSSWALK_CSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            key = (r["template"], int(r["section"]), r["row_key"], r["col_key"])
            if catalog.get(*key) is None:
                raise SchemaError(f"cell_crosswalk.csv: {key} is not a catalog cell")
            rows[key] = (*key, r["col_key"] if not r["measure"] else r["measure"],
                         r["comparable"].strip().lower() == "true", r["note"] or None)
    other_templates = {"2019": "2021", "2021": "2019"}
    for c in catalog.cells:
        key = (c.template, c.section, c.row_key, c.col_key)
        if key in rows:
            continue
        if c.section == 2:
            raise SchemaError(f"cell_crosswalk.csv: section-2 cell {key} has no entry")
        twin = catalog.get(other_templates[c.template], c.section, c.row_key, c.col_key)
        rows[key] = (*key, c.col_key, twin is not None,
                     None if twin is not None else f"{c.template} only")
    return list(rows.values())


def create_views(con) -> None:
    for path in sql_files(VIEWS_DIR):
        run_sql_file(con, path)


def create_all(con) -> None:
    """Tables from sql/ddl (as declared in schemas/tables), catalog tables, the views, comments."""
    from gknb.warehouse.registry import apply_comments

    con.execute("BEGIN TRANSACTION")
    try:
        create_tables(con)
        load_catalog_tables(con)
        create_views(con)
        apply_comments(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
