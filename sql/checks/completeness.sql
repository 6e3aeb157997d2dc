-- Completeness, per report and section: the cells the template has (expected) against the cells
-- the report prints (observed). Printed means a value, blank or nil — or a missing cell whose raw
-- text is kept (printed but not settled: the `unsettled` check's, not counted here). Where a
-- report prints the 2021 variant row, the sub-rows it stands in for (q_variants, from
-- schemas/template_structure.yaml) count as printed in that column. `page` is the last page the
-- section was seen on: where a truncated table breaks off. The section of a cell is
-- (tk // 10000) % 10 (see _prelude.sql).
WITH stand_in AS (  -- (report, sub-row cell) whose column prints the variant row
    SELECT c.rn, sub.tk
    FROM q_cellnum c
    JOIN q_cat k ON k.tk = c.tk
    JOIN q_variants v ON v.template = k.template AND v.section = k.section AND v.row_key = k.row_key
    JOIN q_cat sub ON sub.template = k.template AND sub.section = k.section
     AND sub.row_key = v.replaces AND sub.col_key = k.col_key
    WHERE c.sc AND NOT c.cell AND c.st IN (0, 1, 2)
),
counts AS (  -- the template's cells the report has, and the last page of a printed one
    SELECT rn, (tk // 10000) % 10 AS section, count(*) AS cells,
           max(page) FILTER (WHERE st <> 3) AS page
    FROM q_cellnum
    WHERE sc AND cell
    GROUP BY rn, (tk // 10000) % 10
),
unprinted AS (  -- cells not printed that no printed variant row stands in for
    SELECT c.rn, (c.tk // 10000) % 10 AS section, count(*) AS cells
    FROM q_cellnum c
    ANTI JOIN stand_in s ON s.rn = c.rn AND s.tk = c.tk
    WHERE c.sc AND c.cell AND c.st = 3
    GROUP BY c.rn, (c.tk // 10000) % 10
),
expected AS (
    SELECT template, section, count(*) AS expected
    FROM q_cat WHERE role = 'cell' GROUP BY template, section
),
grid AS (
    SELECT g.rn, g.report_id, g.template, e.section, e.expected,
           coalesce(n.cells, 0) - coalesce(u.cells, 0) AS observed, n.page
    FROM q_grid_reports g
    JOIN expected e ON e.template = g.template
    LEFT JOIN counts n ON n.rn = g.rn AND n.section = e.section
    LEFT JOIN unprinted u ON u.rn = g.rn AND u.section = e.section
    WHERE g.in_scope
),
short AS (SELECT * FROM grid WHERE observed < expected),
present AS (  -- the printed cells of the short sections' reports
    SELECT c.rn, c.tk FROM q_cellnum c SEMI JOIN short s ON s.rn = c.rn
    WHERE c.cell AND c.st <> 3
    UNION ALL
    SELECT s.rn, s.tk FROM stand_in s SEMI JOIN short USING (rn)
),
missing_rows AS (  -- only for the sections that lack cells: which rows
    SELECT s.rn, s.section, string_agg(DISTINCT k.row_key, ', ' ORDER BY k.row_key) AS missing_list
    FROM short s
    JOIN q_cat k ON k.template = s.template AND k.section = s.section AND k.role = 'cell'
    ANTI JOIN present p ON p.rn = s.rn AND p.tk = k.tk
    GROUP BY s.rn, s.section
)
SELECT g.report_id, g.section, NULL::VARCHAR AS row_key, NULL::VARCHAR AS col_key,
       g.expected, g.observed, g.page, g.expected - g.observed AS missing,
       CASE WHEN g.observed = 0 THEN 'the whole section' ELSE 'rows ' || m.missing_list END AS missing_rows
FROM grid g
LEFT JOIN missing_rows m ON m.rn = g.rn AND m.section = g.section
