"""`gknb export`: every table, view and rollup an analyst uses, as files any tool reads as they are.

Layout of the export folder (default `<data dir>/export/`):

    datapackage.json                 Frictionless Data Package: every dataset, its files, columns,
                                     types, units and descriptions (from the registry)
    <dataset>/<dataset>-<year>.parquet   Parquet: one file per reporting year ...
    <dataset>/<dataset>-no-year.parquet  ... rows without one (a rejected document) in their own file
    <dataset>/<dataset>.parquet          a dataset without years (the catalog, run tables)
    <dataset>.csv                    with --format csv: one UTF-8 (with BOM) file per dataset

No Hive partition folders: `year` is a column inside every file (a table keyed by report_id gets
its report's year), so one file read alone has it, and `pandas.read_parquet("<dataset>/")`,
`polars.read_parquet("<dataset>/*.parquet")` and DuckDB's `read_parquet('<dataset>/*.parquet')`
read a dataset without options. Types are the tools' plain ones: counts are integers; the exact
DECIMAL of `cells.value` (counts and 万元 amounts alike) is written as DOUBLE - 18 significant
digits are more than any figure of a report, and a float sums in every tool, where decimals
arrive in pandas as Python objects.

Datasets: every table of the registry (schemas/tables) present in the warehouse and every view of
schemas/views marked `export` (the `out_*` tables are copies of views and are not written twice).
Everything is written into a staging folder first and swapped in at the end, so a failed export
(a full disk, a query error) leaves the previous export whole. Reads go through a read-only
connection, so the published warehouse is never locked.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from gknb.warehouse.errors import WarehouseError
from gknb.warehouse.publish import connect_readonly

FORMATS = ("parquet", "csv")
NO_YEAR = "no-year"
YEAR_ADDED = "The reporting year of the row's report (added by the export; null when the row has no report)."
BOM = "\ufeff".encode("utf-8")
EXPORT_MEMORY_LIMIT = "512MB"
PARTITION_ROW_GROUP = 16384


def _describe_query(con, query: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {query}").fetchall()]


def _columns(con, name: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_name = ? ORDER BY ordinal_position", [name]).fetchall()]


def datasets(con, release: bool = False) -> list[tuple[str, str]]:
    """(name, 'table' | 'view') of everything exported (`release`: into a release), tables
    first, in registry order."""
    from gknb.warehouse.registry import load_registry, load_views

    present = {r[0]: r[1] for r in con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    out = [(name, "table") for name in load_registry() if present.get(name) == "BASE TABLE"]
    out += [(name, "view") for name, view in load_views().items()
            if (view.release if release else view.export) and present.get(name) == "VIEW"]
    return out


def _select_item(name: str, dtype: str, fmt: str) -> str:
    """How a column is written: DECIMAL and HUGEINT as the tools' plain numbers; lists as text in CSV."""
    t, ref = dtype.upper(), f't."{name}"'
    if t.startswith("DECIMAL"):
        return f'CAST({ref} AS DOUBLE) AS "{name}"'
    if t == "HUGEINT":
        return f'CAST({ref} AS BIGINT) AS "{name}"'
    if fmt == "csv" and t.endswith("[]"):
        return f'array_to_string({ref}, \'; \') AS "{name}"'
    return ref


def export_query(con, name: str, fmt: str = "parquet") -> tuple[str, bool]:
    """The SELECT that exports dataset `name`, and whether it has a `year` to split files by.
    A rollup view is read from its `out_` table, which every build refreshes (the same rows,
    without aggregating every cell again)."""
    cols = _columns(con, name)
    names = [c for c, _ in cols]
    items = ", ".join(_select_item(c, d, fmt) for c, d in cols)
    source = _materialised(con, name, names) or name
    if "year" in names:
        return f"SELECT {items} FROM {source} t", True
    if "report_id" in names and name != "reports":
        return (f"SELECT {items}, r.year FROM {source} t LEFT JOIN reports r ON r.report_id = t.report_id", True)
    return f"SELECT {items} FROM {source} t", False


def _materialised(con, name: str, names: list[str]) -> str | None:
    from gknb.warehouse.rollups import MATERIALISED_VIEWS

    table = f"out_{name}"
    if name not in MATERIALISED_VIEWS or [c for c, _ in _columns(con, table)] != names:
        return None  # not materialised, or an out_ table older than its view: the view itself
    return table


def export(db: Path | str, out_dir: Path | str | None = None, fmt: str = "parquet", *,
           release: bool = False) -> dict[str, int]:
    """Write every dataset of the warehouse under `out_dir` (default: the data directory's
    export/) with its datapackage.json; rows written per dataset. `release`: the datasets of a
    release (the views marked `release: false` left out)."""
    from gknb.paths import default_export_dir

    if fmt not in FORMATS:
        raise WarehouseError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    out_dir = Path(out_dir) if out_dir is not None else default_export_dir()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"{out_dir}: cannot create the export folder: {exc.strerror or exc}") from exc
    from gknb.warehouse.publish import remove_stale, unique_temp

    remove_stale(out_dir, "export")  # a killed export's staging folder
    remove_stale(out_dir, None, "old")
    staging = unique_temp(out_dir / "export")
    con = connect_readonly(db)
    # Bounded like the loader (past the cap DuckDB spills); without insertion order a COPY needs
    # no buffer to keep rows in the view's order.
    con.execute(f"SET memory_limit = '{EXPORT_MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = false")
    written: dict[str, int] = {}
    resources = []
    try:
        staging.mkdir()
        for name, kind in datasets(con, release):
            rows, files, fields = _write_dataset(con, name, staging, fmt)
            written[name] = rows
            resources.append(_resource(name, kind, files, fields, rows, fmt))
        _write_json(staging / "datapackage.json", _package(resources, db))
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        import duckdb

        if isinstance(exc, (duckdb.Error, OSError)):
            raise WarehouseError(f"{out_dir}: export failed: {exc}".splitlines()[0]) from exc
        raise
    finally:
        con.close()
    _swap_in(staging, out_dir)
    return written


def export_parquet(db: Path | str, out_dir: Path | str) -> dict[str, int]:
    """The Parquet export (`gknb export --format parquet`)."""
    return export(db, out_dir, "parquet")


def _write_dataset(con, name: str, staging: Path, fmt: str) -> tuple[int, list[str], list[tuple[str, str]]]:
    """Write one dataset; (rows, its files relative to the export folder, its (column, type))."""
    query, by_year = export_query(con, name, fmt)
    fields = _describe_query(con, query)
    if fmt == "csv":
        target = staging / f"{name}.csv"
        raw = staging / f".{name}.csv.nobom"
        rows = con.execute(f"COPY ({query}) TO '{_sql_path(raw)}' (FORMAT csv, HEADER true)").fetchone()[0]
        with target.open("wb") as out, raw.open("rb") as src:  # Excel reads UTF-8 Chinese only with a BOM
            out.write(BOM)
            shutil.copyfileobj(src, out, 1 << 20)
        raw.unlink()
        return rows, [target.name], fields
    folder = staging / name
    folder.mkdir()
    if by_year:
        rows, files = _write_by_year(con, name, query, folder)
    else:
        path = folder / f"{name}.parquet"
        rows = con.execute(f"COPY ({query}) TO '{_sql_path(path)}' (FORMAT parquet)").fetchone()[0]
        files = [f"{name}/{path.name}"]
    return rows, files, fields


def _write_by_year(con, name: str, query: str, folder: Path) -> tuple[int, list[str]]:
    """One file per reporting year from one pass over the query (a view over every cell is
    evaluated once, not once per year): DuckDB writes Hive partitions into a scratch folder, whose
    files are then renamed to `<dataset>-<year>.parquet` (`-no-year` for rows without one)."""
    scratch = folder / ".partitions"
    # Each open partition buffers a row group per thread in memory, which cannot spill: smaller row
    # groups keep every year's writer inside the export's memory cap (the default 122,880 rows
    # ran out of 512 MB on 30 M cells).
    rows = con.execute(f"COPY ({query}) TO '{_sql_path(scratch)}' (FORMAT parquet, PARTITION_BY (year), "
                       f"WRITE_PARTITION_COLUMNS true, ROW_GROUP_SIZE {PARTITION_ROW_GROUP})").fetchone()[0]
    labelled = []
    for part in scratch.iterdir() if scratch.exists() else ():
        value = part.name.split("=", 1)[1]
        label = NO_YEAR if value == "__HIVE_DEFAULT_PARTITION__" else value
        labelled.append((label == NO_YEAR, int(label) if label != NO_YEAR else 0, label, sorted(part.glob("*.parquet"))))
    files = []
    for _, _, label, parts in sorted(labelled):  # years in order, no-year last
        for k, data in enumerate(parts):
            path = folder / (f"{name}-{label}.parquet" if len(parts) == 1 else f"{name}-{label}-{k}.parquet")
            data.rename(path)
            files.append(f"{name}/{path.name}")
    shutil.rmtree(scratch, ignore_errors=True)
    if not files:  # an empty dataset still gets a file, so its columns can be read
        path = folder / f"{name}.parquet"
        con.execute(f"COPY ({query}) TO '{_sql_path(path)}' (FORMAT parquet)")
        files.append(f"{name}/{path.name}")
    return rows, files


_FRICTIONLESS = (  # DuckDB type prefix -> Frictionless Table Schema type
    ("BOOLEAN", "boolean"), ("TINYINT", "integer"), ("SMALLINT", "integer"), ("INTEGER", "integer"),
    ("BIGINT", "integer"), ("HUGEINT", "integer"), ("UBIGINT", "integer"), ("UINTEGER", "integer"),
    ("DOUBLE", "number"), ("FLOAT", "number"), ("DECIMAL", "number"), ("DATE", "date"),
    ("TIMESTAMP", "datetime"), ("VARCHAR", "string"),
)


def frictionless_type(duckdb_type: str, fmt: str = "parquet") -> str:
    t = duckdb_type.upper()
    if t.endswith("[]"):
        return "string" if fmt == "csv" else "array"
    return next((f for prefix, f in _FRICTIONLESS if t.startswith(prefix)), "any")


def _resource(name: str, kind: str, files: list[str], fields: list[tuple[str, str]], rows: int, fmt: str) -> dict:
    from gknb.warehouse.registry import describe, load_registry

    description, column_docs = describe(name) or ("", {})
    units = _units(name)
    schema_fields = []
    for cname, ctype in fields:
        field = {"name": cname, "type": frictionless_type(ctype, fmt),
                 "description": column_docs.get(cname) or (YEAR_ADDED if cname == "year" else "")}
        if units.get(cname):
            field["unit"] = units[cname]
        schema_fields.append(field)
    schema: dict = {"fields": schema_fields}
    table = load_registry().get(name)
    if table is not None and table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    resource = {
        "name": name.replace("_", "-"),
        "title": name,
        "description": description,
        "gknb_kind": kind,
        "path": files if len(files) > 1 else files[0],
        "format": fmt,
        "mediatype": "application/vnd.apache.parquet" if fmt == "parquet" else "text/csv",
        "rows": rows,
        "schema": schema,
    }
    if fmt == "csv":  # with a byte-order mark, which Excel needs and pandas and polars skip
        resource["encoding"] = "utf-8"
        resource["dialect"] = {"delimiter": ",", "header": True}
    return resource


def _units(name: str) -> dict[str, str]:
    from gknb.warehouse.registry import load_registry, load_views

    obj = load_registry().get(name) or load_views().get(name)
    return {c.name: c.unit for c in obj.columns if c.unit} if obj is not None else {}


def _package(resources: list[dict], db) -> dict:
    from gknb import __version__

    return {
        "profile": "data-package",
        "name": "gknb-warehouse",
        "title": "gknb: government information-disclosure annual reports (政府信息公开工作年度报告)",
        "description": ("Tables, views and rollups of the gknb warehouse. Counts are integers; amounts "
                        "(万元) and cells.value are floating point; ratios are 0..1. Column units: "
                        "count, 10k_yuan (万元), ratio, year, seconds, bytes."),
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "gknb_version": __version__,
        "source_warehouse": Path(db).name,
        "resources": resources,
    }


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Move each staged dataset over its previous export (renames: quick and whole per dataset),
    then the datapackage.json that lists them."""
    entries = sorted(staging.iterdir(), key=lambda p: p.name == "datapackage.json")
    for entry in entries:
        target = out_dir / entry.name
        old = out_dir / f".{entry.name}.old-{os.getpid()}"
        if target.exists():
            target.rename(old)
        entry.rename(target)
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        elif old.exists():
            old.unlink()
    staging.rmdir()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
