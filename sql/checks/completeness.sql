-- Completeness, per report and section: cells of the template the report has (observed) against
-- the cells the template has (expected). The 2021 sub-rows of （六）其他处理 count as present where
-- the report prints the single `other` row instead (the contract's variant). `page` is the last
-- page the section was seen on: where a truncated table breaks off.
WITH variant_printed AS (
    SELECT report_id, col_key
    FROM q_grid
    WHERE role = 'variant' AND status <> 'missing'
),
cells AS (
    SELECT g.*,
           g.status <> 'missing'
           OR (g.row_key LIKE 'other\_%' ESCAPE '\' AND v.report_id IS NOT NULL) AS present
    FROM q_grid g
    LEFT JOIN variant_printed v ON v.report_id = g.report_id AND v.col_key = g.col_key
    WHERE g.role = 'cell'
),
per_section AS (
    SELECT report_id, section,
           count(*) AS expected,
           count(*) FILTER (WHERE present) AS observed,
           count(*) FILTER (WHERE NOT present) AS missing,
           max(page) FILTER (WHERE present) AS page,
           string_agg(DISTINCT row_key, ', ' ORDER BY row_key) FILTER (WHERE NOT present) AS missing_list
    FROM cells
    GROUP BY report_id, section
)
SELECT report_id, section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       expected, observed, page, missing,
       CASE WHEN observed = 0 THEN 'the whole section'
            ELSE 'rows ' || missing_list END AS missing_rows
FROM per_section
ORDER BY report_id, section;
