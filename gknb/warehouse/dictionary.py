"""The data dictionary as a Markdown page (`gknb dictionary`, committed as docs/dictionary.md).

Everything comes from the registry (schemas/tables, schemas/views), the catalog and the crosswalk,
through an empty in-memory warehouse built by `create_all`, so the page states exactly what the
database holds (view column types included) and what `COMMENT ON` wrote into it. The output has no
timestamp: the same registry gives the same page (tests/test_dictionary.py checks the committed one).
"""

from __future__ import annotations

UNIT_WORDS = {
    "count": "a number of things (件, 个, reports), an integer",
    "10k_yuan": "万元 (10,000 yuan), floating point",
    "ratio": "a ratio: 0.25 is a quarter (never a percentage)",
    "percent": "a percentage: 25 is a quarter",
    "year": "a calendar year",
    "days": "days",
    "seconds": "seconds",
    "bytes": "bytes",
}
VALUE_TYPE_UNITS = {"count": "count", "signed_count": "count", "amount_10k_yuan": "10k_yuan"}


def _cell(text) -> str:
    return "" if text is None else " ".join(str(text).split()).replace("|", "\\|")


def render_dictionary() -> str:
    import duckdb

    from gknb.warehouse.registry import load_registry, load_views
    from gknb.warehouse.schema import create_all

    con = duckdb.connect()
    try:
        create_all(con)
        types = {(t, c): d for t, c, d in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main'").fetchall()}
        crosswalk = con.execute(
            "SELECT x.template, x.row_key, t.row_label, x.col_key, t.col_label, x.measure, x.comparable, "
            "t.value_type, x.note FROM cell_crosswalk x JOIN template_cells t USING (template, section, row_key, col_key) "
            "WHERE x.section = 2 ORDER BY t.position, x.template").fetchall()
        only_one = con.execute(
            "SELECT x.template, x.section, x.row_key, t.row_label, count(*) FROM cell_crosswalk x "
            "JOIN template_cells t USING (template, section, row_key, col_key) "
            "WHERE x.section IN (3, 4) AND NOT x.comparable GROUP BY ALL ORDER BY ALL").fetchall()
        value_types = con.execute(
            "SELECT value_type, section, count(*) FROM template_cells WHERE role = 'cell' "
            "GROUP BY ALL ORDER BY section, value_type").fetchall()
    finally:
        con.close()
    tables, views = load_registry(), load_views()
    out = [
        "# Data dictionary",
        "",
        "Generated from the registry (`schemas/tables/*.yaml`, `schemas/views/*.yaml`), the template",
        "catalog and `schemas/cell_crosswalk.csv` by `gknb dictionary --out docs/dictionary.md`; do not",
        "edit by hand (tests/test_dictionary.py fails when this page is not current). The same",
        "descriptions are in the database: `SELECT table_name, column_name, comment FROM duckdb_columns()`.",
        "",
        "## Units",
        "",
        "| unit | meaning |",
        "| --- | --- |",
    ]
    out += [f"| `{u}` | {w} |" for u, w in UNIT_WORDS.items()]
    out += [
        "",
        "Cells carry their unit in `value_type` (template_cells, v_cells): "
        + ", ".join(f"`{vt}` ({n} cells in section {s})" for vt, s, n in value_types) + ". "
        "`count` and `signed_count` are counts (`signed_count`: 本年增/减, may be negative); "
        "`amount_10k_yuan` is 万元. In the export, `cells.value` and `v_cells.value` are floating point.",
        "",
        "## Tables",
        "",
    ]
    for t in tables.values():
        out += [f"### `{t.name}` ({t.layer})", "", _cell(t.description), ""]
        if t.primary_key:
            out += [f"Key: {', '.join(f'`{c}`' for c in t.primary_key)}.", ""]
        out += ["| column | type | nullable | unit | description |", "| --- | --- | --- | --- | --- |"]
        out += [f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {c.unit or ''} | {_cell(c.description)} |"
                for c in t.columns]
        out.append("")
    out += ["## Views", "",
            "Views are rebuilt by every build; those marked *materialised* are also kept as the table",
            "`out_<view>` with the same columns. Every view except `v_cells_history` is in the export.",
            ""]
    for v in views.values():
        flags = [w for w, on in (("materialised", v.materialised), ("not exported", not v.export)) if on]
        out += [f"### `{v.name}`" + (f" ({', '.join(flags)})" if flags else ""), "", _cell(v.description), "",
                "| column | type | unit | description |", "| --- | --- | --- | --- |"]
        out += [f"| `{c.name}` | {types.get((v.name, c.name), '')} | {c.unit or ''} | {_cell(c.description)} |"
                for c in v.columns]
        out.append("")
    out += [
        "## The 2019 ↔ 2021 crosswalk",
        "",
        "Sections 3 and 4 use the same row and column keys in both templates and map to themselves;",
        "only these rows exist in one template alone:",
        "",
        "| template | section | row_key | row label | cells |",
        "| --- | --- | --- | --- | --- |",
    ]
    out += [f"| {tp} | {s} | `{rk}` | {_cell(rl)} | {n} |" for tp, s, rk, rl, n in only_one]
    out += [
        "",
        "Section 2 changed between the templates; each cell maps to a harmonised `measure`, and",
        "`comparable` says whether the measure means the same in both (so a 2020 → 2021 change is real).",
        "",
        "| template | row_key | row label | col_key | column label | measure | comparable | unit | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    out += [f"| {tp} | `{rk}` | {_cell(rl)} | `{ck}` | {_cell(cl)} | `{m}` | {'yes' if cmp else 'no'} | "
            f"{VALUE_TYPE_UNITS.get(vt, vt)} | {_cell(note)} |"
            for tp, rk, rl, ck, cl, m, cmp, vt, note in crosswalk]
    out.append("")
    return "\n".join(out)
