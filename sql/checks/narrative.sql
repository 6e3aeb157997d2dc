-- Narrative: the request count the text states (expected) against the table's new_requests 总计
-- (observed), where both are known.
SELECT r.report_id, 'new_requests' AS row_key, 'total' AS col_key,
       CAST(r.narrative_requests AS DOUBLE) AS expected, g.num AS observed, g.page
FROM q_reports r
JOIN q_grid g ON g.report_id = r.report_id AND g.section = 3
 AND g.row_key = 'new_requests' AND g.col_key = 'total'
WHERE r.narrative_requests IS NOT NULL AND g.status <> 'missing'
ORDER BY r.report_id;
