-- Unsettled, per report and row: cells printed but not read — status missing with the printed
-- text kept in raw (digits run together, an OCR digit marked [unreadable: …], a row the matcher
-- could not place). A cause `extraction` finding: the report may be right. Cells an extractor
-- warning hands to `domain` or `unit` are left to those checks.
WITH unsettled AS (
    SELECT g.report_id, k.template, k.section, k.row_key, k.col_key, c.page, c.raw
    FROM q_cellnum c
    JOIN q_cat k ON k.tk = c.tk
    JOIN q_grid_reports g ON g.rn = c.rn
    ANTI JOIN q_warning_flags f ON f.report_id = g.report_id AND f.section = k.section
     AND f.row_key = k.row_key AND f.col_key = k.col_key
    WHERE c.sc AND c.st = 4
)
SELECT u.report_id, u.section, u.row_key,
       CASE WHEN count(*) = 1 THEN any_value(u.col_key) END AS col_key,
       NULL::VARCHAR AS expected,
       left(string_agg(DISTINCT u.raw, ' | ' ORDER BY u.raw), 200) AS observed,
       min(u.page) AS page, count(*) AS cells, any_value(k.row_label) AS row_label
FROM unsettled u
LEFT JOIN q_cat k ON k.template = u.template AND k.section = u.section
 AND k.row_key = u.row_key AND k.col_key = u.col_key
GROUP BY u.report_id, u.section, u.row_key
