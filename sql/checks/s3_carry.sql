-- S3.carry, per report and request-table column: this year's carried_over (observed) = the same
-- agency's carried_forward in last year's current report (expected). Both cells present.
SELECT cur.report_id, 'carried_over' AS row_key, cur.col_key,
       prev.num AS expected, cur.num AS observed, cur.page,
       cur.col_label, a.year, a.year - 1 AS prev_year, prev.report_id AS prev_report_id
FROM q_agency_years a
JOIN q_agency_years b ON b.agency_key = a.agency_key AND b.year = a.year - 1
JOIN q_grid cur ON cur.report_id = a.report_id AND cur.section = 3 AND cur.row_key = 'carried_over'
JOIN q_grid prev ON prev.report_id = b.report_id AND prev.section = 3
 AND prev.row_key = 'carried_forward' AND prev.col_key = cur.col_key
WHERE a.agency_key IS NOT NULL AND cur.status <> 'missing' AND prev.status <> 'missing'
ORDER BY cur.report_id, cur.col_key;
