"""A large warehouse, fast: rows written straight into DuckDB, for benchmarks at national scale.

Extracting 150,000 generated documents takes hours; the checks, the workbench and the exports only
need the warehouse. `build_synthetic_warehouse(db, reports, seed)` draws a few consistent reports
with `gknb.testing.synth.draw_report` (every identity holds, some cells printed 无, some 2021
reports printing the single （六）其他处理 row), and then writes `documents`, `reports` and `cells`
with one SQL statement each: report i copies base report `i mod B` of its template, scaled by a
per-report factor (identities are linear, so they still hold), and a deterministic share of
reports gets an injected defect (see INJECTED). 150,000 reports (~30 M cells) take a few minutes
on 2 cores.

The places are a national tree: 31 provinces, ~9 cities each, 10 districts per city, 10 agencies
per district (one of them the district government, agency_kind 区县政府), each agency reporting
for 2019–2024 with about one year in ten missing (gaps, and districts the hierarchy check can and
cannot compare). `change_synthetic_warehouse(db, fraction, seed)` publishes corrected versions of
a share of the current reports (new documents superseding old ones), as a nightly re-crawl would:
the "1% changed" of the incremental benchmarks.

Everything is deterministic in (reports, seed): DuckDB's `hash` of the report number and seed
decides base, scale and defects.
"""

from __future__ import annotations

import time
from pathlib import Path

# Share of reports (per mille) with each injected defect, and what it is. The bucket of a report
# is hash(i, seed) % 1000; buckets are disjoint, so a report carries at most one defect.
INJECTED: tuple[tuple[str, int, int, str], ...] = (
    ("s4_row_total", 0, 20, "行政复议 维持 +1: the row's 总计 no longer adds up (S4.row_total)"),
    ("s3_balance", 20, 30, "本年新收 +1 in 自然人 and 总计: S3.balance breaks in both columns"),
    ("truncated", 30, 40, "section 4 not printed: every cell missing (completeness)"),
    ("unsettled", 40, 50, "行政许可 row printed as run-together digits, not settled (unsettled)"),
    ("negative", 50, 55, "a count printed negative (domain)"),
    ("domain_warning", 55, 60, "a count above the ceiling kept in raw with a `domain:` warning"),
    ("unit_warning", 60, 65, "an amount flagged by the extractor with a `unit:` warning"),
    ("late", 65, 95, "published in February (timeliness)"),
    ("carry", 95, 105, "上年结转 +1 and 本年新收 -1: last year's 结转下年度 differs (S3.carry)"),
    ("unplaced", 105, 107, "the agency's place unknown (place)"),
    ("wrong_template", 107, 110, "the other year's table printed (template)"),
)
YEARS = tuple(range(2019, 2025))
AGENCIES_PER_DISTRICT = 10
DISTRICTS_PER_CITY = 10
BASES_PER_TEMPLATE = 8

PROVINCES = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市",
    "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省",
    "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省",
    "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
)
# Syllables for made-up city and district names (two each: 云川市, 安河区 ...).
SYLLABLES = "云川安河平山阳林江宁东西南北新城华泉临清丰远长兴永德明泰和福"
AGENCY_NAMES = (
    "人民政府", "民政局", "财政局", "教育局", "司法局", "交通运输局", "人力资源和社会保障局",
    "住房和城乡建设局", "市场监督管理局", "卫生健康委员会",
)


def _place_names(n: int, suffix: str, offset: int) -> list[str]:
    # unique for the first k*k numbers; beyond, a name recurs only in another city or province
    k = len(SYLLABLES)
    return [SYLLABLES[(i + offset) % k] + SYLLABLES[(i // k + offset) % k] + suffix for i in range(n)]


def _base_rows(seed: int) -> tuple[list[tuple], list[tuple]]:
    """(base reports, base cells): B consistent reports per template whose carry rows are 0, so that
    the same agency's years agree (S3.carry) whatever each year's scale."""
    from gknb.catalog import load_catalog
    from gknb.testing.synth import draw_report

    catalog = load_catalog()
    bases, cells = [], []
    for template in ("2019", "2021"):
        for b in range(BASES_PER_TEMPLATE):
            rep = draw_report(seed * 100 + b, template, quirks=True)
            for (section, row, col), v in list(rep.values.items()):
                if section == 3 and row in ("carried_over", "carried_forward"):
                    rep.values[(section, row, col)] = 0
            for (section, row, col) in list(rep.values):
                if section == 3 and row == "new_requests":
                    rep.values[(3, "new_requests", col)] = rep.values[(3, "total_processed", col)]
            base_id = f"{template}-{b}"
            bases.append((base_id, template))
            pages = {2: 2, 3: 3, 4: 4}
            for cell in rep.cells():
                c = catalog.get(template, cell.section, cell.row_key, cell.col_key)
                cells.append((base_id, template, cell.section, c.item, cell.row_key, cell.col_key,
                              c.value_type, cell.status,
                              None if cell.value is None else float(cell.value),
                              cell.raw, pages[cell.section] if cell.status != "missing" else None))
    return bases, cells


def _kinds() -> list[tuple[int, str, str | None]]:
    """(agency number in its district, name suffix, agency_kind) as gknb classifies such a name."""
    from gknb.warehouse.agency import agency_kind

    return [(i, name, agency_kind("安河区" + name, "江苏省", "云川市", "安河区"))
            for i, name in enumerate(AGENCY_NAMES)]


def build_synthetic_warehouse(db: Path, reports: int, seed: int = 0) -> Path:
    """Writes a fresh warehouse at `db` with `reports` current reports (and their documents and
    cells), published atomically like any build; returns `db`. Deterministic in (reports, seed)."""
    import pyarrow as pa

    from gknb.warehouse.publish import building

    db = Path(db)
    bases, base_cells = _base_rows(seed)
    kinds = _kinds()
    years = len(YEARS)
    # agency-year slots, about 9 in 10 kept: enough agencies for `reports` kept slots
    agencies = reports * 10 // (8 * years) + 2
    districts = agencies // AGENCIES_PER_DISTRICT + 1
    cities = districts // DISTRICTS_PER_CITY + 1
    city_names = _place_names(cities, "市", 3)
    district_names = _place_names(districts, "区", 11)
    started = time.perf_counter()
    with building(db, fresh=True) as con:
        con.execute("SET preserve_insertion_order = false")
        con.register("syn_base_cells_in", pa.table(list(zip(*base_cells)), names=[
            "base_id", "template", "section", "item", "row_key", "col_key", "value_type", "status",
            "value", "raw", "page"]))
        con.execute("CREATE TEMP TABLE syn_base_cells AS SELECT * FROM syn_base_cells_in")
        con.unregister("syn_base_cells_in")
        con.execute("CREATE TEMP TABLE syn_kinds (k INTEGER, suffix VARCHAR, kind VARCHAR)")
        con.executemany("INSERT INTO syn_kinds VALUES (?, ?, ?)", kinds)
        con.execute("CREATE TEMP TABLE syn_provinces AS SELECT unnest(?) AS name, "
                    "generate_subscripts(?, 1) - 1 AS p", [list(PROVINCES), list(PROVINCES)])
        con.execute("CREATE TEMP TABLE syn_cities AS SELECT unnest(?) AS name, "
                    "generate_subscripts(?, 1) - 1 AS c", [city_names, city_names])
        con.execute("CREATE TEMP TABLE syn_districts AS SELECT unnest(?) AS name, "
                    "generate_subscripts(?, 1) - 1 AS d", [district_names, district_names])
        defect = " ".join(f"WHEN h >= {lo} AND h < {hi} THEN '{name}'" for name, lo, hi, _ in INJECTED)
        con.execute(f"""
        CREATE TEMP TABLE syn_plan AS
        WITH slots AS (
            SELECT s, s // {years} AS a, {YEARS[0]} + s % {years} AS year
            FROM range({agencies * years}) t(s)
            WHERE hash(s, {seed}, 'keep') % 10 <> 0
            ORDER BY s
            LIMIT {reports}
        ),
        numbered AS (
            SELECT row_number() OVER (ORDER BY s) - 1 AS i, * FROM slots
        ),
        placed AS (
            SELECT n.*, (hash(i, {seed}, 'defect') % 1000)::BIGINT AS h,
                   a // {AGENCIES_PER_DISTRICT} AS d, a % {AGENCIES_PER_DISTRICT} AS k
            FROM numbered n
        )
        SELECT i, year, a, placed.k, h,
               CASE {defect} END AS defect,
               CASE WHEN (year >= 2021) <> (h >= 107 AND h < 110) THEN '2021' ELSE '2019' END AS template,
               1 + (hash(i, {seed}, 'scale') % 4)::BIGINT AS scale,
               (hash(i, {seed}, 'base') % {BASES_PER_TEMPLATE})::BIGINT AS b,
               p.name AS province, c.name AS city, dd.name AS district,
               dd.name || kn.suffix AS agency, kn.kind AS agency_kind,
               CASE WHEN h >= 105 AND h < 107 THEN '|||' || dd.name || kn.suffix
                    ELSE p.name || '|' || c.name || '|' || dd.name || '|' || kn.suffix END AS agency_key,
               'r' || substr(md5(concat('synthetic-report', {seed}, '-', i)), 1, 16) AS report_id,
               substr(md5(concat('synthetic-doc', {seed}, '-', i)), 1, 16) AS document_id,
               md5(concat('sha-a', {seed}, '-', i)) || md5(concat('sha-b', {seed}, '-', i)) AS sha256,
               ['pdf', 'html', 'docx', 'text'][1 + (hash(i, {seed}, 'format') % 4)::BIGINT] AS format
        FROM placed
        JOIN syn_districts dd ON dd.d = placed.d
        JOIN syn_cities c ON c.c = placed.d // {DISTRICTS_PER_CITY}
        JOIN syn_provinces p ON p.p = (placed.d // {DISTRICTS_PER_CITY}) % {len(PROVINCES)}
        JOIN syn_kinds kn ON kn.k = placed.k
        """)
        _insert_rows(con, seed)
        con.execute("DROP TABLE syn_plan")
        _refresh_rollups(con)
    _log(f"synthetic warehouse: {reports} reports in {time.perf_counter() - started:.1f} s -> {db}")
    return db


def _insert_rows(con, seed: int, *, run_id: str = "synthetic", supersede: bool = False) -> None:
    """documents, reports and cells of the plan in `syn_plan` (columns as built above)."""
    con.execute(f"""
    INSERT INTO documents (document_id, source_path, url, sha256, size, format, status, reason,
                           reason_kind, fetched_at, http_status, etag, last_modified, first_seen,
                           report_id, run_id)
    SELECT document_id,
           '/synthetic/' || province || '/' || agency || '_' || year || '.' ||
             CASE format WHEN 'text' THEN 'txt' ELSE format END,
           NULL, sha256, 20000 + (hash(i, {seed}, 'size') % 200000)::BIGINT, format, 'loaded', NULL, NULL,
           NULL, NULL, NULL, NULL, now()::TIMESTAMP, report_id, '{run_id}'
    FROM syn_plan
    """)
    seq = con.execute("SELECT coalesce(max(load_seq), 0) FROM reports").fetchone()[0]
    con.execute(f"""
    INSERT INTO reports (report_id, agency, agency_kind, agency_key, year, template, province, city,
                         district, adcode, published, format, pages, document_id, superseded_by,
                         is_current, narrative_requests, warnings, cells_missing, load_seq, loaded_at)
    SELECT report_id, agency, agency_kind,
           agency_key,
           year, template,
           CASE WHEN defect = 'unplaced' THEN NULL ELSE province END,
           CASE WHEN defect = 'unplaced' THEN NULL ELSE city END,
           CASE WHEN defect = 'unplaced' THEN NULL ELSE district END,
           NULL,
           make_date(year + 1, CASE WHEN defect = 'late' THEN 2 ELSE 1 END,
                     CASE WHEN defect = 'late' THEN 1 + (hash(i, 'late') % 27)::BIGINT ELSE 10 + (hash(i, 'day') % 22)::BIGINT END),
           format, 5, document_id, NULL, TRUE, NULL,
           CASE defect
             WHEN 'unsettled' THEN ['webtext: admin_licensing: ''行政许可51037'' cannot be split; cells missing']
             WHEN 'domain_warning' THEN ['domain: 3/new_requests/natural_person: 98765432101 is above the ceiling for a count; kept in raw']
             WHEN 'unit_warning' THEN ['unit: 2/' || CASE template WHEN '2021' THEN 'admin_fees' ELSE 'gov_procurement' END
                                       || '/amount: 4253521.2 has no unit and is implausible in 万元']
             ELSE []::VARCHAR[] END,
           0, {seq} + i + 1, now()::TIMESTAMP
    FROM syn_plan
    """)
    con.execute(f"""
    INSERT INTO cells (report_id, section, item, row_key, col_key, status, value, raw, page, confidence)
    WITH grid AS (
        SELECT p.report_id, p.defect, p.scale, p.i, b.*
        FROM syn_plan p
        JOIN syn_base_cells b ON b.template = p.template
         AND b.base_id = p.template || '-' || p.b
    ),
    shaped AS (
        SELECT report_id, section, item, row_key, col_key, value_type, page,
               CASE
                 WHEN defect = 'truncated' AND section = 4 THEN 'missing'
                 WHEN defect = 'unsettled' AND section = 2 AND row_key = 'admin_licensing' THEN 'missing'
                 WHEN defect = 'domain_warning' AND section = 3 AND row_key = 'new_requests'
                      AND col_key = 'natural_person' THEN 'missing'
                 ELSE status END AS status,
               CASE WHEN status <> 'value' THEN NULL
                    ELSE value * scale
                       + CASE WHEN defect = 's4_row_total' AND section = 4 AND row_key = 'admin_review'
                                   AND col_key = 'upheld' THEN 1
                              WHEN defect = 's3_balance' AND section = 3 AND row_key = 'new_requests'
                                   AND col_key IN ('natural_person', 'total') THEN 1
                              WHEN defect = 'carry' AND section = 3 AND row_key = 'carried_over'
                                   AND col_key IN ('natural_person', 'total') THEN 1
                              WHEN defect = 'carry' AND section = 3 AND row_key = 'new_requests'
                                   AND col_key IN ('natural_person', 'total') THEN -1
                              ELSE 0 END
                       - CASE WHEN defect = 'negative' AND section = 2 AND row_key = 'admin_penalty'
                                   AND col_key = 'decisions' THEN value * scale + 3
                              ELSE 0 END
               END AS value,
               status AS base_status, raw AS base_raw, defect
        FROM grid
    )
    SELECT report_id, section, item, row_key, col_key, status,
           CAST(CASE WHEN status = 'value' THEN value END AS DECIMAL(18,6)),
           CASE WHEN status = 'value' AND value_type = 'amount_10k_yuan' THEN printf('%.2f', value)
                WHEN status = 'value' THEN CAST(CAST(value AS BIGINT) AS VARCHAR)
                WHEN defect = 'unsettled' AND status = 'missing' AND section = 2 THEN '行政许可51037'
                WHEN defect = 'domain_warning' AND status = 'missing' AND section = 3 THEN '98765432101'
                WHEN status = 'missing' THEN NULL
                ELSE base_raw END,
           CASE WHEN status = 'missing' AND NOT (defect IN ('unsettled', 'domain_warning')
                                                 AND section IN (2, 3)) THEN NULL ELSE page END,
           NULL
    FROM shaped
    """)
    # cells_missing as the loader counts it: missing cells, less the 2021 sub-rows a printed
    # `other` row stands in for.
    con.execute("""
    UPDATE reports SET cells_missing = m.n
    FROM (
        SELECT c.report_id,
               count(*) FILTER (WHERE c.status = 'missing' AND NOT (c.row_key LIKE 'other\\_%' ESCAPE '\\'
                      AND o.report_id IS NOT NULL)) AS n
        FROM cells c
        JOIN syn_plan p ON p.report_id = c.report_id
        LEFT JOIN (SELECT DISTINCT report_id FROM cells WHERE row_key = 'other' AND status <> 'missing') o
          ON o.report_id = c.report_id
        GROUP BY c.report_id
    ) m
    WHERE reports.report_id = m.report_id
    """)


def change_synthetic_warehouse(db: Path, fraction: float = 0.01, seed: int = 1) -> int:
    """Publishes a corrected version of `fraction` of the current reports (a new document and
    report superseding the old one, values redrawn), as a nightly re-crawl finds them; returns the
    number of reports changed. Deterministic in (warehouse, fraction, seed)."""
    from gknb.warehouse.publish import building

    started = time.perf_counter()
    with building(Path(db)) as con:
        per_mille = max(1, round(fraction * 1000))
        con.execute(f"""
        CREATE TEMP TABLE syn_changed AS
        SELECT report_id AS old_id, row_number() OVER (ORDER BY report_id) - 1 AS j
        FROM reports
        WHERE is_current AND hash(report_id, {seed}, 'change') % 1000 < {per_mille}
        """)
        base = con.execute("SELECT coalesce(max(load_seq), 0) FROM reports").fetchone()[0]
        # The new versions: the same agency and year, redrawn base, scale and defect.
        con.execute(f"""
        CREATE TEMP TABLE syn_plan AS
        SELECT {base} + j AS i, r.year, 0 AS a, 0 AS k, (hash(r.report_id, {seed}, 'defect') % 1000)::BIGINT AS h,
               NULL::VARCHAR AS defect, CAST(r.template AS VARCHAR) AS template,
               1 + (hash(r.report_id, {seed}, 'scale') % 4)::BIGINT AS scale,
               (hash(r.report_id, {seed}, 'base') % {BASES_PER_TEMPLATE})::BIGINT AS b,
               r.province, r.city, r.district, r.agency, r.agency_kind, r.agency_key,
               'r' || substr(md5(concat('synthetic-change', {seed}, '-', r.report_id)), 1, 16) AS report_id,
               substr(md5(concat('synthetic-change-doc', {seed}, '-', r.report_id)), 1, 16) AS document_id,
               md5(concat('sha-c', {seed}, '-', r.report_id)) || md5(concat('sha-d', {seed}, r.report_id)) AS sha256,
               r.format, r.report_id AS old_id
        FROM syn_changed s JOIN reports r ON r.report_id = s.old_id
        """)
        defect = " ".join(f"WHEN h >= {lo} AND h < {hi} THEN '{name}'" for name, lo, hi, _ in INJECTED
                          if name not in ("unplaced", "wrong_template"))
        con.execute(f"UPDATE syn_plan SET defect = CASE {defect} END")
        bases, base_cells = _base_rows(seed)
        import pyarrow as pa

        con.register("syn_base_cells_in", pa.table(list(zip(*base_cells)), names=[
            "base_id", "template", "section", "item", "row_key", "col_key", "value_type", "status",
            "value", "raw", "page"]))
        con.execute("CREATE TEMP TABLE syn_base_cells AS SELECT * FROM syn_base_cells_in")
        con.unregister("syn_base_cells_in")
        _insert_rows(con, seed, run_id=f"synthetic-change-{seed}")
        con.execute("""
        UPDATE reports SET is_current = FALSE, superseded_by = p.report_id
        FROM syn_plan p WHERE reports.report_id = p.old_id
        """)
        changed = con.execute("SELECT count(*) FROM syn_plan").fetchone()[0]
        con.execute("DROP TABLE syn_plan")
        _refresh_rollups(con)
    _log(f"synthetic change: {changed} reports superseded in {time.perf_counter() - started:.1f} s")
    return int(changed)


def _refresh_rollups(con) -> None:
    try:
        from gknb.warehouse.rollups import refresh_rollups
    except ImportError:  # the rollups module moved; the warehouse is complete without them
        return
    refresh_rollups(con)


def _log(message: str) -> None:
    import sys

    print(message, file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write a synthetic warehouse of N reports.")
    parser.add_argument("db", type=Path)
    parser.add_argument("reports", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--change", type=float, default=None,
                        help="instead: supersede this fraction of the current reports of DB")
    args = parser.parse_args(argv)
    if args.change is not None:
        change_synthetic_warehouse(args.db, args.change, args.seed)
    else:
        build_synthetic_warehouse(args.db, args.reports, args.seed)


if __name__ == "__main__":
    main()
