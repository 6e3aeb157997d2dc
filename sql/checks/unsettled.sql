-- Unsettled, per report and row: cells printed but not read — status missing with the printed
-- text kept in raw (digits run together, an OCR digit marked [unreadable: …], a row the matcher
-- could not place). A cause `extraction` finding: the report may be right. Cells an extractor
-- warning hands to `domain` or `unit` are left to those checks.
WITH unsettled AS (
    SELECT c.report_id, c.template, c.section, c.row_key, c.col_key, trim(c.raw) AS raw, c.page
    FROM q_cells c
    SEMI JOIN q_scope s ON s.report_id = c.report_id
    ANTI JOIN q_warning_flags f ON f.report_id = c.report_id AND f.section = c.section
     AND f.row_key = c.row_key AND f.col_key = c.col_key
    WHERE c.status = 'missing' AND coalesce(trim(c.raw), '') <> ''
)
SELECT u.report_id, u.section, u.row_key,
       CASE WHEN count(*) = 1 THEN any_value(u.col_key) END AS col_key,
       NULL::VARCHAR AS expected,
       left(string_agg(DISTINCT u.raw, ' | ' ORDER BY u.raw), 200) AS observed,
       min(u.page) AS page, count(*) AS cells, any_value(k.row_label) AS row_label
FROM unsettled u
LEFT JOIN q_catalog k ON k.template = u.template AND k.section = u.section
 AND k.row_key = u.row_key AND k.col_key = u.col_key
GROUP BY u.report_id, u.section, u.row_key
