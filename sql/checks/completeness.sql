-- Completeness, per report and section: the cells the template has (expected) against the cells
-- the report prints (observed). Printed means a value, blank or nil — or a missing cell whose raw
-- text is kept (printed but not settled: the `unsettled` check's, not counted here). Where a
-- report prints the 2021 variant row, the sub-rows it stands in for (q_variants, from
-- schemas/template_structure.yaml) count as printed in that column. `page` is the last page the
-- section was seen on: where a truncated table breaks off.
WITH variant_printed AS (
    SELECT c.report_id, c.section, v.replaces AS row_key, c.col_key
    FROM q_cells c
    JOIN q_variants v ON v.template = c.template AND v.section = c.section AND v.row_key = c.row_key
    WHERE c.status <> 'missing'
),
cells_in AS (
    SELECT c.report_id, c.section, c.row_key, c.col_key, c.page,
           c.status <> 'missing' OR coalesce(trim(c.raw), '') <> '' OR vp.report_id IS NOT NULL AS present
    FROM q_cells c
    SEMI JOIN q_scope s ON s.report_id = c.report_id
    JOIN q_catalog k ON k.template = c.template AND k.section = c.section
     AND k.row_key = c.row_key AND k.col_key = c.col_key AND k.role = 'cell'
    LEFT JOIN variant_printed vp ON vp.report_id = c.report_id AND vp.section = c.section
     AND vp.row_key = c.row_key AND vp.col_key = c.col_key
),
expected AS (
    SELECT template, section, count(*) AS expected
    FROM q_catalog WHERE role = 'cell' GROUP BY template, section
),
per_section AS (
    SELECT report_id, section, count(*) FILTER (WHERE present) AS observed,
           max(page) FILTER (WHERE present) AS page
    FROM cells_in GROUP BY report_id, section
),
grid AS (
    SELECT g.report_id, g.template, e.section, e.expected, coalesce(p.observed, 0) AS observed, p.page
    FROM q_grid_reports g
    SEMI JOIN q_scope s ON s.report_id = g.report_id
    JOIN expected e ON e.template = g.template
    LEFT JOIN per_section p ON p.report_id = g.report_id AND p.section = e.section
),
missing_rows AS (  -- only for the sections that lack cells: which rows
    SELECT s.report_id, s.section, string_agg(DISTINCT k.row_key, ', ' ORDER BY k.row_key) AS missing_list
    FROM grid s
    JOIN q_catalog k ON k.template = s.template AND k.section = s.section AND k.role = 'cell'
    LEFT JOIN cells_in c ON c.report_id = s.report_id AND c.section = k.section
     AND c.row_key = k.row_key AND c.col_key = k.col_key
    WHERE s.observed < s.expected AND NOT coalesce(c.present, FALSE)
    GROUP BY s.report_id, s.section
)
SELECT g.report_id, g.section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       g.expected, g.observed, g.page, g.expected - g.observed AS missing,
       CASE WHEN g.observed = 0 THEN 'the whole section' ELSE 'rows ' || m.missing_list END AS missing_rows
FROM grid g
LEFT JOIN missing_rows m ON m.report_id = g.report_id AND m.section = g.section
