-- Narrative: the request count the text states (expected) against the table's cell that counts
-- the same ($section/$row/$column: new_requests 总计) (observed), where both are known.
SELECT r.report_id, c.section, c.row_key, c.col_key,
       CAST(r.narrative_requests AS DOUBLE) AS expected, c.num AS observed, c.page
FROM q_reports r
JOIN q_cells c ON c.report_id = r.report_id AND c.section = $section
 AND c.row_key = $row AND c.col_key = $column
WHERE r.narrative_requests IS NOT NULL AND c.num IS NOT NULL
