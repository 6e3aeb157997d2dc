-- S3.carry, per report and request-table column: this year's $this_year_row (carried_over,
-- observed) = the same agency's $last_year_row (carried_forward) in last year's current report
-- (expected). Both cells present.
SELECT a.report_id, cur.section, cur.row_key, cur.col_key,
       prev.num AS expected, cur.num AS observed, cur.page,
       k.col_label, a.year, a.year - 1 AS prev_year, b.report_id AS prev_report_id
FROM q_agency_years a
JOIN q_agency_years b ON b.agency_key = a.agency_key AND b.year = a.year - 1
JOIN q_cells cur ON cur.report_id = a.report_id AND cur.section = $section AND cur.row_key = $this_year_row
JOIN q_cells prev ON prev.report_id = b.report_id AND prev.section = $section
 AND prev.row_key = $last_year_row AND prev.col_key = cur.col_key
LEFT JOIN q_catalog k ON k.template = cur.template AND k.section = cur.section
 AND k.row_key = cur.row_key AND k.col_key = cur.col_key
WHERE a.agency_key IS NOT NULL AND cur.num IS NOT NULL AND prev.num IS NOT NULL
